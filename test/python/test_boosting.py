"""The python-boosting template: XGBoost and LightGBM, binary, multiclass and regression, refusals."""

from __future__ import annotations

import pickle

import numpy as np
import paved_boosting
import pytest
import yaml
from boosting_models import FEATURES, columns_request, offline, train, write_package
from conftest import BOOSTING, ROOT
from starlette.testclient import TestClient

from paved_runtime.app import create_app
from paved_runtime.package import ArtifactRefused, PackageError, load_package

KINDS = ["xgboost-ubj", "xgboost-json", "lightgbm"]
PLATFORM = {"xgboost-ubj": "xgboost_ubj", "xgboost-json": "xgboost_json", "lightgbm": "lightgbm_text"}


def serve(pkg_dir, X):
    pkg = load_package(pkg_dir, env={}, loader=paved_boosting)
    with TestClient(create_app(pkg, env={})) as c:
        r = c.post("/v2/models/gbt/infer", json=columns_request(X[:20]))
        meta = c.get("/v2/models/gbt").json()
    assert r.status_code == 200, r.text
    assert r.json()["id"] == "req-1"
    return pkg, meta, {o["name"]: o for o in r.json()["outputs"]}


@pytest.mark.parametrize("kind", KINDS)
def test_binary_classifier_answers_label_and_p_of_class_1(tmp_path, kind):
    booster, X = train(kind, "binary")
    pkg, meta, out = serve(write_package(tmp_path / "pkg", kind, booster), X)
    assert pkg.platform == PLATFORM[kind] and meta["platform"] == PLATFORM[kind]
    expected = offline(kind, booster, X[:20]).astype(np.float64)
    assert out["probability"]["datatype"] == "FP64" and out["probability"]["shape"] == [20]
    assert out["probability"]["data"] == pytest.approx(expected.tolist(), abs=1e-12)
    assert out["label"]["datatype"] == "INT64"
    assert out["label"]["data"] == (expected > 0.5).astype(int).tolist()
    assert 0 < sum(out["label"]["data"]) < 20  # the model separates the rows, not a constant
    assert meta["outputs"] == [{"name": "label", "datatype": "INT64", "shape": [-1]},
                               {"name": "probability", "datatype": "FP64", "shape": [-1]}]


@pytest.mark.parametrize("kind", KINDS)
def test_multiclass_answers_the_n_by_k_matrix_and_its_argmax(tmp_path, kind):
    booster, X = train(kind, "multiclass")
    _, meta, out = serve(write_package(tmp_path / "pkg", kind, booster), X)
    expected = offline(kind, booster, X[:20]).astype(np.float64)
    assert out["probability"]["shape"] == [20, 3]
    assert np.allclose(np.array(out["probability"]["data"]).reshape(20, 3), expected, atol=1e-12)
    assert out["label"]["data"] == expected.argmax(axis=1).tolist()
    assert len(set(out["label"]["data"])) == 3
    assert meta["outputs"][1] == {"name": "probability", "datatype": "FP64", "shape": [-1, 3]}


@pytest.mark.parametrize("kind", KINDS)
def test_regression_answers_prediction(tmp_path, kind):
    booster, X = train(kind, "regression")
    _, meta, out = serve(write_package(tmp_path / "pkg", kind, booster), X)
    assert list(out) == ["prediction"]
    assert out["prediction"]["datatype"] == "FP64" and out["prediction"]["shape"] == [20]
    expected = offline(kind, booster, X[:20]).astype(np.float64)
    assert out["prediction"]["data"] == pytest.approx(expected.tolist(), abs=1e-12)
    assert meta["outputs"] == [{"name": "prediction", "datatype": "FP64", "shape": [-1]}]


@pytest.mark.parametrize("kind", KINDS)
def test_feature_names_must_match_the_manifest(tmp_path, kind):
    booster, _ = train(kind, "binary")
    pkg = write_package(tmp_path / "pkg", kind, booster, features=["f0", "f2", "f1", "f3"])
    with pytest.raises(PackageError) as err:
        load_package(pkg, env={}, loader=paved_boosting)
    assert str(err.value) == (
        "paved.yaml: inputs — the model was trained on features (f0, f1, f2, f3) but inputs lists "
        "(f0, f2, f1, f3); list them with the model's names, in the model's order"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_feature_count_must_match_the_manifest(tmp_path, kind):
    booster, _ = train(kind, "binary")
    pkg = write_package(tmp_path / "pkg", kind, booster, features=FEATURES[:3])
    with pytest.raises(PackageError) as err:
        load_package(pkg, env={}, loader=paved_boosting)
    assert str(err.value) == (
        "paved.yaml: inputs — the model was trained on 4 features (f0, f1, f2, f3) but inputs lists "
        "3 (f0, f1, f2); list the model's features, in the model's order"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_a_model_without_names_is_checked_by_count_only(tmp_path, kind):
    booster, X = train(kind, "binary", named=False)
    renamed = ["a", "b", "c", "d"]
    pkg = load_package(write_package(tmp_path / "pkg", kind, booster, features=renamed), env={}, loader=paved_boosting)
    got = pkg.predictor.predict(X[:5])["probability"]
    assert got.tolist() == pytest.approx(offline(kind, booster, X[:5]).astype(np.float64).tolist(), abs=1e-12)
    with pytest.raises(PackageError, match=r"trained on 4 features but inputs lists 3 \(a, b, c\)"):
        load_package(write_package(tmp_path / "short", kind, booster, features=renamed[:3]), env={},
                     loader=paved_boosting)


@pytest.mark.parametrize("kind,cut", [("xgboost-ubj", 0.5), ("xgboost-ubj", 0.98), ("lightgbm", 0.1),
                                      ("lightgbm", 0.5), ("lightgbm", 0.9)])
def test_a_truncated_model_is_a_clear_package_error(tmp_path, kind, cut):
    booster, _ = train(kind, "binary")
    pkg = write_package(tmp_path / "pkg", kind, booster)
    artifact = next(pkg.glob("model.*"))
    raw = artifact.read_bytes()
    artifact.write_bytes(raw[:int(len(raw) * cut)])
    with pytest.raises(PackageError) as err:
        load_package(pkg, env={}, loader=paved_boosting)
    assert not isinstance(err.value, ArtifactRefused)
    assert str(err.value).startswith(f"artifact '{artifact.name}': ")
    assert "damaged or truncated" in str(err.value)


def test_a_truncated_json_model_is_refused_before_xgboost_parses_it(tmp_path):
    booster, _ = train("xgboost-json", "binary")
    pkg = write_package(tmp_path / "pkg", "xgboost-json", booster)
    (pkg / "model.json").write_text((pkg / "model.json").read_text()[:500])
    with pytest.raises(ArtifactRefused, match="not an XGBoost JSON model"):
        load_package(pkg, env={}, loader=paved_boosting)


class Evil:
    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/paved-pwned",))


@pytest.mark.parametrize("suffix,message", [
    ("ubj", "not an XGBoost UBJSON model (it looks like a Python pickle"),
    ("json", "not an XGBoost JSON model"),
    ("txt", "not a LightGBM text model, whose first line is 'tree' (it looks like a Python pickle"),
])
def test_a_pickle_renamed_to_a_booster_suffix_is_refused_unread(tmp_path, suffix, message, monkeypatch):
    booster, _ = train("lightgbm", "binary")
    pkg = write_package(tmp_path / "pkg", "lightgbm", booster)
    (pkg / f"model.{suffix}").write_bytes(pickle.dumps(Evil()))
    manifest = yaml.safe_load((pkg / "paved.yaml").read_text())
    (pkg / "paved.yaml").write_text(yaml.safe_dump({**manifest, "artifact": f"model.{suffix}"}))
    # Neither library may see the file: make their loaders fail the test if called.
    import lightgbm
    import xgboost

    def never(*args, **kwargs):
        raise AssertionError("the library was handed a pickle")

    monkeypatch.setattr(xgboost.Booster, "load_model", never)
    monkeypatch.setattr(lightgbm, "Booster", never)
    with pytest.raises(ArtifactRefused, match=message.replace("(", r"\(")):
        load_package(pkg, env={}, loader=paved_boosting)


@pytest.mark.parametrize("artifact,message", [("model.pkl", "unknown format '.pkl'"),
                                              ("model.skops", "unknown format '.skops'")])
def test_other_formats_are_refused_by_suffix(tmp_path, artifact, message):
    booster, _ = train("lightgbm", "binary")
    pkg = write_package(tmp_path / "pkg", "lightgbm", booster)
    (pkg / artifact).write_bytes(b"\x80\x04.")
    manifest = yaml.safe_load((pkg / "paved.yaml").read_text())
    (pkg / "paved.yaml").write_text(yaml.safe_dump({**manifest, "artifact": artifact}))
    with pytest.raises(ArtifactRefused, match=message) as err:
        load_package(pkg, env={}, loader=paved_boosting)
    assert "pickles are never loaded by this template" in str(err.value)


def test_text_inputs_are_refused_with_a_fix(tmp_path):
    booster, _ = train("lightgbm", "binary")
    pkg = write_package(tmp_path / "pkg", "lightgbm", booster)
    manifest = yaml.safe_load((pkg / "paved.yaml").read_text())
    manifest["inputs"][1]["dtype"] = "string"
    (pkg / "paved.yaml").write_text(yaml.safe_dump(manifest))
    with pytest.raises(PackageError, match=r"f1 \(string\) is text, but boosted trees take numbers"):
        load_package(pkg, env={}, loader=paved_boosting)


def test_nan_is_a_missing_value_not_an_error(tmp_path):
    booster, X = train("lightgbm", "binary")
    pkg = load_package(write_package(tmp_path / "pkg", "lightgbm", booster), env={}, loader=paved_boosting)
    X = X[:3].copy()
    X[0, 1] = np.nan
    assert pkg.predictor.predict(X)["probability"].tolist() == pytest.approx(booster.predict(X).tolist(), abs=1e-12)


def test_the_example_package_serves_its_sample(sample_gbt=None):
    import json

    example = ROOT / "examples" / "arrests-gbt"
    pkg = load_package(example, env={}, loader=paved_boosting)
    sample = json.loads((example / "sample-request.json").read_text())
    with TestClient(create_app(pkg, env={})) as c:
        r = c.post("/v2/models/arrests-gbt/infer", json=sample)
    assert r.status_code == 200, r.text
    import lightgbm

    cols = {i["name"]: i["data"] for i in sample["inputs"]}
    X = np.column_stack([cols[f["name"]] for f in yaml.safe_load((example / "paved.yaml").read_text())["inputs"]])
    expected = lightgbm.Booster(model_file=str(example / "model.txt")).predict(X.astype(np.float32))
    out = {o["name"]: o["data"] for o in r.json()["outputs"]}
    assert out["probability"] == pytest.approx(expected.tolist(), abs=1e-12)


def _pins() -> dict[str, str]:
    import re

    text = (ROOT / "scripts" / "python" / "requirements-ml.txt").read_text()
    return {m[1].lower(): m[2] for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M)}


def test_template_uses_the_ml_pins_and_declares_what_it_serves():
    pins = _pins()
    template = yaml.safe_load((BOOSTING / "template.yaml").read_text())
    assert template["name"] == "python-boosting"
    assert template["env"]["PAVED_LOADER"] == "paved_boosting"
    assert template["source"] == ["../runtime/paved_runtime", "paved_boosting"]
    assert template["artifacts"] == {"on_path": list(paved_boosting.SUFFIXES), "off_path": []}
    for req in template["requirements"]:
        name, version = req.split("==")
        assert pins[name.lower()] == version, req
    for source in template["source"]:
        assert (BOOSTING / source / "__init__.py").is_file(), source


def test_a_tree_that_would_crash_lightgbm_is_a_package_error_not_a_crash(tmp_path):
    # Every section is there, but a tree lost a leaf value: LightGBM aborts the process on this
    # (in a parse thread, so it cannot raise); the runtime must only report it.
    booster, _ = train("lightgbm", "binary")
    pkg = write_package(tmp_path / "pkg", "lightgbm", booster)
    lines = (pkg / "model.txt").read_text().splitlines(keepends=True)
    k = next(i for i, line in enumerate(lines) if line.startswith("leaf_value="))
    lines[k] = lines[k].rsplit(" ", 1)[0] + "\n"
    (pkg / "model.txt").write_text("".join(lines))
    with pytest.raises(PackageError, match=r"artifact .model.txt.: not a complete LightGBM model \(LightGBM crashed reading it, SIGABRT\)"):
        load_package(pkg, env={}, loader=paved_boosting)
