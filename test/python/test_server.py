"""The real entry point: uvicorn in a subprocess on 127.0.0.1, stopped with SIGTERM."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import ARRESTS, ARRESTS_PICKLE, RUNTIME, TEMPLATE

RESERVED_PORTS = {5000, 7233, 8233, 9464}  # the platform's own services


def free_port() -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port


def start(model_dir: Path, port: int, **env: str) -> subprocess.Popen:
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PAVED_")},
        "PYTHONPATH": os.pathsep.join([str(RUNTIME), str(TEMPLATE)]),
        "PAVED_LOADER": "paved_sklearn",
        "PAVED_MODEL_DIR": str(model_dir),
        "PAVED_BIND": "127.0.0.1",
        "PAVED_PORT": str(port),
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "paved_runtime"], env=full_env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_ready(proc: subprocess.Popen, base: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited {proc.returncode}: {proc.stderr.read()}")
        try:
            if httpx.get(f"{base}/v2/health/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not become ready")


@pytest.fixture()
def served():
    procs: list[subprocess.Popen] = []

    def run(model_dir: Path, **env: str) -> tuple[subprocess.Popen, str]:
        port = free_port()
        proc = start(model_dir, port, **env)
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        wait_ready(proc, base)
        return proc, base

    yield run
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def test_serves_a_request_then_exits_0_on_sigterm(served, sample):
    proc, base = served(ARRESTS)
    r = httpx.post(f"{base}/v2/models/arrests/infer", json=sample, headers={"x-request-id": "e2e-1"}, timeout=10)
    assert r.status_code == 200
    assert [o["name"] for o in r.json()["outputs"]] == ["label", "probability"]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    lines = [json.loads(line) for line in proc.stdout.read().splitlines()]
    assert any(line.get("request_id") == "e2e-1" and line.get("status") == 200 for line in lines)


# Holds the request inside preprocess until the test says so: it marks that it got there
# (ENTERED) and returns once the test has seen the server start shutting down (GO).
SLOW_HOOK = '''
import time
from pathlib import Path

ENTERED = Path({entered!r})
GO = Path({go!r})

def preprocess(inputs):
    ENTERED.touch()
    deadline = time.monotonic() + 30
    while not GO.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return inputs
'''


def wait_for(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_sigterm_lets_an_in_flight_request_finish(served, sample, tmp_path):
    pkg = tmp_path / "slow"
    shutil.copytree(ARRESTS, pkg)
    entered, go = tmp_path / "entered", tmp_path / "go"
    (pkg / "model.py").write_text(SLOW_HOOK.format(entered=str(entered), go=str(go)))
    proc, base = served(pkg)
    port = int(base.rsplit(":", 1)[1])
    result: dict = {}

    def call() -> None:
        result["response"] = httpx.post(f"{base}/v2/models/arrests/infer", json=sample, timeout=30)

    caller = threading.Thread(target=call)
    caller.start()
    wait_for(entered.exists, "the request to reach preprocess")
    proc.send_signal(signal.SIGTERM)
    # Shutdown closes the listener first: once it refuses connections, the request was
    # in flight when the server began to drain.
    wait_for(lambda: refuses_connections(port), "the server to stop accepting connections")
    assert caller.is_alive()
    go.touch()
    caller.join(30)
    assert result["response"].status_code == 200
    assert proc.wait(15) == 0


def test_pickle_package_exits_with_a_clear_message_without_the_flag():
    proc = start(ARRESTS_PICKLE, free_port())
    assert proc.wait(30) == 78
    assert "PAVED_ALLOW_PICKLE=1" in proc.stderr.read()


def test_serves_on_a_unix_socket_when_sealed(tmp_path, sample):
    # A sealed container's one door in: PAVED_SOCKET instead of a port.
    path = str(tmp_path / "model.sock")
    proc = start(ARRESTS, free_port(), PAVED_SOCKET=path)
    try:
        transport = httpx.HTTPTransport(uds=path)
        with httpx.Client(transport=transport, base_url="http://model") as client:
            deadline = time.monotonic() + 30
            while True:
                assert proc.poll() is None, proc.stderr.read()
                try:
                    if client.get("/v2/health/ready", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "not ready on the socket"
                    time.sleep(0.1)
            r = client.post("/v2/models/arrests/infer", json=sample, timeout=10)
            assert r.status_code == 200
            assert [o["name"] for o in r.json()["outputs"]] == ["label", "probability"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
