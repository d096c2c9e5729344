"""Fixtures for the python-sklearn template tests: the arrests example package, served in-process."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "templates" / "python-sklearn"
ARRESTS = ROOT / "examples" / "arrests"
ARRESTS_PICKLE = ROOT / "examples" / "arrests-pickle"
FEATURES = ["age", "employed", "citizen", "checks", "year"]

sys.path.insert(0, str(TEMPLATE))

from starlette.testclient import TestClient  # noqa: E402

from paved_runtime.app import create_app  # noqa: E402
from paved_runtime.loader import load_package  # noqa: E402


@pytest.fixture(scope="session")
def package():
    return load_package(ARRESTS, env={})


@pytest.fixture()
def client(package):
    with TestClient(create_app(package, env={})) as c:
        yield c


@pytest.fixture(scope="session")
def sample() -> dict:
    return json.loads((ARRESTS / "sample-request.json").read_text())


@pytest.fixture()
def package_copy(tmp_path) -> Path:
    """A writable copy of examples/arrests for tests that add model.py or break the manifest."""
    dest = tmp_path / "pkg"
    shutil.copytree(ARRESTS, dest)
    return dest
