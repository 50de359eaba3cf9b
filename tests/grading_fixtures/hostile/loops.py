"""Every function loops forever."""


def add(a, b):
    while True:
        pass


def mean_square(x):
    while True:
        pass


def scale(x, factor):
    while True:
        pass
