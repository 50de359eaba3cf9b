"""Loading the MNIST and Fashion-MNIST image-classification data sets.

Both loaders return the same layout as Keras's ``load_data()``::

    (x_train, y_train), (x_test, y_test)
    x_train: uint8 [60000, 28, 28]  pixels 0..255     y_train: uint8 [60000]  labels 0..9
    x_test:  uint8 [10000, 28, 28]                    y_test:  uint8 [10000]

Where the data comes from (the first place that has it wins):

1. ``path=...`` if you pass one: an ``.npz`` file (keys ``x_train, y_train, x_test, y_test``),
   a folder with the four IDX files (``train-images-idx3-ubyte`` etc., plain or ``.gz``), or a
   folder laid out like step 2. A wrong ``path`` is an error; nothing else is tried.
2. The folder named by the environment variable ``$TFCOURSE_DATA``, laid out like Keras's cache:
   ``mnist.npz`` and ``fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz``.
3. Keras's own cache, ``$KERAS_HOME/datasets`` (``~/.keras/datasets`` by default), read by this
   module (Keras itself would reject a valid copy whose file hash differs from its own).
4. Only with ``download=True``: Keras downloads the data and caches it (needs the internet).

Corrupt-file policy: a damaged file given as ``path=`` raises :class:`DataError` at once. A
damaged file in steps 2-3 does not stop the search; if a later step succeeds you get a
``UserWarning`` about it, otherwise it is listed in the final :class:`DataError`, which names
every place tried and why it failed.

Reading and checking the files is :mod:`tfcourse.data.files`; scaling, flattening and
one-hot labels are :mod:`tfcourse.data.preprocess`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from tfcourse.data.files import (
    IDX_NAMES,
    KEYS,
    CorruptFile,
    Data,
    cache_layout,
    check_arrays,
    read_any,
)
from tfcourse.errors import ConfigError, DataError

DATASETS = ("mnist", "fashion_mnist")
PathLike = str | os.PathLike | None


def _keras_download(name: str) -> Data:
    """Keras's own loader (downloads into its cache); imported lazily because it is slow."""
    from keras import datasets

    return getattr(datasets, name).load_data()


def _load_path(path: str | os.PathLike, name: str) -> Data:
    """Step 1: an explicit ``path=``; every failure is an immediate DataError."""
    p = Path(path).expanduser()
    if not p.exists():
        what = "an existing .npz file or folder (with the IDX files or mnist.npz)"
        raise DataError(
            f"path={str(path)!r} does not exist. Pass {what}, or leave path=None to search "
            "$TFCOURSE_DATA and Keras's cache."
        ).for_cli(
            f"--data-path {str(path)!r} does not exist. Pass {what}, or leave out --data-path "
            "to search $TFCOURSE_DATA and Keras's cache."
        )
    try:
        found = read_any(p) or read_any(cache_layout(p, name))
    except CorruptFile as exc:
        raise DataError(str(exc)) from None
    if found is None:
        raise DataError(
            f"{p} holds neither the four IDX files ({', '.join(IDX_NAMES.values())}) "
            f"nor {cache_layout(p, name)}."
        )
    return found


def _places() -> list[tuple[str, Path | None]]:
    """Steps 2-3 of the search: (label, folder or None if unset), in order."""
    env = os.environ.get("TFCOURSE_DATA")
    keras_home = Path(os.environ.get("KERAS_HOME") or "~/.keras").expanduser()
    return [
        ("$TFCOURSE_DATA", Path(env).expanduser() if env else None),
        ("Keras cache", keras_home / "datasets"),
    ]


def data_source(name: str) -> str:
    """Where a search (no ``path``) would look first for data set ``name``, without reading it.

    Returns:
        e.g. ``"$TFCOURSE_DATA /data/mnist.npz"``, ``"Keras cache ~/.keras/datasets/..."`` or
        ``"not found (download on first use)"``; printed by ``tfcourse info``.
    """
    for label, folder in _places():
        if folder is None:
            continue
        target = cache_layout(folder, name)
        if target.is_file() or (target.is_dir() and any(target.glob("*-ubyte*"))):
            return f"{label} {target}"
    return "not found (Keras downloads it on first use; needs the internet)"


def _load(name: str, path: PathLike, download: bool) -> Data:
    if path is not None:
        return _load_path(path, name)
    tried: list[str] = []  # one line per place searched, for the final error
    corrupt: list[str] = []
    result = None
    for label, folder in _places():
        if folder is None:
            tried.append(f"{label}: not set")
            continue
        target = cache_layout(folder, name)
        try:
            result = read_any(target)
        except CorruptFile as exc:
            tried.append(f"{label} {target}: corrupt: {exc}")
            corrupt.append(str(exc))
            continue
        if result is not None:
            break
        tried.append(f"{label} {target}: not found")
    if result is None and download:
        try:
            (xa, ya), (xb, yb) = _keras_download(name)
            arrays = dict(zip(KEYS, map(np.asarray, (xa, ya, xb, yb)), strict=True))
            result = check_arrays(arrays, f"Keras's download of {name}")
        except Exception as exc:  # any failure becomes one line of the final message
            tried.append(f"Keras download: download failed: {type(exc).__name__}: {exc}")
    elif result is None:
        tried.append("Keras download: download disabled (download=False)")
    if result is not None:
        for msg in corrupt:
            warnings.warn(f"Ignored a corrupt file: {msg}", stacklevel=3)
        return result
    holding = "mnist.npz" if name == "mnist" else "fashion-mnist/*-ubyte.gz"
    problem = f"Could not load {name}. Tried:\n  - " + "\n  - ".join(tried)
    online = "connect to the internet " + ("" if download else "and pass download=True ")
    raise DataError(
        f"{problem}\nFix: set TFCOURSE_DATA to a directory holding {holding} (offline; the "
        "course ships it in ../shared/data), pass path=FILE_OR_FOLDER, or "
        f"{online}so Keras can download it."
    ).for_cli(  # the CLI always lets Keras download (there is no flag to stop it)
        f"{problem}\nFix: pass --data-path FILE (an .npz file or a folder of IDX files) or set "
        f"TFCOURSE_DATA=DIR holding {holding} (offline; the course ships it in "
        "../shared/data), or connect to the internet so Keras can download it."
    )


def load_mnist(path: PathLike = None, *, download: bool = True) -> Data:
    """Load MNIST digits as ``(x_train [60000,28,28], y_train [60000]), (x_test, y_test)``.

    Args:
        path: Optional ``.npz`` file or folder to read instead of searching (see module doc).
        download: Let Keras download the data if no local copy is found.

    Returns:
        uint8 arrays in Keras's layout; pixels 0..255, labels 0..9.

    Raises:
        DataError: No usable copy was found, or a file is corrupt.
    """
    return _load("mnist", path, download)


def load_fashion_mnist(path: PathLike = None, *, download: bool = True) -> Data:
    """Load Fashion-MNIST (10 clothing classes) in the same layout as :func:`load_mnist`."""
    return _load("fashion_mnist", path, download)


def load_dataset(name: str, path: PathLike = None, *, download: bool = True) -> Data:
    """Load a data set by name: one of :data:`DATASETS` (``"fashion-mnist"`` also works).

    Raises:
        ConfigError: ``name`` is not a known data set.
        DataError: As for :func:`load_mnist`.
    """
    key = str(name).strip().lower().replace("-", "_")
    if key not in DATASETS:
        raise ConfigError(f"Unknown data set {name!r}; choose one of {', '.join(DATASETS)}.")
    return _load(key, path, download)
