"""The V2 API of the python-sklearn template, in-process against examples/arrests."""

from __future__ import annotations

import copy
import io
import json
import logging

import numpy as np
import pytest
import skops.io as sio
from conftest import ARRESTS, FEATURES
from starlette.testclient import TestClient

import paved_sklearn
from paved_runtime import logs
from paved_runtime.app import create_app

INFER = "/v2/models/arrests/infer"


def rows_of(sample: dict) -> np.ndarray:
    cols = {i["name"]: i["data"] for i in sample["inputs"]}
    return np.column_stack([cols[f] for f in FEATURES]).astype(np.float32)


def test_live(client):
    r = client.get("/v2/health/live")
    assert r.status_code == 200


def test_ready_only_after_the_model_is_loaded():
    app = create_app(model_dir=ARRESTS, env={}, loader=paved_sklearn)
    # Without the context manager the lifespan (which loads the model) has not run.
    assert TestClient(app).get("/v2/health/ready").status_code == 503
    with TestClient(app) as c:
        assert c.get("/v2/health/ready").status_code == 200
        assert c.get("/v2/models/arrests/ready").status_code == 200


def test_metadata(client):
    r = client.get("/v2/models/arrests")
    assert r.status_code == 200
    meta = r.json()
    assert meta["name"] == "arrests"
    assert meta["versions"] == ["1"]
    assert meta["platform"] == "sklearn_skops"
    assert [(i["name"], i["datatype"], i["shape"]) for i in meta["inputs"]] == [(f, "FP32", [-1]) for f in FEATURES]
    assert {o["name"]: o["datatype"] for o in meta["outputs"]} == {"label": "INT64", "probability": "FP64"}


def test_infer_per_feature_equals_the_models_own_predict_proba(client, sample):
    r = client.post(INFER, json=sample)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model_name"] == "arrests" and body["model_version"] == "1" and body["id"] == sample["id"]
    out = {o["name"]: o for o in body["outputs"]}
    model = sio.load(ARRESTS / "model.skops", trusted=sio.get_untrusted_types(file=ARRESTS / "model.skops"))
    X = rows_of(sample)
    assert out["probability"]["shape"] == [len(X)]
    assert out["probability"]["data"] == pytest.approx(model.predict_proba(X)[:, 1].tolist(), abs=1e-12)
    assert out["label"]["data"] == model.predict(X).tolist()
    assert out["label"]["datatype"] == "INT64"


def test_infer_with_one_2d_input_matches_per_feature(client, sample):
    X = rows_of(sample)
    body = {"inputs": [{"name": "input-0", "shape": list(X.shape), "datatype": "FP32", "data": X.tolist()}]}
    r = client.post(INFER, json=body)
    assert r.status_code == 200, r.text
    per_feature = client.post(INFER, json=sample).json()["outputs"]
    assert r.json()["outputs"] == per_feature


def test_infer_columns_in_any_order_and_n_by_1(client, sample):
    shuffled = copy.deepcopy(sample)
    shuffled["inputs"].reverse()
    for i in shuffled["inputs"]:
        i["shape"] = [len(i["data"]), 1]
    r = client.post(INFER, json=shuffled)
    assert r.status_code == 200, r.text
    assert r.json()["outputs"] == client.post(INFER, json=sample).json()["outputs"]


def test_infer_on_the_versioned_path_and_output_subset(client, sample):
    body = dict(sample, outputs=[{"name": "probability"}])
    r = client.post("/v2/models/arrests/versions/1/infer", json=body)
    assert r.status_code == 200, r.text
    assert [o["name"] for o in r.json()["outputs"]] == ["probability"]


def test_response_id_falls_back_to_the_request_id(client, sample):
    body = {k: v for k, v in sample.items() if k != "id"}
    r = client.post(INFER, json=body, headers={"x-request-id": "req-123"})
    assert r.json()["id"] == "req-123"
    assert r.headers["x-request-id"] == "req-123"


def _with(sample: dict, index: int, **changes) -> dict:
    body = copy.deepcopy(sample)
    body["inputs"][index].update(changes)
    return body


def _bad_bodies(sample: dict) -> list[tuple[str, object, str]]:
    without_shape = copy.deepcopy(sample)
    del without_shape["inputs"][0]["shape"]
    missing_feature = copy.deepcopy(sample)
    missing_feature["inputs"] = missing_feature["inputs"][:-1]
    return [
        ("invalid json", b"{not json", "body"),
        ("body not an object", [1, 2], "body"),
        ("missing inputs", {"id": "x"}, "inputs"),
        ("empty inputs", {"inputs": []}, "inputs"),
        ("input missing shape", without_shape, "inputs[0].shape"),
        ("wrong datatype", _with(sample, 1, datatype="INT64", data=[0, 1, 0, 1]), "inputs[1].datatype"),
        ("not a V2 datatype", _with(sample, 1, datatype="FLOAT"), "inputs[1].datatype"),
        ("shape/data mismatch", _with(sample, 0, shape=[3]), "inputs[0].data"),
        ("rows differ between inputs", _with(sample, 3, shape=[2], data=[1.0, 2.0]), "inputs[3].shape"),
        ("string in numeric data", _with(sample, 2, data=[1.0, "yes", 1.0, 1.0]), "inputs[2].data[1]"),
        ("bool in numeric data", _with(sample, 2, data=[True, 1.0, 1.0, 1.0]), "inputs[2].data[0]"),
        ("unknown input name", _with(sample, 4, name="colour"), "inputs[4].name"),
        ("missing feature", missing_feature, "inputs: missing year"),
        ("2-D input with wrong width", {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32",
                                                   "data": [1.0, 2.0, 3.0, 4.0]}]}, "inputs[0].shape"),
        ("negative shape", _with(sample, 0, shape=[-4]), "inputs[0].shape"),
        ("column with two dims", _with(sample, 0, shape=[2, 2]), "inputs[0].shape"),
        ("id not a string", dict(sample, id=7), "id"),
        ("parameters not an object", dict(sample, parameters=[]), "parameters"),
        ("unknown requested output", dict(sample, outputs=[{"name": "score"}]), "outputs"),
        ("input not an object", {"inputs": ["age"]}, "inputs[0]"),
    ]


@pytest.mark.parametrize("case", range(20))
def test_bad_bodies_get_400_naming_the_field(client, sample, case):
    cases = _bad_bodies(sample)
    assert len(cases) == 20
    label, body, field = cases[case]
    if isinstance(body, bytes):
        r = client.post(INFER, content=body, headers={"content-type": "application/json"})
    else:
        r = client.post(INFER, json=body)
    assert r.status_code == 400, (label, r.text)
    error = r.json()["error"]
    assert error.startswith(field) or field in error, (label, error)


def test_unknown_model_is_404(client, sample):
    for r in (client.post("/v2/models/nope/infer", json=sample), client.get("/v2/models/nope"),
              client.get("/v2/models/arrests/versions/9")):
        assert r.status_code == 404
        assert "not found" in r.json()["error"]


def test_unknown_route_and_wrong_method_answer_json(client):
    r = client.get("/v2/nowhere")
    assert r.status_code == 404 and "error" in r.json()
    r = client.get(INFER)
    assert r.status_code == 405 and "error" in r.json()


def test_oversized_batch_is_refused(package, sample):
    with TestClient(create_app(package, env={"PAVED_MAX_BATCH": "2"})) as c:
        r = c.post(INFER, json=sample)
    assert r.status_code == 400 and "limit" in r.json()["error"]


def test_metrics_count_requests_by_route_and_status(client, sample):
    client.post(INFER, json=sample)
    client.post("/v2/models/nope/infer", json=sample)
    text = client.get("/metrics").text
    assert 'paved_http_requests_total{method="POST",route="/v2/models/{name}/infer",status="200"} 1.0' in text
    assert 'paved_http_requests_total{method="POST",route="/v2/models/{name}/infer",status="404"} 1.0' in text
    assert 'paved_http_request_duration_seconds_bucket{le="0.2",method="POST",route="/v2/models/{name}/infer"' in text
    assert "paved_inference_rows_total 4.0" in text
    assert 'paved_model_info{name="arrests",platform="sklearn_skops",version="1"} 1.0' in text


@pytest.fixture()
def json_log():
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    logs.configure("INFO", stream=stream)
    yield stream
    root.handlers[:], level = saved
    root.setLevel(level)


def test_each_request_logs_one_json_line_with_a_request_id(client, sample, json_log):
    client.post(INFER, json=sample, headers={"x-request-id": "trace-42"})
    client.get("/v2/health/live")
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "paved.access"]
    assert len(access) == 2
    assert access[0]["request_id"] == "trace-42"
    assert access[0]["status"] == 200 and access[0]["route"] == "/v2/models/{name}/infer"
    # No header: a fresh id, not an empty one.
    assert len(access[1]["request_id"]) == 32


def test_a_hostile_request_id_header_is_replaced(client):
    r = client.get("/v2/health/live", headers={"x-request-id": "bad\tid" + "x" * 200})
    assert r.headers["x-request-id"] != "bad\tid" + "x" * 200
    assert len(r.headers["x-request-id"]) == 32


def test_nan_that_the_model_cannot_score_is_a_400(client, sample):
    raw = json.dumps(sample).replace("25.0", "NaN", 1).encode()
    r = client.post(INFER, content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"].startswith("inputs: the model rejected the values")


def test_oversized_body_is_413(package, sample):
    with TestClient(create_app(package, env={"PAVED_MAX_BODY_BYTES": "100"})) as c:
        r = c.post(INFER, json=sample)
    assert r.status_code == 413 and r.json()["error"].startswith("body:")


def test_a_crash_in_model_code_is_a_json_500_quoting_the_request_id(package_copy, sample):
    from paved_runtime.package import load_package

    (package_copy / "model.py").write_text("def postprocess(outputs):\n    return 1 / 0\n")
    app = create_app(load_package(package_copy, env={}, loader=paved_sklearn), env={})
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post(INFER, json=sample, headers={"x-request-id": "boom-1"})
    assert r.status_code == 500
    assert r.json() == {"error": "internal error; quote request id boom-1"}
    assert r.headers["x-request-id"] == "boom-1"
