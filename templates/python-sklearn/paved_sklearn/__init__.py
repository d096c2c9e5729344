"""The python-sklearn template's loader: scikit-learn models as skops, ONNX or (after review) pickle.

The shared runtime (paved_runtime) finds this module through PAVED_LOADER and
calls load(); see paved_runtime/package.py for the contract.
"""

from __future__ import annotations

import os
from pathlib import Path

from paved_runtime.package import Feature, Predictor

from .artifacts import PICKLE_EXTENSIONS, load_onnx, load_pickle, load_skops
from .predictors import OnnxPredictor, SklearnPredictor

SUFFIXES = (".skops", ".onnx", *PICKLE_EXTENSIONS)
FORMATS = "use .skops or .onnx (.pkl/.joblib only with PAVED_ALLOW_PICKLE=1)"


def load(path: Path, features: list[Feature], env=os.environ) -> tuple[Predictor, str]:
    suffix = path.suffix.lower()
    if suffix == ".skops":
        return SklearnPredictor(load_skops(path, env), features), "sklearn_skops"
    if suffix == ".onnx":
        return OnnxPredictor(load_onnx(path), features), "onnxruntime_onnx"
    return SklearnPredictor(load_pickle(path, env), features), "sklearn_joblib"
