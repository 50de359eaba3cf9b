"""Floods stdout and stderr with gigabytes of output."""

import os
import sys

CHUNK = b"spam" * 2**18


def add(a, b):
    return a + b


def mean_square(x):
    for _ in range(2000):
        os.write(1, CHUNK)
        os.write(2, CHUNK)
    raise NotImplementedError


def scale(x, factor):
    for _ in range(2000):
        sys.stdout.write("x" * 2**20)
        sys.stderr.write("y" * 2**20)
    raise NotImplementedError
