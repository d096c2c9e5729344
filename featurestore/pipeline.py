"""The data pipeline: build the source tables, register the definitions, materialize.

Run with the Feast venv (`paved stack up` does, when the definitions changed or
the last run is older than half a TTL):

    PAVED_FEAST_HOME=.paved/featurestore .paved/feast-venv/bin/python featurestore/pipeline.py

The arrests data (scikit-lego, shipped inside the package) has no keys and no
times, so the pipeline gives every row a person_id (row number, from 1) and
publishes it as a snapshot taken an hour before --as-of; labels are observed at
--as-of, so a point-in-time join for a label sees exactly that snapshot.
`--as-of` in the past is how a test makes a store whose last materialization is stale.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
from feast import FeatureStore
from sklego.datasets import load_arrests

REPO = Path(__file__).resolve().parent / "feature_repo"
SNAPSHOT_LAG = timedelta(hours=1)
YES = {"Yes": 1.0, "No": 0.0}


def home() -> Path:
    value = os.environ.get("PAVED_FEAST_HOME")
    if not value:
        sys.exit("pipeline: set PAVED_FEAST_HOME to the directory that holds the store (e.g. .paved/featurestore)")
    # Absolute, and exported so: Feast resolves relative store paths against the repo.
    resolved = Path(value).resolve()
    os.environ["PAVED_FEAST_HOME"] = str(resolved)
    return resolved


def parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        sys.exit(f"pipeline: --as-of {text!r} is not an ISO 8601 time, e.g. 2026-11-22T09:00:00Z")
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def tables(as_of: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = load_arrests(as_frame=True)
    person_id = pd.RangeIndex(1, len(df) + 1).to_numpy(dtype="int64")
    snapshot = pd.Timestamp(as_of - SNAPSHOT_LAG)
    people = pd.DataFrame({
        "person_id": person_id,
        "age": df["age"].astype("float32").to_numpy(),
        "employed": df["employed"].map(YES).astype("float32").to_numpy(),
        "citizen": df["citizen"].map(YES).astype("float32").to_numpy(),
        "checks": df["checks"].astype("float32").to_numpy(),
        "year": df["year"].astype("float32").to_numpy(),
        "colour": df["colour"].astype(str).to_numpy(),
        "sex": df["sex"].astype(str).to_numpy(),
        "event_timestamp": snapshot,
        "created": snapshot,
    })
    labels = pd.DataFrame({
        "person_id": person_id,
        "event_timestamp": pd.Timestamp(as_of),
        "released": (df["released"] == "Yes").astype("int64").to_numpy(),
    })
    return people, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--as-of", default=None, help="snapshot time (ISO 8601); default now")
    args = parser.parse_args()
    as_of = parse_time(args.as_of) if args.as_of else datetime.now(timezone.utc).replace(microsecond=0)

    data = home() / "data"
    data.mkdir(parents=True, exist_ok=True)
    people, labels = tables(as_of)
    # Write then rename, so `feast serve` or a training run never reads half a file.
    for name, frame in (("people", people), ("labels", labels)):
        partial = data / f".{name}.parquet.partial"
        frame.to_parquet(partial, index=False)
        partial.replace(data / f"{name}.parquet")

    feast = Path(sys.executable).parent / "feast"
    subprocess.run([str(feast), "--chdir", str(REPO), "apply"], check=True, stdout=sys.stderr)

    store = FeatureStore(repo_path=str(REPO))
    views = store.list_feature_views()
    longest = max(view.ttl for view in views)
    store.materialize(start_date=as_of - longest, end_date=as_of)

    state = {"asOf": as_of.isoformat(), "rows": len(people), "views": sorted(v.name for v in views)}
    (home() / "pipeline.json").write_text(json.dumps(state, indent=2) + "\n")
    print(json.dumps(state))


if __name__ == "__main__":
    main()
