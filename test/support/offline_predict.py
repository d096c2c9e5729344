"""The predictions a model's own library makes, outside any server: what serving must equal.

usage: offline_predict.py ARTIFACT REQUEST.json

ARTIFACT is a LightGBM text model (.txt), an XGBoost model (.ubj/.json) or a skops
file; REQUEST.json a V2 JSON request with one input per feature, in the model's
order. Prints {"label": [...], "probability": [...]} for a binary classifier.
"""

import json
import sys

import numpy as np


def main() -> None:
    artifact, request_file = sys.argv[1:3]
    request = json.loads(open(request_file).read())
    X = np.column_stack([np.asarray(i["data"], dtype=np.float32) for i in request["inputs"]])
    if artifact.endswith(".txt"):
        import lightgbm

        proba = lightgbm.Booster(model_file=artifact).predict(X)
    elif artifact.endswith((".ubj", ".json")):
        import xgboost

        booster = xgboost.Booster()
        booster.load_model(artifact)
        proba = booster.predict(xgboost.DMatrix(X))
    else:
        import skops.io as sio

        model = sio.load(artifact, trusted=sio.get_untrusted_types(file=artifact))
        proba = model.predict_proba(X)[:, 1]
    proba = np.asarray(proba, dtype=np.float64)
    print(json.dumps({"label": (proba > 0.5).astype(int).tolist(), "probability": proba.tolist()}))


if __name__ == "__main__":
    main()
