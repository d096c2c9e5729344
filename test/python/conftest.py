"""Fixtures for the template tests: the shared runtime with both templates' loaders, in one process.

Each template's loader has its own module name (paved_sklearn, paved_boosting), so
templates/runtime and both template directories can all be on sys.path at once.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "templates" / "runtime"
TEMPLATE = ROOT / "templates" / "python-sklearn"
BOOSTING = ROOT / "templates" / "python-boosting"
ARRESTS = ROOT / "examples" / "arrests"
ARRESTS_PICKLE = ROOT / "examples" / "arrests-pickle"
FEATURES = ["age", "employed", "citizen", "checks", "year"]

sys.path[:0] = [str(RUNTIME), str(TEMPLATE), str(BOOSTING)]

from starlette.testclient import TestClient  # noqa: E402

from paved_runtime.app import create_app  # noqa: E402
import paved_sklearn  # noqa: E402
from paved_runtime.package import load_package  # noqa: E402


@pytest.fixture(scope="session")
def package():
    return load_package(ARRESTS, env={}, loader=paved_sklearn)


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
