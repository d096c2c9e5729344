"""LightGBM boosters from the text model: task and signature from its header.

LightGBM parses trees in parallel threads, and a damaged tree there aborts the
whole process (SIGABRT or SIGSEGV) instead of raising. So the file's structure is
checked first, and then it is loaded once in a child process: if that dies, the
runtime says so in one line rather than dying the same way itself.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from paved_runtime.package import Feature, PackageError

from .predictor import BINARY, MULTICLASS, REGRESSION, BoostingPredictor
from .signature import check_signature

REGRESSION_OBJECTIVES = {
    "regression", "regression_l1", "huber", "fair", "poisson", "quantile", "mape", "gamma", "tweedie",
    "cross_entropy", "cross_entropy_lambda",
}
_UNNAMED = re.compile(r"^Column_\d+$")  # what LightGBM calls the features of a numpy matrix
_TRIAL = "import sys, lightgbm; lightgbm.Booster(model_file=sys.argv[1])"


def task_of(objective: str) -> str:
    if objective == "binary":
        return BINARY
    if objective in ("multiclass", "multiclassova"):
        return MULTICLASS
    if objective in REGRESSION_OBJECTIVES:
        return REGRESSION
    raise PackageError(
        f"the LightGBM model's objective '{objective}' is not served here: python-boosting serves binary, "
        f"multiclass, multiclassova and the regressions ({', '.join(sorted(REGRESSION_OBJECTIVES))})"
    )


def damaged(path: Path, why: str) -> PackageError:
    return PackageError(
        f"artifact '{path.name}': not a complete LightGBM model ({why}); it is damaged or truncated: "
        "save it again with booster.save_model('model.txt')"
    )


def read_header(path: Path) -> dict[str, str]:
    """The key=value lines before the first tree, after checking every tree is there."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise damaged(path, "it is not UTF-8 text") from None
    lines = text.splitlines()
    header: dict[str, str] = {}
    for line in lines[1:]:
        if not line or line.startswith("Tree="):
            break
        key, _, value = line.partition("=")
        header[key] = value
    for key in ("objective", "max_feature_idx", "tree_sizes"):
        if key not in header:
            raise damaged(path, f"its header has no {key}")
    trees = sum(1 for line in lines if line.startswith("Tree="))
    if trees != len(header["tree_sizes"].split()):
        raise damaged(path, f"the header lists {len(header['tree_sizes'].split())} trees but {trees} follow")
    # save_model() writes both; a file cut anywhere after the trees still lacks the last one.
    for end in ("end of trees", "end of parameters"):
        if end not in lines:
            raise damaged(path, f"it has no '{end}' line")
    return header


def trial_load(path: Path) -> None:
    try:
        done = subprocess.run([sys.executable, "-c", _TRIAL, str(path)], capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        raise damaged(path, "LightGBM did not finish reading it in 300 s") from None
    if done.returncode < 0:
        raise damaged(path, f"LightGBM crashed reading it, {signal.Signals(-done.returncode).name}")
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise damaged(path, f"LightGBM: {last[:200]}")


def load(path: Path, features: list[Feature], threads: int) -> BoostingPredictor:
    import lightgbm as lgb

    header = read_header(path)
    trial_load(path)
    try:
        booster = lgb.Booster(model_file=str(path))
    except lgb.basic.LightGBMError as exc:
        raise damaged(path, f"LightGBM: {str(exc)[:200]}") from None
    task = task_of(header["objective"].split()[0])
    classes = booster.num_model_per_iteration() if task == MULTICLASS else (2 if task == BINARY else 0)
    names = booster.feature_name()
    if all(_UNNAMED.match(n) for n in names):
        names = None  # trained on a matrix: only the count says anything
    check_signature(booster.num_feature(), names, features)

    def scores(X: np.ndarray) -> np.ndarray:
        return booster.predict(X, num_threads=threads)

    return BoostingPredictor(task, classes, scores)
