"""XGBoost boosters from .ubj or .json: the task from the saved objective, the signature from the model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from paved_runtime.package import Feature, PackageError

from .predictor import BINARY, MULTICLASS, REGRESSION, BoostingPredictor, sigmoid, softmax
from .signature import check_signature

REGRESSION_FAMILIES = ("reg:", "count:", "survival:")


def task_of(objective: str, classes: int) -> str:
    if objective in ("binary:logistic", "binary:logitraw"):
        return BINARY
    if objective in ("multi:softprob", "multi:softmax"):
        return MULTICLASS
    if objective.startswith(REGRESSION_FAMILIES):
        return REGRESSION
    raise PackageError(
        f"the XGBoost model's objective '{objective}' is not served here: python-boosting serves "
        "binary:logistic, binary:logitraw, multi:softprob, multi:softmax and reg:/count:/survival: regressions"
    )


def load(path: Path, features: list[Feature], threads: int) -> BoostingPredictor:
    import xgboost as xgb

    booster = xgb.Booster()
    try:
        booster.load_model(str(path))
        config = json.loads(booster.save_config())
    except (xgb.core.XGBoostError, ValueError, UnicodeDecodeError) as exc:
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise PackageError(
            f"artifact '{path.name}': XGBoost cannot read it ({detail}); it is damaged or truncated: "
            "save it again with booster.save_model()"
        ) from None
    learner = config["learner"]
    objective = learner["objective"]["name"]
    classes = int(learner["learner_model_param"].get("num_class", "0"))
    task = task_of(objective, classes)
    names = list(booster.feature_names) if booster.feature_names else None
    check_signature(booster.num_features(), names, features)
    booster.set_param({"nthread": threads})
    kinds = booster.feature_types
    # softmax and logitraw predict a class index or a margin; the probabilities come from the margin.
    margin = objective in ("multi:softmax", "binary:logitraw")

    def scores(X: np.ndarray) -> np.ndarray:
        data = xgb.DMatrix(X, feature_names=names, feature_types=kinds, nthread=threads)
        out = booster.predict(data, output_margin=margin)
        if objective == "binary:logitraw":
            return sigmoid(out.astype(np.float64))
        if objective == "multi:softmax":
            return softmax(out.reshape(len(X), classes).astype(np.float64))
        return out

    return BoostingPredictor(task, classes, scores)
