"""The binary tensor data extension (Triton's "binary_tensor_data"): what stock V2 clients send.

tritonclient's HTTP client sends every input this way by default: the body is a
JSON header of `Inference-Header-Content-Length` bytes, then each input's raw
bytes in input order, its JSON carrying `parameters.binary_data_size` instead of
`data`. Tensors are little-endian, row-major, unpadded; BOOL is one byte (0 or 1);
a BYTES element is a 4-byte little-endian length and then the bytes. Outputs come
back the same way when the client asks (`outputs[k].parameters.binary_data` or the
request's `parameters.binary_data_output`).

Inputs are decoded into plain `data` lists here, so everything after (the feature
lookup, the datatype checks, model.py) sees one request shape whichever way it came.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

import numpy as np

from .errors import V2Error

HEADER = "inference-header-content-length"

# Fixed-width V2 datatypes as little-endian numpy dtypes; BOOL travels as one byte.
FIXED: dict[str, str] = {
    "BOOL": "u1",
    "UINT8": "<u1", "UINT16": "<u2", "UINT32": "<u4", "UINT64": "<u8",
    "INT8": "<i1", "INT16": "<i2", "INT32": "<i4", "INT64": "<i8",
    "FP16": "<f2", "FP32": "<f4", "FP64": "<f8",
}
_LENGTH = struct.Struct("<I")


def split_body(raw: bytes, header_length: str | None) -> tuple[bytes, bytes]:
    """The JSON header and the binary tail; without the header the whole body is JSON."""
    if header_length is None:
        return raw, b""
    if not header_length.strip().isdigit():
        raise V2Error(f"Inference-Header-Content-Length: {json.dumps(header_length)} is not a byte count")
    n = int(header_length)
    if n == 0 or n > len(raw):
        raise V2Error(f"Inference-Header-Content-Length: {n} does not fit a body of {len(raw)} bytes")
    return raw[:n], raw[n:]


def _size_of(item: dict, path: str) -> int | None:
    params = item.get("parameters")
    if params is None:
        return None
    if not isinstance(params, dict):
        raise V2Error(f"{path}.parameters: must be an object")
    size = params.get("binary_data_size")
    if size is None:
        return None
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise V2Error(f"{path}.parameters.binary_data_size: must be a non-negative integer, got {json.dumps(size)}")
    return size


def attach_inputs(body: Any, tail: bytes) -> Any:
    """The request with each binary input's bytes decoded into its `data`."""
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        if tail:
            raise V2Error("body: binary data follows the JSON header but no input claims it")
        return body  # parse_infer names what is wrong with the JSON itself
    offset = 0
    attached = []
    for i, item in enumerate(inputs):
        path = f"inputs[{i}]"
        size = _size_of(item, path) if isinstance(item, dict) else None
        if size is None:
            attached.append(item)
            continue
        if "data" in item:
            raise V2Error(f"{path}: has both data and parameters.binary_data_size; send one")
        if offset + size > len(tail):
            raise V2Error(
                f"{path}.parameters.binary_data_size: {size} bytes at offset {offset}, but the binary part "
                f"is {len(tail)} bytes (is Inference-Header-Content-Length the JSON header's length?)"
            )
        chunk = tail[offset:offset + size]
        offset += size
        attached.append({**item, "data": decode(chunk, item.get("datatype"), item.get("shape"), path)})
    if offset != len(tail):
        raise V2Error(f"body: {len(tail) - offset} bytes of binary data after the last binary input")
    return {**body, "inputs": attached}


def decode(chunk: bytes, datatype: Any, shape: Any, path: str) -> list:
    """One tensor's bytes as a flat list of Python values, checked against its datatype and shape."""
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise V2Error(f"{path}.shape: must be a non-empty list of non-negative integers, got {json.dumps(shape)}")
    count = math.prod(shape)
    if datatype == "BYTES":
        return _decode_bytes(chunk, count, path)
    if datatype not in FIXED:
        raise V2Error(f"{path}.datatype: {json.dumps(datatype)} is not a V2 datatype")
    dtype = np.dtype(FIXED[datatype])
    if len(chunk) != count * dtype.itemsize:
        raise V2Error(
            f"{path}.parameters.binary_data_size: {len(chunk)} bytes, but shape {shape} of {datatype} "
            f"needs {count * dtype.itemsize}"
        )
    values = np.frombuffer(chunk, dtype=dtype)
    if datatype == "BOOL":
        if values.size and values.max() > 1:
            raise V2Error(f"{path}: a BOOL element must be the byte 0 or 1")
        return values.astype(bool).tolist()
    return values.tolist()


def _decode_bytes(chunk: bytes, count: int, path: str) -> list:
    values: list[str] = []
    offset = 0
    while offset < len(chunk):
        if offset + 4 > len(chunk):
            raise V2Error(f"{path}: BYTES element {len(values)} is cut off in its 4-byte length")
        (n,) = _LENGTH.unpack_from(chunk, offset)
        offset += 4
        if offset + n > len(chunk):
            raise V2Error(f"{path}: BYTES element {len(values)} says {n} bytes but {len(chunk) - offset} remain")
        try:
            values.append(chunk[offset:offset + n].decode("utf-8"))
        except UnicodeDecodeError:
            raise V2Error(f"{path}: BYTES element {len(values)} is not UTF-8 text") from None
        offset += n
    if len(values) != count:
        raise V2Error(f"{path}: has {len(values)} BYTES elements but its shape needs {count}")
    return values


def encode(arr: np.ndarray, datatype: str) -> bytes:
    """One output tensor as the extension's bytes."""
    flat = arr.reshape(-1)
    if datatype == "BYTES":
        parts = []
        for v in flat:
            raw = v if isinstance(v, bytes) else str(v).encode("utf-8")
            parts.append(_LENGTH.pack(len(raw)) + raw)
        return b"".join(parts)
    return flat.astype(np.dtype(FIXED[datatype])).tobytes()
