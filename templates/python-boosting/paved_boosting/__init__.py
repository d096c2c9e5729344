"""The python-boosting template's loader: XGBoost (.ubj, .json) and LightGBM (.txt) models.

Only the libraries' own model formats, which hold trees and numbers and no code.
The shared runtime (paved_runtime) finds this module through PAVED_LOADER and
calls load(); see paved_runtime/package.py for the contract.
"""

from __future__ import annotations

import os
from pathlib import Path

from paved_runtime.package import Feature, PackageError, Predictor

from . import lightgbm_model, xgboost_model
from .sniff import check_content

SUFFIXES = (".ubj", ".json", ".txt")
FORMATS = (
    "use XGBoost's .ubj or .json (booster.save_model('model.ubj')) or LightGBM's text model "
    "(booster.save_model('model.txt')); pickles are never loaded by this template"
)
PLATFORMS = {".ubj": "xgboost_ubj", ".json": "xgboost_json", ".txt": "lightgbm_text"}


def threads(env) -> int:
    # Share the container's CPU quota instead of spinning one thread per host core.
    raw = env.get("PAVED_THREADS", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise PackageError(f"PAVED_THREADS={raw!r}: must be a positive whole number of threads")
    return int(raw)


def load(path: Path, features: list[Feature], env=os.environ) -> tuple[Predictor, str]:
    text = [f"{f.name} ({f.dtype})" for f in features if f.dtype == "string"]
    if text:
        raise PackageError(
            f"paved.yaml: inputs — {', '.join(text)} is text, but boosted trees take numbers; "
            "encode it as a number (a category code or 0/1) before training and declare it float32"
        )
    suffix = path.suffix.lower()
    check_content(path, suffix)
    library = lightgbm_model if suffix == ".txt" else xgboost_model
    return library.load(path, features, threads(env)), PLATFORMS[suffix]
