"""The codec: what crosses from the worker is plain data, and costs the grader little to read.

A reply is checked before anything is allocated for it: an array's header (dtype, shape, item
size) must agree with the bytes that follow and stay within the caps, whatever the dtype.
"""

from __future__ import annotations

import base64
import io
import math

import numpy as np
import pytest

from tfcourse.grading.codec import (
    MAX_ARRAY_ELEMENTS,
    MAX_ITEMS,
    CodecError,
    Handle,
    RemoteArray,
    as_tensor,
    decode,
    encode,
)


def _npy(header: dict, data: bytes = b"", version: tuple[int, int] = (1, 0)) -> dict:
    buf = io.BytesIO()
    writer = {
        (1, 0): np.lib.format.write_array_header_1_0,
        (2, 0): np.lib.format.write_array_header_2_0,
    }[version]
    writer(buf, header)
    return {
        "$": "array",
        "kind": "ndarray",
        "npy": base64.b64encode(buf.getvalue() + data).decode(),
    }


@pytest.mark.parametrize(
    "value",
    [
        np.arange(6.0).reshape(2, 3),
        np.array(3.5, np.float32),
        np.array(["ab", "c"]),
        np.zeros((0, 3), np.int8),
        np.array([True, False]),
        np.asfortranarray(np.arange(12, dtype=np.int64).reshape(3, 4)),
    ],
)
def test_arrays_round_trip_with_shape_and_dtype(value):
    out = decode(encode(value))
    assert isinstance(out, RemoteArray) and out.shape == value.shape and out.dtype == value.dtype
    np.testing.assert_array_equal(np.asarray(out), value)


def test_containers_scalars_and_handles_round_trip():
    value = [1, 2.5, float("inf"), None, "x", (True, {"k": as_tensor([1.0])}), Handle(3, "Model")]
    out = decode(encode(value))
    assert out[:5] == [1, 2.5, math.inf, None, "x"] and out[6] == Handle(3, "Model")
    assert out[5][0] is True and out[5][1]["k"].kind == "tensor"


def test_an_empty_item_dtype_claiming_billions_of_elements_is_refused():
    # about 150 bytes on the wire; np.array() of it once filled 8.6 GB in the grader
    for descr in ("|S0", "<U0", "|V0"):
        bomb = _npy({"descr": descr, "fortran_order": False, "shape": (3_000_000_000,)})
        with pytest.raises(CodecError, match=r"empty items|unsupported dtype|structured"):
            decode(bomb)


@pytest.mark.parametrize(
    ("header", "data", "match"),
    [
        ({"descr": "<f4", "fortran_order": False, "shape": (1000,)}, b"\0" * 40, "does not match"),
        ({"descr": "<f4", "fortran_order": False, "shape": (2,)}, b"\0" * 80, "does not match"),
        (
            {"descr": "|b1", "fortran_order": False, "shape": (MAX_ARRAY_ELEMENTS + 1, 1, 1)},
            b"",
            r"too large|not accepted",
        ),
        ({"descr": "<f8", "fortran_order": False, "shape": (2**40, 2**40)}, b"", "not accepted"),
        ({"descr": "|O", "fortran_order": False, "shape": (1,)}, b"\0" * 8, "unsupported"),
    ],
)
def test_headers_that_lie_or_ask_too_much_are_refused_before_allocating(header, data, match):
    with pytest.raises(CodecError, match=match):
        decode(_npy(header, data))


def test_array_bytes_are_budgeted_over_the_whole_message():
    chunk = encode(np.zeros(6 * 2**20, np.float64))  # 48 MiB each, fine alone
    decode([chunk, chunk])
    with pytest.raises(CodecError, match="bytes of arrays in one message"):
        decode([chunk, chunk, chunk])


def test_values_are_budgeted_and_nesting_is_capped():
    with pytest.raises(CodecError, match=f"more than {MAX_ITEMS} values"):
        decode([0] * (MAX_ITEMS + 1))
    deep: list = []
    for _ in range(40):
        deep = [deep]
    with pytest.raises(CodecError, match="nested more than"):
        decode(deep)
    with pytest.raises(CodecError, match="unknown encoded value"):
        decode({"$": "pickle", "data": "..."})
