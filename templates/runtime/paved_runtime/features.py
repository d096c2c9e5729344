"""Requests by entity key: the model's inputs come from the bound Feast feature service.

The platform's bind stage decides the binding and hands it to the container as
PAVED_FEATURE_BINDING (JSON: server, service, entityKey, inputs[{name, ref}]), so
no package carries a feature-server address or a feature list of its own. A
request that names the entity key, e.g.

    {"inputs": [{"name": "person_id", "shape": [2], "datatype": "INT64", "data": [17, 42]}]}

is expanded into one input per model feature, read from the online store, plus
any request-time inputs the caller sent. A request with every input works as before.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from .package import Feature
from .v2 import V2Error

# The feature server is on loopback: never route it through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over a unix socket: a sealed container's one door out is the feature proxy's socket."""

    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def _post_unix(path: str, route: str, payload: bytes, timeout: float) -> tuple[int, bytes]:
    conn = _UnixConnection(path, timeout)
    try:
        conn.request("POST", route, body=payload, headers={"content-type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass
class FeatureLookup:
    server: str
    service: str
    entity_key: str
    refs: dict[str, str]  # model input name -> Feast feature ref (view__feature)
    timeout: float = 2.0

    @classmethod
    def from_env(cls, env) -> "FeatureLookup | None":
        raw = env.get("PAVED_FEATURE_BINDING")
        if not raw:
            return None
        try:
            doc = json.loads(raw)
            refs = {i["name"]: i["ref"] for i in doc["inputs"] if i.get("ref")}
            return cls(str(doc["server"]).rstrip("/"), str(doc["service"]), str(doc["entityKey"]), refs)
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"PAVED_FEATURE_BINDING is not a binding from the bind stage: {exc}") from None

    def wants(self, body: Any) -> bool:
        return isinstance(body, dict) and isinstance(body.get("inputs"), list) and any(
            isinstance(i, dict) and i.get("name") == self.entity_key for i in body["inputs"]
        )

    def expand(self, body: dict, features: list[Feature]) -> dict:
        """The same request with the entity key replaced by the bound features' values."""
        inputs = body["inputs"]
        k = next(k for k, i in enumerate(inputs) if i.get("name") == self.entity_key)
        ids = inputs[k].get("data")
        if not isinstance(ids, list) or not ids or not all(isinstance(v, (int, str)) and not isinstance(v, bool) for v in ids):
            raise V2Error(f"inputs[{k}].data: {self.entity_key} must be a non-empty list of entity ids")
        answer = self._online(ids)
        names = answer["metadata"]["feature_names"]
        by_ref = {name: answer["results"][j] for j, name in enumerate(names)}
        added = []
        for feature in features:
            ref = self.refs.get(feature.name)
            if ref is None:
                continue  # a request-time input: the caller sends it
            result = by_ref.get(ref)
            if result is None:
                raise V2Error(f"feature service {self.service}: the feature server returned no {ref}", 502)
            for row, (value, status) in enumerate(zip(result["values"], result["statuses"])):
                if status == "NOT_FOUND":
                    raise V2Error(f"{self.entity_key} {json.dumps(ids[row])}: not found in feature service {self.service}", 404)
                if value is None:
                    raise V2Error(f"{self.entity_key} {json.dumps(ids[row])}: {feature.name} ({ref}) has no value ({status})", 422)
            added.append({"name": feature.name, "shape": [len(ids)], "datatype": feature.datatype, "data": result["values"]})
        return {**body, "inputs": inputs[:k] + inputs[k + 1:] + added}

    def _online(self, ids: list) -> dict:
        payload = json.dumps({
            "feature_service": self.service,
            "entities": {self.entity_key: ids},
            "full_feature_names": True,
        }).encode()
        if self.server.startswith("unix:"):
            try:
                status, raw = _post_unix(self.server[len("unix:"):], "/get-online-features", payload, self.timeout)
            except (TimeoutError, OSError) as exc:
                raise V2Error(f"feature proxy does not answer ({exc}); try again shortly", 503) from None
            if status != 200:
                detail = raw[:200].decode("utf-8", "replace")
                raise V2Error(f"feature proxy: HTTP {status}: {detail}", 502)
            return json.loads(raw)
        request = urllib.request.Request(
            f"{self.server}/get-online-features", data=payload, headers={"content-type": "application/json"}
        )
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:200].decode("utf-8", "replace")
            raise V2Error(f"feature server {self.server}: HTTP {exc.code}: {detail}", 502) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise V2Error(f"feature server {self.server} does not answer ({exc}); try again shortly", 503) from None
