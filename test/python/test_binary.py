"""The binary tensor data extension, by hand: a JSON header, then little-endian tensor bytes."""

from __future__ import annotations

import json
import struct

import numpy as np
import paved_boosting
import pytest
from boosting_models import FEATURES, train, write_package
from starlette.testclient import TestClient

from paved_runtime import binary
from paved_runtime.app import create_app
from paved_runtime.errors import V2Error
from paved_runtime.package import load_package

INFER = "/v2/models/arrests/infer"


def binary_body(header: dict, chunks: list[bytes]) -> tuple[bytes, dict]:
    text = json.dumps(header).encode()
    return text + b"".join(chunks), {"Inference-Header-Content-Length": str(len(text))}


def split_response(r) -> tuple[dict, bytes]:
    n = int(r.headers["inference-header-content-length"])
    return json.loads(r.content[:n]), r.content[n:]


def per_feature_binary(sample: dict, **extra) -> tuple[bytes, dict]:
    inputs, chunks = [], []
    for i in sample["inputs"]:
        raw = np.asarray(i["data"], dtype="<f4").tobytes()
        inputs.append({"name": i["name"], "shape": i["shape"], "datatype": "FP32",
                       "parameters": {"binary_data_size": len(raw)}})
        chunks.append(raw)
    return binary_body({"id": sample["id"], "inputs": inputs, **extra}, chunks)


def test_server_metadata_declares_the_extension(client):
    meta = client.get("/v2").json()
    assert meta["extensions"] == ["binary_tensor_data"]
    assert meta["name"] == "paved-runtime"  # no PAVED_TEMPLATE in this env
    from paved_runtime import __version__

    assert meta["version"] == __version__


def test_server_metadata_names_the_template(package):
    with TestClient(create_app(package, env={"PAVED_TEMPLATE": "python-sklearn"})) as c:
        assert c.get("/v2").json()["name"] == "paved-python-sklearn"


def test_binary_fp32_inputs_answer_like_json(client, sample):
    body, headers = per_feature_binary(sample)
    r = client.post(INFER, content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")  # no binary outputs asked for
    assert r.json()["outputs"] == client.post(INFER, json=sample).json()["outputs"]
    assert r.json()["id"] == sample["id"]


@pytest.mark.parametrize("how", ["request parameter", "per output"])
def test_binary_outputs_when_asked(client, sample, how):
    extra = ({"parameters": {"binary_data_output": True}} if how == "request parameter" else
             {"outputs": [{"name": "label", "parameters": {"binary_data": True}},
                          {"name": "probability", "parameters": {"binary_data": True}}]})
    body, headers = per_feature_binary(sample, **extra)
    r = client.post(INFER, content=body, headers={**headers, "x-request-id": "bin-1"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/octet-stream"
    head, tail = split_response(r)
    assert head["id"] == sample["id"]
    label, proba = head["outputs"]
    assert label["datatype"] == "INT64" and proba["datatype"] == "FP64"
    assert "data" not in label and label["parameters"]["binary_data_size"] == 4 * 8
    json_out = {o["name"]: o["data"] for o in client.post(INFER, json=sample).json()["outputs"]}
    assert np.frombuffer(tail[:32], "<i8").tolist() == json_out["label"]
    assert np.frombuffer(tail[32:], "<f8").tolist() == json_out["probability"]


def test_one_binary_output_and_one_json_output(client, sample):
    outputs = [{"name": "label", "parameters": {"binary_data": False}}, {"name": "probability"}]
    body, headers = per_feature_binary(sample, outputs=outputs, parameters={"binary_data_output": True})
    head, tail = split_response(client.post(INFER, content=body, headers=headers))
    label, proba = head["outputs"]
    assert len(label["data"]) == 4 and "parameters" not in label
    assert proba["parameters"]["binary_data_size"] == len(tail) == 32


def test_binary_fp64_matrix_against_a_boosting_model(tmp_path):
    booster, X = train("xgboost-ubj", "regression")
    pkg = write_package(tmp_path / "pkg", "xgboost-ubj", booster)
    manifest = (pkg / "paved.yaml").read_text().replace("float32", "float64")
    (pkg / "paved.yaml").write_text(manifest)
    served = load_package(pkg, env={}, loader=paved_boosting)
    rows = X[:6].astype(np.float64)
    raw = rows.astype("<f8").tobytes()
    body, headers = binary_body({"inputs": [{"name": "x", "shape": [6, 4], "datatype": "FP64",
                                             "parameters": {"binary_data_size": len(raw)}}],
                                 "parameters": {"binary_data_output": True}}, [raw])
    with TestClient(create_app(served, env={})) as c:
        r = c.post("/v2/models/gbt/infer", content=body, headers={**headers, "x-request-id": "fp64-1"})
    head, tail = split_response(r)
    assert head["id"] == "fp64-1"  # no id in the body: the request id comes back
    assert head["outputs"][0]["name"] == "prediction" and head["outputs"][0]["shape"] == [6]
    import xgboost

    expected = booster.predict(xgboost.DMatrix(rows, feature_names=FEATURES)).astype(np.float64)
    assert np.frombuffer(tail, "<f8").tolist() == pytest.approx(expected.tolist(), abs=1e-12)


@pytest.mark.parametrize("datatype,values", [
    ("FP32", [1.5, -2.25, 3.0]), ("FP64", [0.1, 1e300, -0.0]), ("INT64", [1, -2, 2**40]),
    ("INT32", [7, 0, -7]), ("UINT8", [0, 1, 255]), ("BOOL", [True, False, True]), ("BYTES", ["a", "", "héllo"]),
])
def test_decode_round_trips_encode(datatype, values):
    dtype = {"BYTES": object, "BOOL": bool}.get(datatype) or binary.FIXED[datatype]
    arr = np.array(values, dtype=dtype)
    raw = binary.encode(arr, datatype)
    assert binary.decode(raw, datatype, [3], "inputs[0]") == values


def test_bytes_layout_is_a_4_byte_length_then_the_bytes():
    assert binary.encode(np.array(["ab", "c"], dtype=object), "BYTES") == b"\x02\x00\x00\x00ab\x01\x00\x00\x00c"
    assert binary.encode(np.array([True, False]), "BOOL") == b"\x01\x00"


def test_bool_and_bytes_inputs_decode_to_the_values_json_would_carry():
    body = {"inputs": [{"name": "flag", "shape": [2], "datatype": "BOOL", "parameters": {"binary_data_size": 2}},
                       {"name": "who", "shape": [2], "datatype": "BYTES", "parameters": {"binary_data_size": 11}}]}
    tail = b"\x01\x00" + struct.pack("<I", 3) + b"ann" + struct.pack("<I", 0)
    out = binary.attach_inputs(body, tail)
    assert out["inputs"][0]["data"] == [True, False]
    assert out["inputs"][1]["data"] == ["ann", ""]


@pytest.mark.parametrize("header,chunks,where", [
    ({"inputs": [{"name": "age", "shape": [4], "datatype": "FP32", "parameters": {"binary_data_size": 16}}]},
     [b"\x00" * 12], "inputs[0].parameters.binary_data_size: 16 bytes at offset 0"),
    ({"inputs": [{"name": "age", "shape": [4], "datatype": "FP32", "parameters": {"binary_data_size": 12}}]},
     [b"\x00" * 12], "inputs[0].parameters.binary_data_size: 12 bytes, but shape [4] of FP32 needs 16"),
    ({"inputs": [{"name": "age", "shape": [1], "datatype": "FP32", "parameters": {"binary_data_size": 4}}]},
     [b"\x00" * 8], "body: 4 bytes of binary data after the last binary input"),
    ({"inputs": [{"name": "age", "shape": [1], "datatype": "FP32", "data": [1.0],
                  "parameters": {"binary_data_size": 4}}]}, [b"\x00" * 4], "inputs[0]: has both data"),
    ({"inputs": [{"name": "age", "shape": [1], "datatype": "BOOL", "parameters": {"binary_data_size": 1}}]},
     [b"\x02"], "inputs[0]: a BOOL element must be the byte 0 or 1"),
    ({"inputs": [{"name": "age", "shape": [1], "datatype": "BYTES", "parameters": {"binary_data_size": 6}}]},
     [struct.pack("<I", 9) + b"ab"], "inputs[0]: BYTES element 0 says 9 bytes but 2 remain"),
    ({"inputs": [{"name": "age", "shape": [1], "datatype": "FP32", "parameters": {"binary_data_size": "4"}}]},
     [b"\x00" * 4], "inputs[0].parameters.binary_data_size: must be a non-negative integer"),
    ({"inputs": [{"name": "age", "shape": [1], "datatype": "FP32", "data": [1.0]}],
      "parameters": {"binary_data_output": "yes"}}, [], "parameters.binary_data_output: must be true or false"),
])
def test_bad_binary_requests_get_400_naming_the_field(client, header, chunks, where):
    body, headers = binary_body(header, chunks)
    r = client.post(INFER, content=body, headers=headers)
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith(where), r.json()["error"]


@pytest.mark.parametrize("value,message", [("abc", "is not a byte count"), ("0", "does not fit"),
                                           ("99999", "does not fit a body of")])
def test_a_bad_header_length_is_a_400(client, sample, value, message):
    r = client.post(INFER, content=json.dumps(sample).encode(), headers={"Inference-Header-Content-Length": value})
    assert r.status_code == 400 and r.json()["error"].startswith("Inference-Header-Content-Length") \
        and message in r.json()["error"]


def test_split_body_without_the_header_is_all_json():
    assert binary.split_body(b'{"a": 1}', None) == (b'{"a": 1}', b"")
    with pytest.raises(V2Error):
        binary.split_body(b"{}", "-1")

