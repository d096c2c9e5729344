"""Load a model package once at start: manifest, artifact (through the template's loader), hooks.

Which library reads the artifact is the template's business: each template ships a
loader module (paved_sklearn, paved_boosting, ...) named by PAVED_LOADER. A loader
exposes exactly

    SUFFIXES: tuple[str, ...]   # artifact suffixes it serves, lower case, with the dot
    FORMATS: str                # what to tell someone whose artifact has another suffix
    def load(path: Path, features: list[Feature], env) -> tuple[Predictor, str]
        # the predictor and its platform string (model metadata `platform`); raises
        # PackageError (or ArtifactRefused) with a message that says what to change

and everything else here is shared. Nothing here writes to disk or touches the
network: the container runs with a read-only root and no network, and a start
that depended on either would fail there.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import numpy as np
import yaml

MANIFEST = "paved.yaml"
HOOKS = "model.py"

# manifest dtype -> (V2 datatype, numpy dtype)
DTYPES: dict[str, tuple[str, Any]] = {
    "float32": ("FP32", np.float32),
    "float64": ("FP64", np.float64),
    "int32": ("INT32", np.int32),
    "int64": ("INT64", np.int64),
    "bool": ("BOOL", np.bool_),
    "string": ("BYTES", object),
}


class PackageError(Exception):
    """The package cannot be served; the message says what to change."""


class ArtifactRefused(PackageError):
    """The artifact's format or contents are not allowed on this path."""


@dataclass(frozen=True)
class Feature:
    name: str
    dtype: str

    @property
    def datatype(self) -> str:
        return DTYPES[self.dtype][0]

    @property
    def numpy_dtype(self) -> Any:
        return DTYPES[self.dtype][1]


def datatype_of(dtype: np.dtype) -> str:
    """The V2 datatype name for a numpy dtype (strings and objects are BYTES)."""
    kind = np.dtype(dtype)
    if kind == np.bool_:
        return "BOOL"
    if kind.kind in "iuf":
        return f"{'FP' if kind.kind == 'f' else 'UINT' if kind.kind == 'u' else 'INT'}{kind.itemsize * 8}"
    return "BYTES"


class Predictor:
    """What a loader hands back: rows in (an [N, F] matrix in the manifest's order), named outputs out."""

    has_proba = False
    label_datatype = "INT64"

    def predict(self, X: np.ndarray) -> dict[str, np.ndarray]:  # pragma: no cover - interface
        raise NotImplementedError

    def output_specs(self) -> list[dict]:
        """Model metadata `outputs`; a predictor whose outputs are not label/probability overrides it."""
        outputs = [{"name": "label", "datatype": self.label_datatype, "shape": [-1]}]
        if self.has_proba:
            outputs.append({"name": "probability", "datatype": "FP64", "shape": [-1]})
        return outputs


@dataclass
class Package:
    name: str
    version: str
    platform: str
    features: list[Feature]
    predictor: Predictor
    artifact: Path
    preprocess: Callable[[dict[str, list]], dict[str, list]] | None = None
    postprocess: Callable[[dict], dict] | None = None
    outputs: list[dict] = field(default_factory=list)


# ---------------------------------------------------------------- the template's loader


def resolve_loader(loader: ModuleType | str | None, env) -> ModuleType:
    """The loader module: given explicitly (tests), or named by PAVED_LOADER (the template's image)."""
    if loader is None:
        loader = env.get("PAVED_LOADER")
        if not loader:
            raise PackageError(
                "PAVED_LOADER is not set: it names the template's loader module (e.g. paved_sklearn) "
                "and the template's image sets it; set it when running the runtime by hand"
            )
    if isinstance(loader, str):
        try:
            loader = importlib.import_module(loader)
        except ImportError as exc:
            raise PackageError(f"PAVED_LOADER={loader}: cannot import it ({exc}); is the template's loader on the path?") from None
    missing = [name for name in ("SUFFIXES", "FORMATS", "load") if not hasattr(loader, name)]
    if missing:
        raise PackageError(f"loader {loader.__name__} lacks {', '.join(missing)}; see paved_runtime/package.py")
    return loader


# ---------------------------------------------------------------- the package


def warm_up(predictor: Predictor, features: list[Feature]) -> None:
    """One throwaway prediction, so lazy imports and caches cost nothing on the first real request."""
    if any(f.dtype == "string" for f in features):
        return
    X = np.zeros((1, len(features)), dtype=np.result_type(*[f.numpy_dtype for f in features]))
    try:
        predictor.predict(X)
    except Exception:  # noqa: BLE001 - zeros may be out of domain; the model still loaded fine
        pass


def read_manifest(model_dir: Path) -> dict:
    path = model_dir / MANIFEST
    try:
        doc = yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise PackageError(f"{path} not found; a model package needs a paved.yaml") from exc
    except yaml.YAMLError as exc:
        raise PackageError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise PackageError(f"{path} must be a mapping")
    for key in ("name", "artifact", "inputs"):
        if key not in doc:
            raise PackageError(f"{path}: '{key}' is required")
    return doc


def parse_features(doc: dict) -> list[Feature]:
    inputs = doc["inputs"]
    if not isinstance(inputs, list) or not inputs:
        raise PackageError("paved.yaml: 'inputs' must be a non-empty list")
    features: list[Feature] = []
    for i, item in enumerate(inputs):
        if not isinstance(item, dict) or "name" not in item:
            raise PackageError(f"paved.yaml: inputs[{i}] needs a name")
        dtype = str(item.get("dtype", "float32"))
        if dtype not in DTYPES:
            raise PackageError(f"paved.yaml: inputs[{i}].dtype '{dtype}' is not one of {', '.join(DTYPES)}")
        features.append(Feature(str(item["name"]), dtype))
    names = [f.name for f in features]
    if len(set(names)) != len(names):
        raise PackageError(f"paved.yaml: input names repeat: {names}")
    return features


def artifact_path(model_dir: Path, artifact: str) -> Path:
    # The platform validates this too; repeating it here keeps a hand-run image safe.
    root = model_dir.resolve()
    path = (model_dir / artifact).resolve()
    if root not in path.parents:
        raise ArtifactRefused(f"paved.yaml: artifact '{artifact}' points outside the package")
    if not path.is_file():
        raise PackageError(f"paved.yaml: artifact '{artifact}' not found in {model_dir}")
    return path


def load_hooks(model_dir: Path) -> tuple[Callable | None, Callable | None]:
    path = model_dir / HOOKS
    if not path.is_file():
        return None, None
    spec = importlib.util.spec_from_file_location("paved_model_hooks", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    pre = getattr(module, "preprocess", None)
    post = getattr(module, "postprocess", None)
    for name, fn in (("preprocess", pre), ("postprocess", post)):
        if fn is not None and not callable(fn):
            raise PackageError(f"model.py: {name} must be a function")
    return pre, post


def load_package(model_dir: str | Path, env=os.environ, loader: ModuleType | str | None = None) -> Package:
    model_dir = Path(model_dir)
    loader = resolve_loader(loader, env)
    doc = read_manifest(model_dir)
    features = parse_features(doc)
    path = artifact_path(model_dir, str(doc["artifact"]))
    suffix = path.suffix.lower()
    if suffix not in loader.SUFFIXES:
        raise ArtifactRefused(f"artifact '{path.name}': unknown format '{suffix}'; {loader.FORMATS}")
    predictor, platform = loader.load(path, features, env)
    warm_up(predictor, features)
    pre, post = load_hooks(model_dir)
    return Package(
        name=env.get("PAVED_MODEL_NAME") or str(doc["name"]),
        version=env.get("PAVED_MODEL_VERSION") or str(doc.get("version", "1")),
        platform=platform,
        features=features,
        predictor=predictor,
        artifact=path,
        preprocess=pre,
        postprocess=post,
        outputs=predictor.output_specs(),
    )
