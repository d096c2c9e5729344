"""`paved init --data`: reads a scientist's table and describes it for paved.yaml.

Run in the template's training environment (the image's pins plus pandas), so the
dtypes it reports are the ones train.py will see. Writes the traffic sample (the
held-out rows, with their labels, in docs/traffic-format.md) and prints one JSON
object on stdout: the model inputs with their dtypes, the label's classes, counts.
A problem is one line on stderr naming the option and the fix, and exit code 2.

The held-out split (a quarter, stratified, seed 42) is the one the generated
train.py makes, so the shadow stage replays rows the model never trained on.
"""
import argparse
import json
import sys

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

SEED = 42
HELD_OUT = 0.25
MAX_SAMPLE = 2000
DATATYPE = {"float64": "FP64", "int64": "INT64", "bool": "BOOL", "string": "BYTES"}
POSITIVE_WORDS = {"1", "true", "yes", "y", "t", "positive", "pos"}


def fail(message: str) -> None:
    print(message, file=sys.stderr)
    sys.exit(2)


def read(path: str) -> pd.DataFrame:
    lower = path.lower()
    try:
        if lower.endswith((".parquet", ".pq")):
            return pd.read_parquet(path)
        if lower.endswith((".csv", ".csv.gz", ".tsv")):
            return pd.read_csv(path, sep="\t" if lower.endswith(".tsv") else ",")
    except FileNotFoundError:
        fail(f"--data {path}: no such file. Fix: give the path of your CSV or parquet file")
    except Exception as err:  # a parser error says more than a type name
        fail(f"--data {path}: cannot be read ({err}). Fix: give a CSV with a header row, or a parquet file")
    fail(f"--data {path}: neither CSV nor parquet. Fix: give a .csv, .tsv or .parquet file")
    raise AssertionError


def dtype_of(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "int64"
    if pd.api.types.is_float_dtype(series):
        return "float64"
    return "string"


def positive_class(values: list, given: str | None, label: str) -> str:
    texts = [str(v) for v in values]
    if given is not None:
        if given not in texts:
            fail(f"--positive {given}: --label {label} has the values {', '.join(texts)}. Fix: give one of them")
        return given
    hits = [t for t in texts if t.lower() in POSITIVE_WORDS]
    if len(hits) == 1:
        return hits[0]
    fail(f"--label {label} has the values {', '.join(texts)}: which one is the positive outcome? Fix: add --positive {texts[-1]}")
    raise AssertionError


def value(v, dtype: str):
    if dtype == "bool":
        return bool(v)
    if dtype == "int64":
        return int(v)
    if dtype == "float64":
        return float(v)
    return str(v)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--label", required=True)
    ap.add_argument("--positive")
    ap.add_argument("--drop", nargs="*", default=[])
    ap.add_argument("--sensitive", nargs="*", default=[])
    ap.add_argument("--sample", required=True)
    a = ap.parse_args()

    df = read(a.data)
    columns = [str(c) for c in df.columns]
    df.columns = columns
    for opt, names in (("--label", [a.label]), ("--drop", a.drop), ("--sensitive", a.sensitive)):
        for name in names:
            if name not in columns:
                fail(f"{opt} {name}: the data has no such column (it has {', '.join(columns)}). Fix: use one of them")
    classes = sorted(df[a.label].dropna().unique().tolist(), key=str)
    if len(classes) != 2:
        shown = ", ".join(str(c) for c in classes[:6]) + (" …" if len(classes) > 6 else "")
        fail(
            f"--label {a.label} has {len(classes)} distinct values ({shown}); the python-sklearn starter trains a binary "
            "classifier. Fix: give a column with two outcomes, e.g. 0/1 or yes/no"
        )
    positive = positive_class(classes, a.positive, a.label)
    negative = next(str(c) for c in classes if str(c) != positive)

    feature_names = [c for c in columns if c != a.label and c not in a.drop]
    if not feature_names:
        fail("the data has no column left to be a model input. Fix: drop fewer columns")
    inputs = [{"name": c, "dtype": dtype_of(df[c])} for c in feature_names]
    y = (df[a.label].astype(str) == positive).astype(int).to_numpy()

    # The same split train.py makes: the sample is rows the model never sees in training.
    _, held = train_test_split(np.arange(len(df)), test_size=HELD_OUT, random_state=SEED, stratify=y)
    held = np.sort(held)
    attribute_names = [c for c in a.sensitive if c not in feature_names]
    lines = 0
    incomplete = 0
    with open(a.sample, "w", encoding="utf-8") as out:
        for row in held:
            record = df.iloc[row]
            if record[feature_names].isna().any():
                incomplete += 1
                continue
            if lines >= MAX_SAMPLE:
                break
            line = {
                "t": lines * 100,
                "key": None,
                "request": {
                    "inputs": [
                        {
                            "name": i["name"],
                            "shape": [1],
                            "datatype": DATATYPE[i["dtype"]],
                            "data": [value(record[i["name"]], i["dtype"])],
                        }
                        for i in inputs
                    ]
                },
                "label": int(y[row]),
            }
            if attribute_names:
                line["attributes"] = {
                    n: None if pd.isna(record[n]) else value(record[n], dtype_of(df[n])) for n in attribute_names
                }
            out.write(json.dumps(line) + "\n")
            lines += 1
    if lines == 0:
        fail(f"--data {a.data}: every held-out row misses an input value. Fix: fill or drop the empty columns")
    print(
        json.dumps(
            {
                "inputs": inputs,
                "rows": int(len(df)),
                "heldOut": int(len(held)),
                "sampleLines": lines,
                "incomplete": incomplete,
                "label": {"column": a.label, "positive": positive, "negative": negative},
                "attributes": attribute_names,
            }
        )
    )


if __name__ == "__main__":
    main()
