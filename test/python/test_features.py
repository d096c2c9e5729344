"""The template's feature lookup without a feature server: binding parsing and failure modes.

The lookup against a real `feast serve` is tested end to end in
test/integration/feature-binding.test.ts (real Feast, real container).
"""

import json
import socket

import pytest

from paved_runtime.features import FeatureLookup
from paved_runtime.package import Feature
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


def _serve_once_on_unix(path: str, status: int, body: dict) -> "threading.Thread":
    import threading

    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    seen: dict = {}

    def run() -> None:
        conn, _ = server.accept()
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, rest = data.split(b"\r\n\r\n", 1)
        length = int([h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")][0].split(b":")[1])
        while len(rest) < length:
            rest += conn.recv(65536)
        seen["request"] = head.split(b"\r\n")[0].decode()
        seen["body"] = json.loads(rest)
        payload = json.dumps(body).encode()
        conn.sendall(b"HTTP/1.1 %d X\r\ncontent-length: %d\r\ncontent-type: application/json\r\n\r\n" % (status, len(payload)) + payload)
        conn.close()
        server.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.seen = seen  # type: ignore[attr-defined]
    thread.start()
    return thread


def test_reads_features_through_the_proxy_socket_of_a_sealed_container(tmp_path):
    path = str(tmp_path / "features.sock")
    answer = {
        "metadata": {"feature_names": ["person_id", "person_profile__age"]},
        "results": [{"values": [7], "statuses": ["PRESENT"]}, {"values": [31.0], "statuses": ["PRESENT"]}],
    }
    thread = _serve_once_on_unix(path, 200, answer)
    lookup = FeatureLookup.from_env({"PAVED_FEATURE_BINDING": json.dumps({**BINDING, "server": f"unix:{path}"})})
    out = lookup.expand({"inputs": [{"name": "person_id", "data": [7]}]}, [Feature("age", "float32")])
    thread.join(5)
    assert thread.seen["request"] == "POST /get-online-features HTTP/1.1"
    assert thread.seen["body"] == {"feature_service": "arrests_model", "entities": {"person_id": [7]}, "full_feature_names": True}
    assert out["inputs"] == [{"name": "age", "shape": [1], "datatype": "FP32", "data": [31.0]}]


def test_a_refusal_of_the_feature_proxy_is_a_502_naming_it(tmp_path):
    path = str(tmp_path / "features.sock")
    thread = _serve_once_on_unix(path, 403, {"error": "refused"})
    lookup = FeatureLookup.from_env({"PAVED_FEATURE_BINDING": json.dumps({**BINDING, "server": f"unix:{path}"})})
    with pytest.raises(V2Error) as err:
        lookup.expand({"inputs": [{"name": "person_id", "data": [7]}]}, [Feature("age", "float32")])
    thread.join(5)
    assert err.value.status == 502
    assert "feature proxy: HTTP 403" in err.value.message
