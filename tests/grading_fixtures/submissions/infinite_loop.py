import numpy as np


def add(a, b):
    while True:
        pass


def mean_square(x):
    return float(np.mean(np.asarray(x) ** 2))


def scale(x, factor):
    return np.asarray(x) * factor
