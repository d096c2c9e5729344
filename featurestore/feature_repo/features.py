"""Feature definitions for the arrests data, owned by the data engineer.

Models name a feature service, never a file: training reads the service from the
offline store (point-in-time join), serving reads the same definitions from the
online store, and paved's bind stage checks the two agree.
"""

import os
from datetime import timedelta
from pathlib import Path

from feast import Entity, FeatureService, FeatureView, Field, FileSource, ValueType
from feast.types import Float32, String

DATA = Path(os.environ["PAVED_FEAST_HOME"]) / "data"

person = Entity(
    name="person",
    join_keys=["person_id"],
    value_type=ValueType.INT64,
    description="One person in the Toronto arrests data (row number, from 1).",
)

people = FileSource(
    name="people",
    path=str(DATA / "people.parquet"),
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
)

# Daily snapshots: a value older than a day is stale, and the bind stage says so.
person_profile = FeatureView(
    name="person_profile",
    entities=[person],
    ttl=timedelta(days=1),
    schema=[
        Field(name="age", dtype=Float32, description="age in years"),
        Field(name="employed", dtype=Float32, description="1.0 when employed, else 0.0"),
        Field(name="citizen", dtype=Float32, description="1.0 when a Canadian citizen, else 0.0"),
        Field(name="colour", dtype=String, description="sensitive: recorded skin colour"),
        Field(name="sex", dtype=String, description="sensitive: recorded sex"),
    ],
    source=people,
    online=True,
)

person_record = FeatureView(
    name="person_record",
    entities=[person],
    ttl=timedelta(days=1),
    schema=[
        Field(name="checks", dtype=Float32, description="police database checks (0-6)"),
        Field(name="year", dtype=Float32, description="year of the arrest"),
    ],
    source=people,
    online=True,
)

arrests_model = FeatureService(
    name="arrests_model",
    features=[
        person_profile[["age", "employed", "citizen"]],
        person_record[["checks", "year"]],
    ],
    description="Inputs of the arrests release model (examples/arrests).",
)

# Not model inputs: the attributes the bias gate groups predictions by.
arrests_sensitive = FeatureService(
    name="arrests_sensitive",
    features=[person_profile[["colour", "sex"]]],
    description="Sensitive attributes for fairness checks; no model may take these as inputs.",
)
