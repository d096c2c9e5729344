"""Small boosted models trained in the test itself (fixed seed), written as python-boosting packages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

FEATURES = ["f0", "f1", "f2", "f3"]
ROWS = 300
SUFFIX = {"xgboost-ubj": "ubj", "xgboost-json": "json", "lightgbm": "txt"}


def data(task: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(ROWS, len(FEATURES))).astype(np.float32)
    score = X[:, 0] + 0.5 * X[:, 1] - 0.25 * X[:, 2]
    if task == "binary":
        y = (score > 0).astype(int)
    elif task == "multiclass":
        y = np.digitize(score, [-0.5, 0.5])  # three classes
    else:
        y = 3.0 * score + rng.normal(scale=0.1, size=ROWS)
    return X, y


def train(kind: str, task: str, named: bool = True):
    """The booster and the [N, 4] matrix it was trained on."""
    X, y = data(task)
    frame = pd.DataFrame(X, columns=FEATURES) if named else X
    if kind.startswith("xgboost"):
        import xgboost as xgb

        params = {"binary": {"objective": "binary:logistic"},
                  "multiclass": {"objective": "multi:softprob", "num_class": 3},
                  "regression": {"objective": "reg:squarederror"}}[task]
        params = {**params, "max_depth": 3, "seed": 7, "nthread": 1}
        return xgb.train(params, xgb.DMatrix(frame, label=y), num_boost_round=8), X
    import lightgbm as lgb

    params = {"binary": {"objective": "binary"}, "multiclass": {"objective": "multiclass", "num_class": 3},
              "regression": {"objective": "regression"}}[task]
    params = {**params, "num_leaves": 7, "min_data_in_leaf": 5, "seed": 7, "deterministic": True,
              "num_threads": 1, "verbose": -1}
    return lgb.train(params, lgb.Dataset(frame, label=y), num_boost_round=8), X


def offline(kind: str, booster, X: np.ndarray) -> np.ndarray:
    """What the library itself predicts for X."""
    if kind.startswith("xgboost"):
        import xgboost as xgb

        return booster.predict(xgb.DMatrix(X, feature_names=booster.feature_names))
    return booster.predict(X)


def write_package(dest: Path, kind: str, booster, features: list[str] = FEATURES, name: str = "gbt") -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    artifact = f"model.{SUFFIX[kind]}"
    booster.save_model(str(dest / artifact))
    requirement = "lightgbm==4.7.0" if kind == "lightgbm" else "xgboost-cpu==3.2.0"
    manifest = {
        "name": name, "owner": "alice@example.com", "team": "risk", "template": "python-boosting",
        "artifact": artifact, "requirements": [requirement],
        "inputs": [{"name": f, "dtype": "float32"} for f in features],
    }
    (dest / "paved.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return dest


def columns_request(X: np.ndarray, request_id: str = "req-1") -> dict:
    return {"id": request_id, "inputs": [
        {"name": f, "shape": [len(X)], "datatype": "FP32", "data": X[:, k].tolist()} for k, f in enumerate(FEATURES)
    ]}
