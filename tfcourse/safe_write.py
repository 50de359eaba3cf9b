"""Files that are never half-written, strict JSON, and one-line errors for a full disk.

* :func:`atomic_write_bytes` writes a temporary file in the same folder and moves it into place
  with :func:`os.replace` (atomic on POSIX): readers see the old file or the new one.
* :func:`atomic_write_json` writes strict JSON (``allow_nan=False``): NaN and ±inf become
  ``null`` and a ``"non_finite"`` key lists where they were.
* :func:`storage_error` turns an ``OSError`` (full disk, read-only file system, no permission,
  a folder where a file was meant) into a :class:`~tfcourse.errors.StorageError` that names the
  path and the fix; the CLI prints it as one ``tfcourse: error:`` line.
* :func:`load_json` reads a JSON object and names a corrupt or non-object file.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from tfcourse.errors import RunError, StorageError

NON_FINITE_KEY = "non_finite"  # lists the keys whose NaN/inf values were written as null

_FIXES = {
    errno.ENOSPC: "the disk is full; free some space or write somewhere else",
    errno.EDQUOT: "your disk quota is used up; free some space or write somewhere else",
    errno.EROFS: "the file system is read-only; write somewhere else",
    errno.EACCES: "permission denied; fix the folder's permissions or write somewhere else",
    errno.EPERM: "permission denied; fix the folder's permissions or write somewhere else",
    errno.EISDIR: "it is a folder; pass a file name inside it instead",
    errno.ENOENT: "its folder does not exist; create it first or write somewhere else",
    errno.ENOTDIR: "part of the path is a file, not a folder; choose another path",
}


def storage_error(path: str | os.PathLike, exc: OSError, what: str = "") -> StorageError:
    """A one-line :class:`StorageError` for an ``OSError`` raised while writing ``path``.

    Args:
        path: the file or folder being written.
        exc: the error, e.g. ``OSError(ENOSPC)``.
        what: the flag the user gave the path with, e.g. ``"--gif"`` (optional).

    Returns:
        The error to raise (``raise storage_error(path, exc) from None``).
    """
    fix = _FIXES.get(exc.errno, f"{exc.strerror or exc}; write somewhere else")
    label = f"{what} {os.fspath(path)!r}" if what else repr(os.fspath(path))
    return StorageError(f"cannot write {label}: {fix} ({exc.strerror or exc})")


def atomic_write_bytes(path: str | os.PathLike, data: bytes, what: str = "") -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    Args:
        path: destination file; its parent directory must exist.
        data: the complete file contents.
        what: the flag that named ``path`` (for the error message), e.g. ``"--gif"``.

    Returns:
        The destination as a :class:`Path`.

    Raises:
        StorageError: ``path`` is a folder, or the disk is full, read-only or forbidden;
            the old file (if any) is unchanged and no temporary file is left.
    """
    path = Path(path)
    if path.is_dir():
        raise storage_error(path, OSError(errno.EISDIR, os.strerror(errno.EISDIR)), what)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0o600; give the usual permissions
        os.replace(tmp, path)
    except OSError as exc:
        _discard(tmp)
        raise storage_error(path, exc, what) from None
    except BaseException:
        _discard(tmp)
        raise
    return path


def _discard(tmp: str | None) -> None:
    if tmp is not None and os.path.exists(tmp):
        os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def to_jsonable(obj: Any, non_finite: list[str] | None = None, where: str = "") -> Any:
    """Convert dataclasses, paths, numpy/tf scalars and tuples into plain strict-JSON values.

    NaN and ±inf become ``None``; their dotted key paths (``"a.b[2]"``) are appended to
    ``non_finite`` when a list is given.
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = dataclasses.asdict(obj)
    if isinstance(obj, dict):
        sep = "." if where else ""
        return {str(k): to_jsonable(v, non_finite, f"{where}{sep}{k}") for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v, non_finite, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if hasattr(obj, "tolist") and getattr(obj, "ndim", 0):  # numpy / tf arrays
        return to_jsonable(obj.tolist(), non_finite, where)
    if hasattr(obj, "item") and callable(obj.item):  # numpy / tf scalars
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        if non_finite is not None:
            non_finite.append(where or "<value>")
        return None
    return obj


def strict_json(obj: Any) -> str:
    """``obj`` as indented, key-sorted strict JSON (see :func:`to_jsonable` for NaN/inf).

    A dict with non-finite values gains ``"non_finite": [keys...]`` saying which ``null`` s
    were NaN or infinite.
    """
    found: list[str] = []
    plain = to_jsonable(obj, found)
    if found and isinstance(plain, dict):
        plain[NON_FINITE_KEY] = sorted({*(plain.get(NON_FINITE_KEY) or []), *found})
    return json.dumps(plain, indent=2, sort_keys=True, allow_nan=False) + "\n"


def atomic_write_json(path: str | os.PathLike, obj: Any, what: str = "") -> Path:
    """Serialise ``obj`` as strict JSON (:func:`strict_json`) and write it atomically.

    Raises:
        StorageError: as :func:`atomic_write_bytes`.
    """
    return atomic_write_bytes(path, strict_json(obj).encode("utf-8"), what)


def load_json(path: str | os.PathLike) -> dict[str, Any]:
    """Read a JSON object written by :func:`atomic_write_json` (e.g. ``config.json``).

    Raises:
        RunError: the file is missing, unreadable, not JSON, or not a JSON object; the message
            names the file and what to do.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunError(f"{path} is missing; is {path.parent} a run folder?") from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{path} cannot be read ({exc}); fix its permissions or re-copy it"
        raise RunError(msg) from None
    fix = "repair it by hand, or start a new run without --resume"
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RunError(
            f"{path} is corrupt: not valid JSON ({exc.msg} at line {exc.lineno} column "
            f"{exc.colno}); {fix}"
        ) from None
    if not isinstance(obj, dict):
        raise RunError(
            f"{path} is corrupt: it holds a JSON {type(obj).__name__}, not an "
            f"object of settings; {fix}"
        )
    return obj
