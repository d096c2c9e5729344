"""Loading a python-sklearn package: artifact formats, the skops allow-list, pickle gating, hooks, pins."""

from __future__ import annotations

import operator
import re

import numpy as np
import pytest
import skops.io as sio
import yaml
from conftest import ARRESTS, ARRESTS_PICKLE, ROOT, TEMPLATE
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from starlette.testclient import TestClient

from paved_runtime.app import create_app
import paved_sklearn
from paved_runtime.package import ArtifactRefused, PackageError, load_package
from paved_sklearn.artifacts import check_skops_types


def test_pickle_is_refused_without_the_review_flag():
    with pytest.raises(ArtifactRefused, match="PAVED_ALLOW_PICKLE=1"):
        load_package(ARRESTS_PICKLE, env={}, loader=paved_sklearn)
    with pytest.raises(ArtifactRefused):
        load_package(ARRESTS_PICKLE, env={"PAVED_ALLOW_PICKLE": "true"}, loader=paved_sklearn)


def test_pickle_loads_with_the_review_flag_and_predicts_like_skops(sample):
    pkl = load_package(ARRESTS_PICKLE, env={"PAVED_ALLOW_PICKLE": "1"}, loader=paved_sklearn)
    assert pkl.name == "arrests-pickle" and pkl.platform == "sklearn_joblib"
    with TestClient(create_app(pkl, env={})) as c:
        from_pickle = c.post("/v2/models/arrests-pickle/infer", json=sample).json()["outputs"]
    with TestClient(create_app(load_package(ARRESTS, env={}, loader=paved_sklearn), env={})) as c:
        from_skops = c.post("/v2/models/arrests/infer", json=sample).json()["outputs"]
    assert from_pickle == from_skops


def test_skops_allow_list():
    assert check_skops_types([], env={}) == []
    assert check_skops_types(["sklearn.linear_model._logistic.LogisticRegression", "numpy.float32"], env={})
    for bad in (["builtins.eval"], ["_operator.neg"], ["numpy.load"], ["sklearn.linear_model.X", "os.system"]):
        with pytest.raises(ArtifactRefused, match="allow-list"):
            check_skops_types(bad, env={})


def test_skops_types_the_worker_passes_are_exact_names():
    env = {"PAVED_ALLOWED_TYPES": "sklearn.pipeline.Pipeline,numpy.float32"}
    assert check_skops_types(["sklearn.pipeline.Pipeline", "numpy.float32"], env=env)
    # a scikit-learn module the prefix rule would let through is refused when not listed
    with pytest.raises(ArtifactRefused, match="sklearn.utils._available_if.available_if"):
        check_skops_types(["sklearn.utils._available_if.available_if"], env=env)


def test_skops_types_a_reviewer_approved_load_but_denied_ones_never():
    env = {"PAVED_ALLOWED_TYPES": "sklearn.pipeline.Pipeline", "PAVED_ALLOW_PICKLE": "1"}
    assert check_skops_types(["mylib.models.Custom"], env=env) == ["mylib.models.Custom"]
    with pytest.raises(ArtifactRefused, match="numpy.load"):
        check_skops_types(["numpy.load"], env=env)


def test_skops_artifact_with_a_foreign_function_is_refused(package_copy):
    X = np.array([[1.0, 0, 1, 2, 2000], [30.0, 1, 1, 0, 2001]] * 5, dtype=np.float32)
    y = np.array([0, 1] * 5)
    model = make_pipeline(FunctionTransformer(operator.neg), LogisticRegression()).fit(X, y)
    sio.dump(model, package_copy / "model.skops")
    with pytest.raises(ArtifactRefused, match="_operator.neg"):
        load_package(package_copy, env={}, loader=paved_sklearn)


def test_feature_count_must_match_the_manifest(package_copy):
    manifest = yaml.safe_load((package_copy / "paved.yaml").read_text())
    manifest["inputs"] = manifest["inputs"][:4]
    (package_copy / "paved.yaml").write_text(yaml.safe_dump(manifest))
    with pytest.raises(PackageError, match="fitted on 5 features but paved.yaml declares 4"):
        load_package(package_copy, env={}, loader=paved_sklearn)


@pytest.mark.parametrize("artifact,message", [
    ("../arrests/model.skops", "outside the package"),
    ("missing.skops", "not found"),
    ("paved.yaml", "unknown format"),
])
def test_bad_artifact_paths_and_formats(package_copy, artifact, message):
    text = (package_copy / "paved.yaml").read_text().replace("artifact: model.skops", f"artifact: {artifact}")
    (package_copy / "paved.yaml").write_text(text)
    with pytest.raises(PackageError, match=message):
        load_package(package_copy, env={}, loader=paved_sklearn)


HOOKS = '''
def preprocess(inputs):
    if any(a < 0 for a in inputs["age"]):
        raise ValueError("age must not be negative")
    inputs["checks"] = [min(c, 3.0) for c in inputs["checks"]]
    return inputs


def postprocess(outputs):
    outputs["decision"] = ["release" if p >= 0.5 else "hold" for p in outputs["probability"]]
    return outputs
'''


def test_model_py_hooks_run_around_the_model(package_copy, sample):
    (package_copy / "model.py").write_text(HOOKS)
    pkg = load_package(package_copy, env={}, loader=paved_sklearn)
    with TestClient(create_app(pkg, env={})) as c:
        r = c.post("/v2/models/arrests/infer", json=sample)
        assert r.status_code == 200, r.text
        out = {o["name"]: o for o in r.json()["outputs"]}
        assert out["decision"]["datatype"] == "BYTES"
        assert out["decision"]["data"] == ["release" if p >= 0.5 else "hold" for p in out["probability"]["data"]]

        bad = {"inputs": [dict(i, data=[-1.0] * 4) if i["name"] == "age" else i for i in sample["inputs"]]}
        r = c.post("/v2/models/arrests/infer", json=bad)
        assert r.status_code == 400
        assert r.json()["error"].startswith("inputs: rejected by model.py preprocess: age must not be negative")


def _pins() -> dict[str, str]:
    text = (ROOT / "scripts" / "python" / "requirements-ml.txt").read_text()
    return {m[1].lower(): m[2] for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M)}


def _split(req: str) -> tuple[str, str]:
    name, version = req.split("==")
    return name.lower(), version


def test_template_and_examples_use_the_ml_pins():
    pins = _pins()
    template = yaml.safe_load((TEMPLATE / "template.yaml").read_text())
    assert template["name"] == "python-sklearn"
    for req in template["requirements"] + template["optional_requirements"]:
        name, version = _split(req)
        assert pins[name] == version, req
    for pkg in (ARRESTS, ARRESTS_PICKLE):
        manifest = yaml.safe_load((pkg / "paved.yaml").read_text())
        assert manifest["template"] == "python-sklearn"
        for req in manifest["requirements"]:
            name, version = _split(req)
            assert pins[name] == version, (pkg.name, req)
