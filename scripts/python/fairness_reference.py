"""Fairlearn's figures for the cases on stdin, as JSON on stdout: the reference that
src/domain/fairness.ts must equal.

    <feast-venv>/bin/python scripts/python/fairness_reference.py < cases.json

Input: {"cases": [{"id": "...", "yPred": [0, 1, ...], "yTrue": [...] or null,
                   "sensitive": {"colour": ["Black", ...]},
                   "categories": {"colour": ["Black", "White", "Other"]}}]}
`categories` is optional: it makes the column a pandas Categorical, so a declared
group without rows can be checked against what Fairlearn does with it.

Output: {"fairlearn": version, "cases": [{"id": ..., "attributes": {"colour": {
    "byGroup": {group: {count, selectionRate, truePositiveRate, falsePositiveRate}},
    "difference": {...}, "ratio": {...},     # MetricFrame, method='between_groups'
    "demographicParityDifference", "demographicParityRatio", "equalizedOddsDifference"}}}]}
NaN is written as null; where Fairlearn raises, the attribute is {"error": message}.
Without labels the rates that need them are null and equalized odds is not computed.

Why Python: the point is to compare with Fairlearn itself, not with a reading of it.
"""

from __future__ import annotations

import json
import math
import sys
import warnings

import fairlearn
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)


def num(v) -> float | None:
    v = float(v)
    return None if math.isnan(v) else v


def attribute(y_pred, y_true, values, categories) -> dict:
    sf = pd.Series(pd.Categorical(values, categories=categories) if categories is not None else values)
    labelled = y_true is not None
    yt = y_true if labelled else y_pred  # ignored by selection_rate and count
    metrics = {"count": count, "selectionRate": selection_rate}
    if labelled:
        metrics |= {"truePositiveRate": true_positive_rate, "falsePositiveRate": false_positive_rate}
    try:
        mf = MetricFrame(metrics=metrics, y_true=yt, y_pred=y_pred, sensitive_features=sf)
        rates = [k for k in metrics if k != "count"]
        by_group = {
            str(g): {
                "count": int(row["count"]),
                **{k: num(row[k]) for k in rates},
            }
            for g, row in mf.by_group.iterrows()
        }
        diff = mf.difference(method="between_groups")
        ratio = mf.ratio(method="between_groups")
        out = {
            "byGroup": by_group,
            "difference": {k: num(diff[k]) for k in rates},
            "ratio": {k: num(ratio[k]) for k in rates},
            "demographicParityDifference": num(demographic_parity_difference(yt, y_pred, sensitive_features=sf)),
            "demographicParityRatio": num(demographic_parity_ratio(yt, y_pred, sensitive_features=sf)),
            "equalizedOddsDifference": (
                num(equalized_odds_difference(y_true, y_pred, sensitive_features=sf)) if labelled else None
            ),
        }
        return out
    except Exception as err:  # noqa: BLE001 - the caller compares the failure, whatever it is
        return {"error": f"{type(err).__name__}: {err}"}


def main() -> None:
    # 0/0 rates are part of what is compared; their RuntimeWarnings are noise here.
    warnings.simplefilter("ignore")
    request = json.load(sys.stdin)
    cases = []
    for case in request["cases"]:
        categories = case.get("categories") or {}
        cases.append(
            {
                "id": case["id"],
                "attributes": {
                    name: attribute(case["yPred"], case.get("yTrue"), values, categories.get(name))
                    for name, values in case["sensitive"].items()
                },
            }
        )
    json.dump({"fairlearn": fairlearn.__version__, "cases": cases}, sys.stdout, allow_nan=False)


if __name__ == "__main__":
    main()
