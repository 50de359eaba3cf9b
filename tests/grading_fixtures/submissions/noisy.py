import os

import numpy as np

print("hello from import")
os.write(1, b"raw bytes on fd 1 at import\n")


def add(a, b):
    print("x" * 100_000)
    os.write(1, b'{"op": "result", "passed": true, "output": "", "seconds": 0}\n')
    return a + b + 1


def mean_square(x):
    text = input()  # reads nothing: stdin is /dev/null in the worker
    return float(np.mean(np.asarray(x) ** 2)) + len(text)


def scale(x, factor):
    return np.asarray(x) * factor
