"""Reading MNIST-style data files and checking what is in them.

Two formats hold the same four arrays ``x_train, y_train, x_test, y_test``:

- an ``.npz`` archive with those keys (Keras's ``mnist.npz``);
- a folder of four IDX files (``train-images-idx3-ubyte`` etc., plain or ``.gz``), the format
  of the original MNIST and Fashion-MNIST downloads: a big-endian header, then uint8 values.

Every reader validates before returning: uint8 dtype, images [n, 28, 28], labels [n] in 0..9,
as many labels as images. A file that exists but fails a check raises :class:`CorruptFile`
naming the file, the problem and the fix; the loaders (:mod:`tfcourse.data.loaders`) decide whether
that stops the search or only warns.
"""

from __future__ import annotations

import gzip
import math
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

Split = tuple[np.ndarray, np.ndarray]  # (images [n, 28, 28], labels [n])
Data = tuple[Split, Split]  # (train, test)
KEYS = ("x_train", "y_train", "x_test", "y_test")
IDX_NAMES = dict(
    zip(
        KEYS,
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


class CorruptFile(Exception):
    """Internal: a file exists but cannot be read or has the wrong contents."""


def _corrupt(file: Path | str, problem: str) -> CorruptFile:
    return CorruptFile(f"{file} is corrupt or truncated: {problem}. {_FIX}")


def check_arrays(arrays: dict[str, np.ndarray], where: Path | str) -> Data:
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
            missing = [k for k in KEYS if k not in npz.files]
            if missing:
                raise _corrupt(file, f"missing array(s) {missing} (it has {npz.files})")
            arrays = {k: npz[k] for k in KEYS}
    except PermissionError as exc:
        raise CorruptFile(f"{file} cannot be read: {exc}. Fix its permissions.") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise _corrupt(file, f"cannot read it as .npz ({type(exc).__name__}: {exc})") from None
    return check_arrays(arrays, file)


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
        for k, stem in IDX_NAMES.items()
        for n in (stem + ".gz", stem)
        if (folder / n).is_file()
    }
    if not found:
        return None
    missing = [IDX_NAMES[k] for k in KEYS if k not in found]
    if missing:
        raise CorruptFile(f"{folder} has only some of the IDX files; missing {missing}. {_FIX}")
    return check_arrays({k: _read_idx(p, images=k[0] == "x") for k, p in found.items()}, folder)


def read_any(target: Path) -> Data | None:
    """Read an .npz file or an IDX folder; None if ``target`` does not exist.

    Raises:
        CorruptFile: ``target`` exists but is unreadable or fails :func:`check_arrays`.
    """
    if target.is_file():
        return _read_npz(target)
    return _read_idx_dir(target) if target.is_dir() else None


def cache_layout(folder: Path, name: str) -> Path:
    """Where Keras's cache layout keeps ``name`` inside ``folder``."""
    return folder / ("mnist.npz" if name == "mnist" else "fashion-mnist")
