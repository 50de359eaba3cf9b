"""Tries to reach the network (a UDP route and a TCP connection to the host's localhost)."""

import socket


def reach():
    found = []
    for fam, addr in (
        (socket.SOCK_DGRAM, ("192.0.2.1", 9)),
        (socket.SOCK_STREAM, ("127.0.0.1", 22)),
    ):
        s = socket.socket(socket.AF_INET, fam)
        s.settimeout(1)
        try:
            s.connect(addr)
            found.append(addr)
        except OSError:
            pass
        finally:
            s.close()
    return found


def add(a, b):
    return a + b if not reach() else f"network: {reach()}"


def mean_square(x):
    raise NotImplementedError


def scale(x, factor):
    raise NotImplementedError
