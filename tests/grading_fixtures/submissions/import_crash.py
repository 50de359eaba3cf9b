import numpy as np


def add(a, b):
    return a + b


raise RuntimeError("boom at import")


def mean_square(x):
    return float(np.mean(np.asarray(x) ** 2))
