"""The .onnx path: the arrests model converted with skl2onnx serves the same predictions."""

from __future__ import annotations

import onnxruntime  # noqa: F401  (serves the .onnx artifact; missing, the test fails rather than skips)
import pytest
import skl2onnx
import skops.io as sio
from conftest import ARRESTS
from skl2onnx.common.data_types import FloatTensorType
from starlette.testclient import TestClient

from paved_runtime.app import create_app
import paved_sklearn
from paved_runtime.package import load_package


@pytest.mark.parametrize("zipmap", [False, True])
def test_onnx_artifact_predicts_like_skops(package_copy, sample, zipmap):
    model = sio.load(ARRESTS / "model.skops")
    onx = skl2onnx.to_onnx(model, initial_types=[("input", FloatTensorType([None, 5]))],
                           options={type(model[-1]): {"zipmap": zipmap}})
    (package_copy / "model.onnx").write_bytes(onx.SerializeToString())
    manifest = package_copy / "paved.yaml"
    manifest.write_text(manifest.read_text().replace("artifact: model.skops", "artifact: model.onnx"))

    pkg = load_package(package_copy, env={}, loader=paved_sklearn)
    assert pkg.platform == "onnxruntime_onnx"
    with TestClient(create_app(pkg, env={})) as c:
        got = {o["name"]: o for o in c.post("/v2/models/arrests/infer", json=sample).json()["outputs"]}
    expected_proba = model.predict_proba(
        [[i["data"][r] for i in sample["inputs"]] for r in range(4)]
    )[:, 1]
    assert got["label"]["data"] == model.predict([[i["data"][r] for i in sample["inputs"]] for r in range(4)]).tolist()
    # ONNX computes in float32, so equal to about 1e-6 rather than bit for bit.
    assert got["probability"]["data"] == pytest.approx(expected_proba.tolist(), abs=1e-5)
