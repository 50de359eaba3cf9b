"""Values across the trust boundary: JSON plus ``.npy``, nothing that can run code.

Both sides of the grader speak this codec. The pytest process encodes a call's arguments and
decodes the worker's reply; the worker does the reverse. Decoding uses :func:`json.loads` and
:func:`numpy.load` with ``allow_pickle=False``, and every size, depth and count is capped, so a
reply forged by a submission can at worst be *wrong data*, never code, a huge allocation or an
object with a rigged ``__eq__``.

Encoded forms (``$`` tags a non-JSON type)::

    None, True, 3, "text", [...]                        as in JSON
    {"$": "float", "v": "nan" | "inf" | "-inf"}         non-finite floats (floats are JSON)
    {"$": "tuple", "items": [...]}                      tuples
    {"$": "dict", "items": [[key, value], ...]}         dicts (keys: str, int, float, bool, None)
    {"$": "array", "kind": KIND, "npy": BASE64}         KIND: ndarray, scalar, tensor, variable
    {"$": "handle", "id": INT, "type": NAME}            an object that stays in the worker
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_DEPTH = 32
MAX_ITEMS = 100_000  # containers' elements, summed over one message
MAX_ARRAY_BYTES = 64 * 2**20
MAX_ARRAY_ELEMENTS = 16 * 2**20  # elements of one array, whatever their size
MAX_MESSAGE_BYTES = 128 * 2**20  # array data in one message, summed
ARRAY_KINDS = ("ndarray", "scalar", "tensor", "variable")
_DTYPE_KINDS = set("biufcUS")  # bool, ints, floats, complex, str, bytes: never objects
_KEY_TYPES = (str, int, float, bool, type(None))


class CodecError(ValueError):
    """A value cannot be encoded, or a message is not a well-formed encoding."""


class RemoteArray(np.ndarray):
    """A numpy array that says what it was in the worker: ``kind`` is ``"tensor"``,
    ``"variable"`` or ``"ndarray"``. ``.numpy()`` gives a plain array, like a tensor's."""

    kind: str = "ndarray"

    def __array_finalize__(self, obj: Any) -> None:
        self.kind = "ndarray"  # arrays computed from a returned tensor are plain arrays

    def numpy(self) -> np.ndarray:
        """A plain ``np.ndarray`` copy."""
        return np.array(self)

    def __repr__(self) -> str:
        return repr(np.asarray(self))  # messages show `array([...])`, as students know it


def as_tensor(value: Any, dtype: str | None = None) -> RemoteArray:
    """``value`` to send as a ``tf.constant`` (no TensorFlow needed in the test)."""
    out = np.asarray(value, dtype=dtype).view(RemoteArray)
    out.kind = "tensor"
    return out


def as_variable(value: Any, dtype: str | None = None) -> RemoteArray:
    """``value`` to send as a ``tf.Variable`` (no TensorFlow needed in the test)."""
    out = np.asarray(value, dtype=dtype).view(RemoteArray)
    out.kind = "variable"
    return out


@dataclass(frozen=True)
class Handle:
    """A reference to an object that lives in the worker (a Keras model, an optimizer...).

    It can be passed back as an argument of a later call in the same test; ``type`` is the
    name the worker reported (plain text, not trusted for anything).
    """

    id: int
    type: str


def is_tensor(value: Any) -> bool:
    """Whether a decoded value was a ``tf.Tensor`` or ``tf.Variable`` in the worker."""
    return isinstance(value, RemoteArray) and value.kind in ("tensor", "variable")


def is_variable(value: Any) -> bool:
    """Whether a decoded value was a ``tf.Variable`` in the worker."""
    return isinstance(value, RemoteArray) and value.kind == "variable"


def _npy(array: np.ndarray) -> str:
    if array.dtype.kind not in _DTYPE_KINDS:
        raise CodecError(f"arrays of dtype {array.dtype} cannot be sent (numbers and text only)")
    if array.nbytes > MAX_ARRAY_BYTES:
        raise CodecError(f"an array of {array.nbytes} bytes is too large to send")
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, order="C"), allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def encode(value: Any, to_array: Any = None, to_handle: Any = None, _depth: int = 0) -> Any:
    """``value`` as JSON-ready data.

    Args:
        value: the value to send.
        to_array: optional ``f(value) -> (np.ndarray, kind) | None`` for types the caller knows
            (the worker turns tensors and variables into arrays this way).
        to_handle: optional ``f(value) -> Handle`` for anything else; without it, unknown types
            raise :class:`CodecError`.
    """
    if _depth > MAX_DEPTH:
        raise CodecError(f"the value is nested more than {MAX_DEPTH} levels deep")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int) and not isinstance(value, np.generic):
        return value
    if isinstance(value, float) and not isinstance(value, np.generic):
        return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
    if isinstance(value, Handle):
        return {"$": "handle", "id": value.id, "type": value.type}
    if isinstance(value, np.generic):
        return {"$": "array", "kind": "scalar", "npy": _npy(np.asarray(value))}
    if isinstance(value, np.ndarray):
        kind = value.kind if isinstance(value, RemoteArray) else "ndarray"
        return {"$": "array", "kind": kind, "npy": _npy(np.asarray(value))}

    def inner(v: Any) -> Any:
        return encode(v, to_array, to_handle, _depth + 1)

    if isinstance(value, list):
        return [inner(v) for v in value]
    if isinstance(value, tuple):
        return {"$": "tuple", "items": [inner(v) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, _KEY_TYPES) for k in value):
            raise CodecError("dict keys must be str, int, float, bool or None")
        return {"$": "dict", "items": [[encode(k), inner(v)] for k, v in value.items()]}
    known = to_array(value) if to_array is not None else None
    if known is not None:
        array, kind = known
        return {"$": "array", "kind": kind, "npy": _npy(np.asarray(array))}
    if to_handle is not None:
        return encode(to_handle(value))
    raise CodecError(f"a {type(value).__name__} cannot be sent as data")


def decode(data: Any) -> Any:
    """The value encoded by :func:`encode`; raises :class:`CodecError` on anything else."""
    budget = [MAX_ITEMS, MAX_MESSAGE_BYTES]  # values left, array bytes left
    return _decode(data, 0, budget)


def _decode(data: Any, depth: int, budget: list[int]) -> Any:
    if depth > MAX_DEPTH:
        raise CodecError(f"nested more than {MAX_DEPTH} levels deep")
    budget[0] -= 1
    if budget[0] < 0:
        raise CodecError(f"more than {MAX_ITEMS} values in one message")
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [_decode(v, depth + 1, budget) for v in data]
    if not isinstance(data, dict):
        raise CodecError(f"unexpected {type(data).__name__}")
    tag = data.get("$")
    if tag == "float" and data.get("v") in ("nan", "inf", "-inf"):
        return float(data["v"])
    if tag == "tuple" and isinstance(data.get("items"), list):
        return tuple(_decode(v, depth + 1, budget) for v in data["items"])
    if tag == "dict" and isinstance(data.get("items"), list):
        out = {}
        for pair in data["items"]:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise CodecError("a dict item is not a [key, value] pair")
            key = _decode(pair[0], depth + 1, budget)
            if not isinstance(key, _KEY_TYPES):
                raise CodecError("a dict key is not a plain value")
            out[key] = _decode(pair[1], depth + 1, budget)
        return out
    if tag == "array" and data.get("kind") in ARRAY_KINDS and isinstance(data.get("npy"), str):
        return _decode_array(data["npy"], data["kind"], budget)
    if tag == "handle" and type(data.get("id")) is int and isinstance(data.get("type"), str):
        return Handle(data["id"], data["type"][:100])
    raise CodecError(f"unknown encoded value {str(data)[:60]!r}")


def _decode_array(text: str, kind: str, budget: list[int]) -> Any:
    """An array from its ``.npy`` text, every size checked from the header before allocating."""
    if len(text) > MAX_ARRAY_BYTES * 4 // 3 + 1024:
        raise CodecError("an array is too large")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
        stream = io.BytesIO(raw)
        version = np.lib.format.read_magic(stream)
        read_header = {
            (1, 0): np.lib.format.read_array_header_1_0,
            (2, 0): np.lib.format.read_array_header_2_0,
        }.get(version)
        if read_header is None:
            raise ValueError(f"unsupported .npy version {version}")
        shape, _, dtype = read_header(stream)
    except (ValueError, OSError, EOFError, UnicodeEncodeError, TypeError) as exc:
        raise CodecError(f"a malformed array ({exc})") from None
    if dtype.kind not in _DTYPE_KINDS or dtype.hasobject:
        raise CodecError("an array of an unsupported dtype")
    if dtype.names is not None or dtype.subdtype is not None:
        raise CodecError("structured arrays are not supported")
    if dtype.itemsize == 0:
        raise CodecError(f"an array of empty items ({dtype.str}) is not data")
    if len(shape) > MAX_DEPTH or any(not 0 <= n <= MAX_ARRAY_ELEMENTS for n in shape):
        raise CodecError(f"an array of shape {shape} is not accepted")
    count = math.prod(shape)
    if count > MAX_ARRAY_ELEMENTS or count * dtype.itemsize > MAX_ARRAY_BYTES:
        raise CodecError(f"an array of shape {shape} and dtype {dtype} is too large")
    if count * dtype.itemsize != len(raw) - stream.tell():
        raise CodecError("an array whose data does not match its header")
    budget[1] -= count * dtype.itemsize
    if budget[1] < 0:
        raise CodecError(f"more than {MAX_MESSAGE_BYTES} bytes of arrays in one message")
    try:
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise CodecError(f"a malformed array ({exc})") from None
    if not isinstance(array, np.ndarray) or array.dtype != dtype or array.shape != shape:
        raise CodecError("an array whose data does not match its header")
    if kind == "scalar":
        if array.ndim != 0:
            raise CodecError("a scalar with a shape")
        return array[()]
    out = array.view(RemoteArray)
    out.kind = kind
    return out
