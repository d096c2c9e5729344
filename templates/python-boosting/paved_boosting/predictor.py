"""Boosted trees behind the runtime's Predictor face, one layout for both libraries.

Classification answers `label` (the argmax class index, INT64) and `probability`:
P(class 1) as a flat [N] vector for a binary model, the [N, K] matrix for K classes
(the python-sklearn template's layout). Regression answers `prediction` (FP64).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from paved_runtime.package import Predictor

BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"


class BoostingPredictor(Predictor):
    def __init__(self, task: str, classes: int, scores: Callable[[np.ndarray], np.ndarray]) -> None:
        self.task = task
        self.classes = classes
        self.scores = scores  # rows -> P(class 1) [N], class probabilities [N, K], or predicted values [N]
        self.has_proba = task != REGRESSION

    def predict(self, X: np.ndarray) -> dict[str, np.ndarray]:
        if X.dtype == object or X.dtype == np.bool_:
            X = X.astype(np.float64)  # mixed int/float inputs arrive as an object matrix
        raw = np.asarray(self.scores(X), dtype=np.float64)
        if self.task == REGRESSION:
            return {"prediction": raw.reshape(-1)}
        if self.task == BINARY:
            p = raw.reshape(-1)
            # argmax over [1 - p, p]: a tie goes to class 0, as the libraries' own predict() does.
            return {"label": (p > 0.5).astype(np.int64), "probability": p}
        proba = raw.reshape(len(X), self.classes)
        return {"label": proba.argmax(axis=1).astype(np.int64), "probability": proba}

    def output_specs(self) -> list[dict]:
        if self.task == REGRESSION:
            return [{"name": "prediction", "datatype": "FP64", "shape": [-1]}]
        shape = [-1] if self.task == BINARY else [-1, self.classes]
        return [{"name": "label", "datatype": "INT64", "shape": [-1]},
                {"name": "probability", "datatype": "FP64", "shape": shape}]


def sigmoid(margin: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-margin))


def softmax(margin: np.ndarray) -> np.ndarray:
    z = np.exp(margin - margin.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)
