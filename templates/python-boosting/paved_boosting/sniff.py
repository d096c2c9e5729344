"""Is the file what its suffix says? Checked on the bytes, before any library sees them.

A pickle renamed to model.ubj must never reach a parser: the libraries' loaders are
not written to be fed hostile input, and a wrong-format file deserves a message
about the format, not a C++ parse error.
"""

from __future__ import annotations

import json
from pathlib import Path

from paved_runtime.package import ArtifactRefused

_HEAD = 64


def looks_like(head: bytes) -> str:
    """A guess at what the file really is, for the refusal message."""
    if head[:1] == b"\x80" or head.startswith((b"(dp", b"(lp", b"cjoblib", b"ccopy_reg")):
        return "it looks like a Python pickle, which runs code when loaded"
    if head.startswith(b"PK\x03\x04"):
        return "it looks like a zip archive (skops? joblib?)"
    if head.startswith(b"tree"):
        return "it looks like a LightGBM text model; name it .txt"
    if head.startswith(b"{"):
        return "it looks like JSON or UBJSON, not this format"
    if head.startswith(b"\x08") or b"onnx" in head.lower():
        return "it looks like an ONNX graph"
    return f"it starts with {head[:16]!r}"


def check_content(path: Path, suffix: str) -> None:
    with path.open("rb") as f:
        head = f.read(_HEAD)
    name = path.name
    if suffix == ".ubj":
        # XGBoost's UBJSON is an object whose first key is "learner".
        if not (head.startswith(b"{") and b"learner" in head):
            raise ArtifactRefused(
                f"artifact '{name}': not an XGBoost UBJSON model ({looks_like(head)}); "
                "save it with booster.save_model('model.ubj')"
            )
    elif suffix == ".json":
        try:
            doc = json.loads(path.read_bytes())
        except (ValueError, UnicodeDecodeError):
            doc = None
        if not (isinstance(doc, dict) and "learner" in doc):
            raise ArtifactRefused(
                f"artifact '{name}': not an XGBoost JSON model, which is a JSON object with a 'learner' key "
                f"({looks_like(head)}); save it with booster.save_model('model.json')"
            )
    elif suffix == ".txt":
        if not (head.startswith(b"tree\n") or head.startswith(b"tree\r\n")):
            raise ArtifactRefused(
                f"artifact '{name}': not a LightGBM text model, whose first line is 'tree' ({looks_like(head)}); "
                "save it with booster.save_model('model.txt')"
            )
