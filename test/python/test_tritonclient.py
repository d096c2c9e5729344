"""A stock V2 client against the real server: NVIDIA's tritonclient HTTP client, both templates.

The server is `python -m paved_runtime` in a subprocess on 127.0.0.1, as the image runs it.
tritonclient's defaults send inputs and ask for outputs in the binary tensor data
extension; binary_data=False sends and asks for JSON.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import skops.io as sio
import tritonclient.http as httpclient
from boosting_models import FEATURES as GBT_FEATURES
from boosting_models import offline, train, write_package
from conftest import ARRESTS, BOOSTING, FEATURES, RUNTIME, TEMPLATE
from test_server import free_port


def start(template_dir, loader: str, template: str, model_dir, port: int) -> subprocess.Popen:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PAVED_")},
        "PYTHONPATH": os.pathsep.join([str(RUNTIME), str(template_dir)]),
        "PAVED_LOADER": loader,
        "PAVED_TEMPLATE": template,
        "PAVED_MODEL_DIR": str(model_dir),
        "PAVED_MODEL_VERSION": "3",
        "PAVED_BIND": "127.0.0.1",
        "PAVED_PORT": str(port),
    }
    return subprocess.Popen([sys.executable, "-m", "paved_runtime"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.fixture()
def triton():
    """Start a template's server; yield a tritonclient connected to it once it is live."""
    running: list[subprocess.Popen] = []

    def serve(template_dir, loader, template, model_dir) -> httpclient.InferenceServerClient:
        port = free_port()
        proc = start(template_dir, loader, template, model_dir, port)
        running.append(proc)
        client = httpclient.InferenceServerClient(url=f"127.0.0.1:{port}")
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stderr.read()
            try:
                if client.is_server_ready():
                    return client
            except Exception:  # noqa: BLE001 - connection refused until uvicorn listens
                assert time.monotonic() < deadline, "server not ready"
                time.sleep(0.1)

    yield serve
    for proc in running:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0


def infer(client, model: str, names: list[str], X: np.ndarray, binary: bool, outputs: list[str]):
    inputs = []
    for k, name in enumerate(names):
        tensor = httpclient.InferInput(name, [len(X)], "FP32")
        tensor.set_data_from_numpy(np.ascontiguousarray(X[:, k]), binary_data=binary)
        inputs.append(tensor)
    if binary:  # tritonclient's default: no outputs named, binary_data_output in the request
        return client.infer(model, inputs, request_id="tc-1")
    wanted = [httpclient.InferRequestedOutput(n, binary_data=False) for n in outputs]
    return client.infer(model, inputs, outputs=wanted, request_id="tc-1")


def check_metadata(client, model: str, template: str, platform: str, names: list[str]) -> None:
    assert client.is_server_live() and client.is_model_ready(model)
    server = client.get_server_metadata()
    assert server["name"] == f"paved-{template}" and "binary_tensor_data" in server["extensions"]
    meta = client.get_model_metadata(model)
    assert meta["versions"] == ["3"] and meta["platform"] == platform
    assert [i["name"] for i in meta["inputs"]] == names


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_tritonclient_against_python_sklearn(triton, binary, sample):
    client = triton(TEMPLATE, "paved_sklearn", "python-sklearn", ARRESTS)
    check_metadata(client, "arrests", "python-sklearn", "sklearn_skops", FEATURES)
    cols = {i["name"]: i["data"] for i in sample["inputs"]}
    X = np.column_stack([cols[f] for f in FEATURES]).astype(np.float32)
    result = infer(client, "arrests", FEATURES, X, binary, ["label", "probability"])
    response = result.get_response()
    assert response["id"] == "tc-1" and response["model_version"] == "3"
    sent_binary = {o["name"]: "parameters" in o for o in response["outputs"]}
    assert sent_binary == {"label": binary, "probability": binary}
    model = sio.load(ARRESTS / "model.skops", trusted=sio.get_untrusted_types(file=ARRESTS / "model.skops"))
    print(f"\ntritonclient ({'binary' if binary else 'json'}) python-sklearn: "
          f"label={result.as_numpy('label').tolist()} probability={result.as_numpy('probability').round(6).tolist()}")
    assert result.as_numpy("label").tolist() == model.predict(X).tolist()
    assert result.as_numpy("probability").tolist() == pytest.approx(model.predict_proba(X)[:, 1].tolist(), abs=1e-12)


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
@pytest.mark.parametrize("kind,task", [("lightgbm", "binary"), ("xgboost-ubj", "multiclass"),
                                       ("xgboost-json", "regression")])
def test_tritonclient_against_python_boosting(triton, tmp_path, binary, kind, task):
    booster, X = train(kind, task)
    pkg = write_package(tmp_path / "pkg", kind, booster)
    client = triton(BOOSTING, "paved_boosting", "python-boosting", pkg)
    platform = {"lightgbm": "lightgbm_text", "xgboost-ubj": "xgboost_ubj", "xgboost-json": "xgboost_json"}[kind]
    check_metadata(client, "gbt", "python-boosting", platform, GBT_FEATURES)
    outputs = ["prediction"] if task == "regression" else ["label", "probability"]
    result = infer(client, "gbt", GBT_FEATURES, X[:8], binary, outputs)
    response = result.get_response()
    assert response["id"] == "tc-1"
    assert {o["name"]: "parameters" in o for o in response["outputs"]} == {n: binary for n in outputs}
    expected = offline(kind, booster, X[:8]).astype(np.float64)
    first = result.as_numpy(outputs[-1])
    print(f"\ntritonclient ({'binary' if binary else 'json'}) python-boosting {kind} {task}: "
          f"{outputs[-1]} shape={list(first.shape)} first={np.asarray(first).reshape(-1)[:3].round(6).tolist()}")
    assert first.shape == expected.shape
    assert np.allclose(first, expected, atol=1e-12)
    if task == "multiclass":
        assert result.as_numpy("label").tolist() == expected.argmax(axis=1).tolist()
    if task == "binary":
        assert result.as_numpy("label").tolist() == (expected > 0.5).astype(int).tolist()
