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
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

from tfcourse.errors import ConfigError, DataError, ShapeError

DATASETS = ("mnist", "fashion_mnist")
Split = tuple[np.ndarray, np.ndarray]  # (images [n, 28, 28], labels [n])
Data = tuple[Split, Split]  # (train, test)
PathLike = str | os.PathLike | None
_KEYS = ("x_train", "y_train", "x_test", "y_test")
_IDX = dict(
    zip(
        _KEYS,
        (
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        ),
        strict=True,
    )
)
_FIX = "Delete or re-copy it."


class _Corrupt(Exception):
    """Internal: a file exists but cannot be read or has the wrong contents."""


def _corrupt(file: Path | str, problem: str) -> _Corrupt:
    return _Corrupt(f"{file} is corrupt or truncated: {problem}. {_FIX}")


def _check(arrays: dict[str, np.ndarray], where: Path | str) -> Data:
    """Validate dtype, shapes, label range and counts; return the Keras layout."""
    for key, arr in arrays.items():
        if arr.dtype != np.uint8:
            raise _corrupt(where, f"{key} has dtype {arr.dtype}, expected uint8")
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            raise _corrupt(where, f"x_{split} has shape {x.shape}, expected [n, 28, 28]")
        if y.ndim != 1:
            raise _corrupt(where, f"y_{split} has shape {y.shape}, expected [n]")
        if len(x) != len(y):
            raise _corrupt(where, f"{len(x)} {split} images but {len(y)} {split} labels")
        if len(x) == 0:
            raise _corrupt(where, f"x_{split} and y_{split} are empty (0 {split} images)")
        if y.size and y.max() > 9:
            raise _corrupt(where, f"y_{split} has label {int(y.max())}, outside 0..9")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _read_npz(file: Path) -> Data:
    try:
        with open(file, "rb") as fh:  # our own handle, so it is closed even on errors
            npz = np.load(fh, allow_pickle=False)
            if not isinstance(npz, np.lib.npyio.NpzFile):  # a plain .npy array
                raise _corrupt(file, "it is a single .npy array, not an .npz archive")
            missing = [k for k in _KEYS if k not in npz.files]
            if missing:
                raise _corrupt(file, f"missing array(s) {missing} (it has {npz.files})")
            arrays = {k: npz[k] for k in _KEYS}
    except PermissionError as exc:
        raise _Corrupt(f"{file} cannot be read: {exc}. Fix its permissions.") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise _corrupt(file, f"cannot read it as .npz ({type(exc).__name__}: {exc})") from None
    return _check(arrays, file)


def _read_idx(file: Path, images: bool) -> np.ndarray:
    """Read one IDX file: big-endian magic 0x803 (images, 3 dims) or 0x801 (labels, 1 dim)."""
    try:
        opener = gzip.open if file.suffix == ".gz" else open
        with opener(file, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise _corrupt(file, f"cannot read it ({type(exc).__name__}: {exc})") from None
    ndim, magic = (3, 0x803) if images else (1, 0x801)
    header = 4 + 4 * ndim
    if len(data) < header:
        raise _corrupt(file, f"it has {len(data)} bytes, fewer than the {header}-byte IDX header")
    if struct.unpack(">I", data[:4])[0] != magic:
        raise _corrupt(file, f"IDX magic number is 0x{data[:4].hex()}, expected 0x{magic:08x}")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    need = header + math.prod(dims)  # Python ints: no overflow for absurd headers
    if len(data) != need:
        raise _corrupt(file, f"{len(data):,} bytes, but its header {dims} needs {need:,}")
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims).copy()


def _read_idx_dir(folder: Path) -> Data | None:
    """Read the four IDX files (plain or .gz) in ``folder``; None if none of them is there."""
    found = {
        k: folder / n
        for k, stem in _IDX.items()
        for n in (stem + ".gz", stem)
        if (folder / n).is_file()
    }
    if not found:
        return None
    missing = [_IDX[k] for k in _KEYS if k not in found]
    if missing:
        raise _Corrupt(f"{folder} has only some of the IDX files; missing {missing}. {_FIX}")
    return _check({k: _read_idx(p, images=k[0] == "x") for k, p in found.items()}, folder)


def _read_any(target: Path) -> Data | None:
    """Read an .npz file or an IDX folder; None if ``target`` does not exist."""
    if target.is_file():
        return _read_npz(target)
    return _read_idx_dir(target) if target.is_dir() else None


def _layout(folder: Path, name: str) -> Path:
    """Where Keras's cache layout keeps ``name`` inside ``folder``."""
    return folder / ("mnist.npz" if name == "mnist" else "fashion-mnist")


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
        found = _read_any(p) or _read_any(_layout(p, name))
    except _Corrupt as exc:
        raise DataError(str(exc)) from None
    if found is None:
        raise DataError(
            f"{p} holds neither the four IDX files ({', '.join(_IDX.values())}) "
            f"nor {_layout(p, name)}."
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
        target = _layout(folder, name)
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
        target = _layout(folder, name)
        try:
            result = _read_any(target)
        except _Corrupt as exc:
            tried.append(f"{label} {target}: corrupt: {exc}")
            corrupt.append(str(exc))
            continue
        if result is not None:
            break
        tried.append(f"{label} {target}: not found")
    if result is None and download:
        try:
            (xa, ya), (xb, yb) = _keras_download(name)
            arrays = dict(zip(_KEYS, map(np.asarray, (xa, ya, xb, yb)), strict=True))
            result = _check(arrays, f"Keras's download of {name}")
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


def scale_images(x: np.ndarray) -> np.ndarray:
    """Map integer pixels 0..255 (any shape, e.g. [n,28,28]) to float32 in [0, 1] (``x/255``).

    Raises:
        ShapeError: ``x`` is not integer pixels in 0..255 (e.g. it was already scaled).
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.integer):
        raise ShapeError(
            f"scale_images expects integer pixels 0..255, got dtype {x.dtype} "
            "(already scaled?). Pass the uint8 images from the loader."
        )
    if x.size and (x.min() < 0 or x.max() > 255):
        raise ShapeError(f"scale_images expects pixels in 0..255, got {x.min()}..{x.max()}.")
    return x.astype(np.float32) / np.float32(255.0)


def flatten_images(x: np.ndarray, image_shape: tuple[int, int] | None = (28, 28)) -> np.ndarray:
    """Flatten images [n, 28, 28] to [n, 784], keeping the dtype; [n, d] passes through.

    Args:
        x: images [n, height, width], or already flat rows [n, d].
        image_shape: the ``(height, width)`` images must have; ``None`` accepts any.

    Raises:
        ShapeError: ``x`` is not rank 2 or 3, or its images are not ``image_shape``.
    """
    x = np.asarray(x)
    if x.ndim == 2:
        return x
    if x.ndim != 3:
        raise ShapeError(f"flatten_images expects [n, 28, 28] or [n, 784], got shape {x.shape}.")
    if image_shape is not None and tuple(x.shape[1:]) != tuple(image_shape):
        h, w = image_shape
        raise ShapeError(
            f"flatten_images expects images of {h}x{w} pixels ([n, {h}, {w}]), got shape "
            f"{x.shape}; crop or pad them to {h}x{w}, or pass image_shape={tuple(x.shape[1:])}."
        )
    return x.reshape(x.shape[0], x.shape[1] * x.shape[2])


def one_hot(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Turn integer labels [n] into float32 one-hot rows [n, num_classes].

    Args:
        labels: Integer class ids, shape [n], each in ``0..num_classes-1``.
        num_classes: Width of each one-hot row.

    Raises:
        ShapeError: ``labels`` is not a rank-1 integer array, or a label is outside
            ``0..num_classes-1``.
        ConfigError: ``num_classes`` < 1.
    """
    if int(num_classes) < 1:
        raise ConfigError(f"num_classes must be >= 1, got {num_classes}.")
    labels = np.asarray(labels)
    if labels.ndim != 1 or not (labels.size == 0 or np.issubdtype(labels.dtype, np.integer)):
        raise ShapeError(
            f"one_hot expects integer labels of shape [n], got shape "
            f"{labels.shape} and dtype {labels.dtype}."
        )
    bad = (labels < 0) | (labels >= num_classes)
    if bad.any():
        i = int(np.argmax(bad))
        raise ShapeError(
            f"one_hot: label {labels[i]} at index {i} is outside the valid range "
            f"0..{num_classes - 1} (num_classes={num_classes})."
        )
    out = np.zeros((labels.size, int(num_classes)), np.float32)
    out[np.arange(labels.size), labels.astype(np.int64)] = 1.0
    return out
