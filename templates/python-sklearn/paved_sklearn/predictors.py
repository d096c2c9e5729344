"""scikit-learn estimators and skl2onnx graphs behind the runtime's Predictor face."""

from __future__ import annotations

from typing import Any

import numpy as np

from paved_runtime.package import Feature, PackageError, Predictor, datatype_of


class SklearnPredictor(Predictor):
    def __init__(self, estimator: Any, features: list[Feature]) -> None:
        if not hasattr(estimator, "predict"):
            raise PackageError(f"the artifact holds a {type(estimator).__name__}, which has no predict()")
        n_in = getattr(estimator, "n_features_in_", None)
        if n_in is not None and n_in != len(features):
            raise PackageError(
                f"the model was fitted on {n_in} features but paved.yaml declares {len(features)} inputs "
                f"({', '.join(f.name for f in features)})"
            )
        names = getattr(estimator, "feature_names_in_", None)
        if names is not None and list(names) != [f.name for f in features]:
            raise PackageError(
                f"the model was fitted on columns {list(names)} but paved.yaml declares "
                f"{[f.name for f in features]}; list the inputs in the model's order"
            )
        self.estimator = estimator
        self.column_names = list(names) if names is not None else None
        self.has_proba = hasattr(estimator, "predict_proba")
        classes = getattr(estimator, "classes_", None)
        # A regressor has no classes_; its "label" is the predicted value.
        self.label_datatype = datatype_of(np.asarray(classes).dtype) if classes is not None else "FP64"

    def _frame(self, X: np.ndarray) -> Any:
        # A model fitted on a DataFrame selects columns by name; give it one when pandas is there.
        if self.column_names is None:
            return X
        try:
            import pandas as pd
        except ImportError:
            return X
        return pd.DataFrame(X, columns=self.column_names)

    def predict(self, X: np.ndarray) -> dict[str, np.ndarray]:
        X = self._frame(X)
        out = {"label": np.asarray(self.estimator.predict(X))}
        if self.has_proba:
            out["probability"] = positive_class(np.asarray(self.estimator.predict_proba(X)))
        return out


class OnnxPredictor(Predictor):
    """skl2onnx-style graphs: outputs[0] is the label, outputs[1] (if any) the probabilities."""

    def __init__(self, session: Any, features: list[Feature]) -> None:
        self.session = session
        self.inputs = session.get_inputs()
        self.output_names = [o.name for o in session.get_outputs()]
        self.has_proba = len(self.output_names) > 1
        if len(self.inputs) not in (1, len(features)):
            raise PackageError(
                f"the ONNX graph has {len(self.inputs)} inputs; expected 1 (an [N, {len(features)}] tensor) "
                f"or one per declared feature ({len(features)})"
            )
        self.features = features

    def predict(self, X: np.ndarray) -> dict[str, np.ndarray]:
        if len(self.inputs) == 1:
            feed = {self.inputs[0].name: X}
        else:
            feed = {i.name: X[:, [k]] for k, i in enumerate(self.inputs)}
        results = self.session.run(self.output_names, feed)
        out = {"label": np.asarray(results[0]).reshape(-1)}
        if self.has_proba:
            proba = results[1]
            if isinstance(proba, list):  # ZipMap: one {class: p} dict per row, classes in order
                proba = np.array([list(row.values()) for row in proba])
            out["probability"] = positive_class(np.asarray(proba))
        return out


def positive_class(proba: np.ndarray) -> np.ndarray:
    """Binary models report P(classes_[1]); multi-class keeps the [N, K] matrix."""
    if proba.ndim == 2 and proba.shape[1] == 2:
        return proba[:, 1]
    return proba
