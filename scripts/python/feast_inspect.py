"""Describe a Feast feature service for paved's bind stage, as one JSON object on stdout.

    PAVED_FEAST_HOME=... <feast-venv>/bin/python scripts/python/feast_inspect.py \
        --repo featurestore/feature_repo --service arrests_model --sample 200 --seed 7

Why Python: `feast serve` answers online reads only. Dtypes, TTLs, materialization
intervals and point-in-time offline values need the Feast SDK. The online side of
the skew check is read by paved through the feature server, the same way model
containers read it, so the check covers the serving path.

A problem the user must fix is one line `paved-feast-error: <sentence>` on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from feast import FeatureStore, FileSource


def fail(message: str) -> None:
    print(f"paved-feast-error: {message}", file=sys.stderr)
    sys.exit(2)


def json_value(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def entity_ids(store: FeatureStore, view, join_key: str) -> np.ndarray:
    source = view.batch_source
    if not isinstance(source, FileSource):
        fail(f"feature view {view.name}: sampling entities needs a file source, not {type(source).__name__}")
    frame = pd.read_parquet(source.path, columns=[join_key])
    return np.unique(frame[join_key].to_numpy())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--at", default=None, help="time of the point-in-time read (ISO 8601); default now")
    args = parser.parse_args()
    at = datetime.fromisoformat(args.at) if args.at else datetime.now(timezone.utc)

    store = FeatureStore(repo_path=args.repo)
    services = sorted(s.name for s in store.list_feature_services())
    try:
        service = store.get_feature_service(args.service)
    except Exception:  # Feast raises its own not-found types, which differ by registry kind
        fail(f"feature service '{args.service}' is not in the registry (it has: {', '.join(services) or 'none'})")

    views, features, join_keys = [], [], []
    for projection in service.feature_view_projections:
        view = store.get_feature_view(projection.name)
        keys = [column.name for column in view.entity_columns]
        join_keys.extend(k for k in keys if k not in join_keys)
        intervals = view.materialization_intervals
        views.append({
            "name": view.name,
            "ttlSeconds": int(view.ttl.total_seconds()) if view.ttl else 0,
            "lastMaterializedEnd": iso(max((end for _, end in intervals), default=None)),
            "joinKeys": keys,
        })
        for field in projection.features:
            features.append({
                "view": view.name,
                "name": field.name,
                "ref": f"{projection.name_to_use()}__{field.name}",
                "dtype": str(field.dtype),
            })
    if len(join_keys) != 1:
        fail(f"feature service '{args.service}' joins on {join_keys or 'no keys'}; paved binds services with one entity key")
    join_key = join_keys[0]

    first = store.get_feature_view(service.feature_view_projections[0].name)
    ids = entity_ids(store, first, join_key)
    rng = np.random.default_rng(args.seed)
    chosen = np.sort(rng.choice(ids, size=min(args.sample, len(ids)), replace=False))
    entity_df = pd.DataFrame({join_key: chosen, "event_timestamp": pd.Timestamp(at)})
    frame = store.get_historical_features(entity_df=entity_df, features=service, full_feature_names=True).to_df()
    # Rows with no value inside the TTL may be dropped by the join: they count as missing, not as absent.
    frame = frame.drop_duplicates(join_key).set_index(join_key).reindex(chosen)
    offline = {f["ref"]: [json_value(v) for v in frame[f["ref"]].tolist()] for f in features}

    proto = store.registry.proto()
    print(json.dumps({
        "project": store.project,
        "service": service.name,
        "registry": {"versionId": proto.version_id, "lastUpdated": iso(proto.last_updated.ToDatetime())},
        "entityKey": join_key,
        "views": views,
        "features": features,
        "sample": {"at": iso(at), "entities": [json_value(v) for v in chosen.tolist()], "offline": offline},
        "entityCount": int(len(ids)),
    }))


if __name__ == "__main__":
    main()
