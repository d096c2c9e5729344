"""Trains this package's model on your table and saves model.skops (skops: the
golden-path format).

Run it with `npx paved train <this directory>`: that runs it in the exact Python
environment the python-sklearn image serves with (same interpreter, same
scikit-learn, skops and numpy), so what you train is what serves.

The model's columns are `inputs` in paved.yaml, in that order: change them there.
The data file and the label are below; `paved train DIR --data other.csv` trains
on another file with the same columns. A quarter of the rows (stratified, seed
42) is held out: traffic-sample.jsonl holds those rows, so the shadow stage
measures the model on rows it never trained on.
"""
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio
import yaml
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

DATA = sys.argv[1] if len(sys.argv) > 1 else __DATA__
LABEL = __LABEL__
POSITIVE = __POSITIVE__
SEED = 42
HELD_OUT = 0.25
NUMPY = {"float32": np.float32, "float64": np.float64, "int32": np.int32, "int64": np.int64, "bool": np.bool_}

here = Path(__file__).resolve().parent
inputs = yaml.safe_load((here / "paved.yaml").read_text())["inputs"]
names = [i["name"] for i in inputs]
df = pd.read_parquet(DATA) if DATA.lower().endswith((".parquet", ".pq")) else pd.read_csv(DATA)
y_all = (df[LABEL].astype(str) == POSITIVE).astype(int).to_numpy()
train_rows, test_rows = train_test_split(
    np.arange(len(df)), test_size=HELD_OUT, random_state=SEED, stratify=y_all
)


def matrix(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Columns in paved.yaml's order, one shared dtype when they agree: what the server builds."""
    part = df.iloc[rows]
    part = part[part[names].notna().all(axis=1)]
    cols = [
        part[n].astype(str).to_numpy(dtype=object) if i["dtype"] == "string" else part[n].to_numpy(NUMPY[i["dtype"]])
        for n, i in zip(names, inputs)
    ]
    kinds = {c.dtype for c in cols}
    X = np.empty((len(part), len(names)), dtype=kinds.pop() if len(kinds) == 1 else object)
    for k, c in enumerate(cols):
        X[:, k] = c
    return X, (part[LABEL].astype(str) == POSITIVE).astype(int).to_numpy()


X_train, y_train = matrix(train_rows)
X_test, y_test = matrix(test_rows)
text = [k for k, i in enumerate(inputs) if i["dtype"] == "string"]
numeric = [k for k, i in enumerate(inputs) if i["dtype"] != "string"]
model = make_pipeline(
    ColumnTransformer(
        [("numeric", StandardScaler(), numeric), ("text", OneHotEncoder(handle_unknown="ignore"), text)]
    ),
    LogisticRegression(class_weight="balanced", max_iter=1000, random_state=SEED),
)
model.fit(X_train, y_train)
print(f"trained on {len(y_train)} rows; held-out accuracy {model.score(X_test, y_test):.3f} on {len(y_test)} rows")
sio.dump(model, here / "model.skops")
print(f"saved {here / 'model.skops'}")
