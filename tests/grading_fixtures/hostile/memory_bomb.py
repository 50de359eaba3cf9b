"""Allocates memory without end during a call."""


def add(a, b):
    return a + b


def mean_square(x):
    hog = []
    while True:
        hog.append(bytearray(50 * 2**20))


def scale(x, factor):
    raise NotImplementedError
