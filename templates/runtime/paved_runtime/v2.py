"""Open Inference Protocol V2 (KServe V2 REST) request parsing and response building.

Every rejection names the field at fault (`inputs[1].shape`, `id`, ...), because
the person reading it is usually a client developer looking at their own JSON.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .binary import encode
from .errors import V2Error
from .package import Feature, datatype_of

DATATYPES = {
    "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64",
    "FP16", "FP32", "FP64", "BYTES",
}


@dataclass
class InferRequest:
    id: str | None
    columns: dict[str, list]  # feature name -> one value per row, in the manifest's order
    rows: int
    outputs: list[str] | None  # names the client asked for, or None for all
    parameters: dict
    # The binary tensor data extension: outputs[k].parameters.binary_data, else parameters.binary_data_output.
    binary_choice: dict[str, bool] = field(default_factory=dict)
    binary_default: bool = False

    def wants_binary(self, name: str) -> bool:
        return self.binary_choice.get(name, self.binary_default)


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise V2Error(f"body: not valid JSON ({exc})") from None


def _flatten(data: Any, path: str) -> list:
    """V2 allows row-major nested lists or a flat list; we want flat."""
    if not isinstance(data, list):
        raise V2Error(f"{path}: must be a list")
    if not any(isinstance(v, list) for v in data):
        return data
    flat: list = []
    stack = [iter(data)]
    while stack:
        for v in stack[-1]:
            if isinstance(v, list):
                stack.append(iter(v))
                break
            flat.append(v)
        else:
            stack.pop()
    return flat


def _check_values(values: list, datatype: str, path: str) -> None:
    if datatype == "BYTES":
        ok = lambda v: isinstance(v, str)  # noqa: E731
        kind = "a string"
    elif datatype == "BOOL":
        ok = lambda v: isinstance(v, bool)  # noqa: E731
        kind = "true or false"
    elif datatype.startswith("FP"):
        ok = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)  # noqa: E731
        kind = "a number"
    else:
        ok = lambda v: isinstance(v, int) and not isinstance(v, bool)  # noqa: E731
        kind = "an integer"
    for j, v in enumerate(values):
        if not ok(v):
            raise V2Error(f"{path}[{j}]: {json.dumps(v)} is not {kind} ({datatype})")


def _parse_input(i: int, item: Any) -> tuple[str, list[int], str, list]:
    path = f"inputs[{i}]"
    if not isinstance(item, dict):
        raise V2Error(f"{path}: must be an object with name, shape, datatype and data")
    for key in ("name", "shape", "datatype", "data"):
        if key not in item:
            hint = " (or parameters.binary_data_size, with the binary tensor data extension)" if key == "data" else ""
            raise V2Error(f"{path}.{key}: required{hint}")
    name, shape, datatype = item["name"], item["shape"], item["datatype"]
    if not isinstance(name, str) or not name:
        raise V2Error(f"{path}.name: must be a non-empty string")
    if not isinstance(shape, list) or not shape or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise V2Error(f"{path}.shape: must be a non-empty list of non-negative integers, got {json.dumps(shape)}")
    if datatype not in DATATYPES:
        raise V2Error(f"{path}.datatype: {json.dumps(datatype)} is not a V2 datatype")
    data = _flatten(item["data"], f"{path}.data")
    if len(data) != math.prod(shape):
        raise V2Error(f"{path}.data: has {len(data)} elements but shape {shape} needs {math.prod(shape)}")
    return name, shape, datatype, data


def parse_infer(body: Any, features: list[Feature], max_batch: int) -> InferRequest:
    if not isinstance(body, dict):
        raise V2Error("body: must be a JSON object with an 'inputs' list")
    request_id = body.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise V2Error("id: must be a string")
    parameters = body.get("parameters", {})
    if not isinstance(parameters, dict):
        raise V2Error("parameters: must be an object")
    binary_default = parameters.get("binary_data_output", False)
    if not isinstance(binary_default, bool):
        raise V2Error("parameters.binary_data_output: must be true or false")
    outputs, binary_choice = _requested_outputs(body.get("outputs"))
    if "inputs" not in body:
        raise V2Error("inputs: required")
    inputs = body["inputs"]
    if not isinstance(inputs, list) or not inputs:
        raise V2Error("inputs: must be a non-empty list")
    parsed = [_parse_input(i, item) for i, item in enumerate(inputs)]

    names = [f.name for f in features]
    if len(parsed) == 1 and parsed[0][0] not in names:
        columns, rows = _from_matrix(parsed[0], features)
    else:
        columns, rows = _from_columns(parsed, features)
    if rows == 0:
        raise V2Error("inputs[0].shape: the batch has no rows")
    if rows > max_batch:
        raise V2Error(f"inputs[0].shape: {rows} rows is over this server's limit of {max_batch}")
    return InferRequest(request_id, columns, rows, outputs, parameters, binary_choice, binary_default)


def _requested_outputs(value: Any) -> tuple[list[str] | None, dict[str, bool]]:
    if value is None:
        return None, {}
    if not isinstance(value, list):
        raise V2Error("outputs: must be a list of {\"name\": ...} objects")
    names = []
    binary: dict[str, bool] = {}
    for k, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise V2Error(f"outputs[{k}].name: required string")
        names.append(item["name"])
        params = item.get("parameters", {})
        if not isinstance(params, dict):
            raise V2Error(f"outputs[{k}].parameters: must be an object")
        if "binary_data" in params:
            if not isinstance(params["binary_data"], bool):
                raise V2Error(f"outputs[{k}].parameters.binary_data: must be true or false")
            binary[item["name"]] = params["binary_data"]
    return names, binary


def _from_matrix(parsed, features: list[Feature]) -> tuple[dict[str, list], int]:
    name, shape, datatype, data = parsed
    width = len(features)
    order = ", ".join(f.name for f in features)
    if len(shape) != 2 or shape[1] != width:
        raise V2Error(
            f"inputs[0].shape: a single tensor input must be [N, {width}] with columns in the order "
            f"{order}, got {shape} (or send one input per feature, named {order})"
        )
    datatypes = {f.datatype for f in features}
    if len(datatypes) > 1:
        raise V2Error(
            f"inputs[0].datatype: this model's features have different datatypes; send one input per feature ({order})"
        )
    expected = datatypes.pop()
    if datatype != expected:
        raise V2Error(f"inputs[0].datatype: {datatype} does not match the model's {expected}")
    _check_values(data, datatype, "inputs[0].data")
    rows = shape[0]
    return {f.name: data[k::width] for k, f in enumerate(features)}, rows


def _from_columns(parsed, features: list[Feature]) -> tuple[dict[str, list], int]:
    by_name = {f.name: f for f in features}
    order = ", ".join(by_name)
    columns: dict[str, list] = {}
    rows: int | None = None
    first = ""
    for i, (name, shape, datatype, data) in enumerate(parsed):
        path = f"inputs[{i}]"
        feature = by_name.get(name)
        if feature is None:
            raise V2Error(f"{path}.name: unknown input {json.dumps(name)}; the model takes {order}")
        if name in columns:
            raise V2Error(f"{path}.name: {json.dumps(name)} is given twice")
        if len(shape) > 2 or (len(shape) == 2 and shape[1] != 1):
            raise V2Error(f"{path}.shape: a feature column must be [N] or [N, 1], got {shape}")
        if datatype != feature.datatype:
            raise V2Error(f"{path}.datatype: {datatype} does not match {name}'s {feature.datatype}")
        if rows is None:
            rows, first = shape[0], name
        elif shape[0] != rows:
            raise V2Error(f"{path}.shape: {shape[0]} rows, but {first} has {rows}")
        _check_values(data, datatype, f"{path}.data")
        columns[name] = data
    missing = [f.name for f in features if f.name not in columns]
    if missing:
        raise V2Error(f"inputs: missing {', '.join(missing)} (the model takes {order})")
    return {f.name: columns[f.name] for f in features}, rows or 0


def build_matrix(columns: dict[str, list], features: list[Feature], rows: int) -> np.ndarray:
    """Columns in the manifest's order; one shared dtype when the features agree."""
    dtypes = {np.dtype(f.numpy_dtype) for f in features}
    dtype = dtypes.pop() if len(dtypes) == 1 else object
    X = np.empty((rows, len(features)), dtype=dtype)
    for k, f in enumerate(features):
        X[:, k] = np.asarray(columns[f.name], dtype=f.numpy_dtype)
    return X


def output_tensor(name: str, value: Any, binary: bool = False) -> tuple[dict, bytes]:
    """One V2 output: JSON `data`, or (binary) `parameters.binary_data_size` and the bytes."""
    arr = np.asarray(value)
    if arr.dtype.kind in "US":
        arr = arr.astype(object)
    datatype = datatype_of(arr.dtype)
    tensor: dict = {"name": name, "shape": list(arr.shape), "datatype": datatype}
    if not binary:
        tensor["data"] = arr.reshape(-1).tolist()
        return tensor, b""
    raw = encode(arr, datatype)
    tensor["parameters"] = {"binary_data_size": len(raw)}
    return tensor, raw


def build_response(model_name: str, model_version: str, request_id: str, outputs: dict[str, Any],
                   req: InferRequest) -> tuple[dict, bytes]:
    """The response's JSON and, when the client asked for binary outputs, the bytes that follow it."""
    requested = req.outputs
    if requested is not None:
        unknown = [n for n in requested if n not in outputs]
        if unknown:
            raise V2Error(f"outputs: unknown {', '.join(unknown)}; this model returns {', '.join(outputs)}")
        outputs = {n: outputs[n] for n in requested}
    tensors, tail = [], []
    for n, v in outputs.items():
        tensor, raw = output_tensor(n, v, binary=req.wants_binary(n))
        tensors.append(tensor)
        tail.append(raw)
    header = {"model_name": model_name, "model_version": model_version, "id": request_id, "outputs": tensors}
    return header, b"".join(tail)
