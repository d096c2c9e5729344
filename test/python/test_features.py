"""The template's feature lookup without a feature server: binding parsing and failure modes.

The lookup against a real `feast serve` is tested end to end in
test/integration/feature-binding.test.ts (real Feast, real container).
"""

import json
import socket

import pytest

from paved_runtime.features import FeatureLookup
from paved_runtime.loader import Feature
from paved_runtime.v2 import V2Error

BINDING = {
    "server": "http://127.0.0.1:6566/",
    "service": "arrests_model",
    "entityKey": "person_id",
    "inputs": [{"name": "age", "ref": "person_profile__age"}, {"name": "hour", "ref": None}],
}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_binding_means_no_lookup():
    assert FeatureLookup.from_env({}) is None


def test_reads_the_binding_and_keeps_only_feast_inputs():
    lookup = FeatureLookup.from_env({"PAVED_FEATURE_BINDING": json.dumps(BINDING)})
    assert lookup.server == "http://127.0.0.1:6566"
    assert lookup.refs == {"age": "person_profile__age"}
    assert lookup.wants({"inputs": [{"name": "person_id", "data": [1]}]})
    assert not lookup.wants({"inputs": [{"name": "age", "data": [1.0]}]})


def test_a_broken_binding_is_named():
    with pytest.raises(ValueError, match="PAVED_FEATURE_BINDING is not a binding from the bind stage"):
        FeatureLookup.from_env({"PAVED_FEATURE_BINDING": '{"server": 1}'})


def test_bad_entity_ids_are_a_400_naming_the_key():
    lookup = FeatureLookup.from_env({"PAVED_FEATURE_BINDING": json.dumps(BINDING)})
    with pytest.raises(V2Error) as err:
        lookup.expand({"inputs": [{"name": "person_id", "data": [True]}]}, [Feature("age", "float32")])
    assert err.value.status == 400
    assert err.value.message == "inputs[0].data: person_id must be a non-empty list of entity ids"


def test_a_feature_server_that_does_not_answer_is_a_503_not_a_500():
    binding = {**BINDING, "server": f"http://127.0.0.1:{closed_port()}"}
    lookup = FeatureLookup.from_env({"PAVED_FEATURE_BINDING": json.dumps(binding)})
    with pytest.raises(V2Error) as err:
        lookup.expand({"inputs": [{"name": "person_id", "data": [1]}]}, [Feature("age", "float32")])
    assert err.value.status == 503
    assert "does not answer" in err.value.message
