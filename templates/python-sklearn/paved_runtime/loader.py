"""Load a model package once at start: manifest, artifact, optional model.py hooks.

Nothing here writes to disk or touches the network: the container runs with a
read-only root and host networking, and a start that depends on either would
fail there or leak.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
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

# skops refuses types it does not know unless they are passed as trusted. We pass
# exactly the ones it reports, and only when each is on the platform's allowed_types
# (PAVED_ALLOWED_TYPES, exact names, set by the worker from policy/platform.yaml), or
# a reviewer approved the package after validate named them (PAVED_ALLOW_PICKLE=1).
# Without the list (a container started by hand) the plain scikit-learn / numpy /
# scipy modules are trusted. Anything else (a user function, builtins.eval, ...)
# stops the start.
TRUSTED_MODULES = ("sklearn.", "numpy.", "scipy.sparse.")
# Inside those modules, names that read or write files or run code are still refused.
DENIED_PREFIXES = (
    "numpy.load", "numpy.save", "numpy.fromfile", "numpy.memmap", "numpy.lib.npyio",
    "numpy.testing", "numpy.f2py", "numpy.distutils", "numpy.ctypeslib",
    "sklearn.utils._testing", "sklearn.externals",
)

PICKLE_EXTENSIONS = (".pkl", ".pickle", ".joblib")


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


@dataclass
class Package:
    name: str
    version: str
    platform: str
    features: list[Feature]
    predictor: "Predictor"
    artifact: Path
    preprocess: Callable[[dict[str, list]], dict[str, list]] | None = None
    postprocess: Callable[[dict], dict] | None = None
    outputs: list[dict] = field(default_factory=list)


# ---------------------------------------------------------------- predictors


def datatype_of(dtype: np.dtype) -> str:
    """The V2 datatype name for a numpy dtype (strings and objects are BYTES)."""
    kind = np.dtype(dtype)
    if kind == np.bool_:
        return "BOOL"
    if kind.kind in "iuf":
        return f"{'FP' if kind.kind == 'f' else 'UINT' if kind.kind == 'u' else 'INT'}{kind.itemsize * 8}"
    return "BYTES"


class Predictor:
    """Uniform face for sklearn estimators and ONNX sessions: rows in, named outputs out."""

    has_proba = False
    label_datatype = "INT64"

    def predict(self, X: np.ndarray) -> dict[str, np.ndarray]:  # pragma: no cover - interface
        raise NotImplementedError


class SklearnPredictor(Predictor):
    def __init__(self, estimator: Any, features: list[Feature]) -> None:
        if not hasattr(estimator, "predict"):
            raise PackageError(f"the artifact holds a {type(estimator).__name__}, which has no predict()")
        n_in = getattr(estimator, "n_features_in_", None)
        if n_in is not None and n_in != len(features):
            raise PackageError(
                f"the model was fitted on {n_in} features but paved.yaml declares {len(features)} inputs "
                f"({', '.join(f.name for f in features)})"
            )
        names = getattr(estimator, "feature_names_in_", None)
        if names is not None and list(names) != [f.name for f in features]:
            raise PackageError(
                f"the model was fitted on columns {list(names)} but paved.yaml declares "
                f"{[f.name for f in features]}; list the inputs in the model's order"
            )
        self.estimator = estimator
        self.column_names = list(names) if names is not None else None
        self.has_proba = hasattr(estimator, "predict_proba")
        classes = getattr(estimator, "classes_", None)
        # A regressor has no classes_; its "label" is the predicted value.
        self.label_datatype = datatype_of(np.asarray(classes).dtype) if classes is not None else "FP64"

    def _frame(self, X: np.ndarray) -> Any:
        # A model fitted on a DataFrame selects columns by name; give it one when pandas is there.
        if self.column_names is None:
            return X
        try:
            import pandas as pd
        except ImportError:
            return X
        return pd.DataFrame(X, columns=self.column_names)

    def predict(self, X: np.ndarray) -> dict[str, np.ndarray]:
        X = self._frame(X)
        out = {"label": np.asarray(self.estimator.predict(X))}
        if self.has_proba:
            out["probability"] = positive_class(np.asarray(self.estimator.predict_proba(X)))
        return out


class OnnxPredictor(Predictor):
    """skl2onnx-style graphs: outputs[0] is the label, outputs[1] (if any) the probabilities."""

    def __init__(self, session: Any, features: list[Feature]) -> None:
        self.session = session
        self.inputs = session.get_inputs()
        self.output_names = [o.name for o in session.get_outputs()]
        self.has_proba = len(self.output_names) > 1
        if len(self.inputs) not in (1, len(features)):
            raise PackageError(
                f"the ONNX graph has {len(self.inputs)} inputs; expected 1 (an [N, {len(features)}] tensor) "
                f"or one per declared feature ({len(features)})"
            )
        self.features = features

    def predict(self, X: np.ndarray) -> dict[str, np.ndarray]:
        if len(self.inputs) == 1:
            feed = {self.inputs[0].name: X}
        else:
            feed = {i.name: X[:, [k]] for k, i in enumerate(self.inputs)}
        results = self.session.run(self.output_names, feed)
        out = {"label": np.asarray(results[0]).reshape(-1)}
        if self.has_proba:
            proba = results[1]
            if isinstance(proba, list):  # ZipMap: one {class: p} dict per row, classes in order
                proba = np.array([list(row.values()) for row in proba])
            out["probability"] = positive_class(np.asarray(proba))
        return out


def positive_class(proba: np.ndarray) -> np.ndarray:
    """Binary models report P(classes_[1]); multi-class keeps the [N, K] matrix."""
    if proba.ndim == 2 and proba.shape[1] == 2:
        return proba[:, 1]
    return proba


# ---------------------------------------------------------------- artifacts


def allowed_types(env: dict[str, str] | os._Environ = os.environ) -> frozenset[str] | None:
    """The platform's exact type names, or None when the worker did not pass them."""
    raw = env.get("PAVED_ALLOWED_TYPES")
    return None if raw is None else frozenset(t for t in raw.split(",") if t)


def check_skops_types(untrusted: list[str], env: dict[str, str] | os._Environ = os.environ) -> list[str]:
    """Return the types to trust, or raise if any is outside the allow-list."""
    allowed = allowed_types(env)
    reviewed = pickle_allowed(env)

    def trusted(t: str) -> bool:
        if t.startswith(DENIED_PREFIXES):
            return False
        if reviewed:
            return True
        return t in allowed if allowed is not None else t.startswith(TRUSTED_MODULES)

    refused = [t for t in untrusted if not trusted(t)]
    if refused:
        raise ArtifactRefused(
            "the skops artifact contains types outside the platform's allow-list: "
            + ", ".join(sorted(refused))
            + ". Rebuild the model from scikit-learn components, or export it to ONNX."
        )
    return list(untrusted)


def load_skops(path: Path, env=os.environ) -> Any:
    import skops.io as sio

    trusted = check_skops_types(sio.get_untrusted_types(file=path), env)
    return sio.load(path, trusted=trusted)


def load_onnx(path: Path) -> Any:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise PackageError("the artifact is ONNX but onnxruntime is not installed in this image") from exc
    options = ort.SessionOptions()
    # Share the container's CPU quota instead of spinning one thread per host core.
    options.intra_op_num_threads = int(os.environ.get("PAVED_ONNX_THREADS", "1"))
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def pickle_allowed(env: dict[str, str] | os._Environ = os.environ) -> bool:
    return env.get("PAVED_ALLOW_PICKLE") == "1"


def load_pickle(path: Path, env=os.environ) -> Any:
    if not pickle_allowed(env):
        raise ArtifactRefused(
            f"refusing to load {path.name}: pickle/joblib artifacts run arbitrary code when loaded. "
            "Save the model with skops (skops.io.dump) or export it to ONNX; the platform sets "
            "PAVED_ALLOW_PICKLE=1 only after a human review."
        )
    import joblib

    return joblib.load(path)


# ---------------------------------------------------------------- package


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


def load_package(model_dir: str | Path, env=os.environ) -> Package:
    model_dir = Path(model_dir)
    doc = read_manifest(model_dir)
    features = parse_features(doc)
    path = artifact_path(model_dir, str(doc["artifact"]))
    suffix = path.suffix.lower()
    if suffix == ".skops":
        predictor: Predictor = SklearnPredictor(load_skops(path, env), features)
        platform = "sklearn_skops"
    elif suffix == ".onnx":
        predictor = OnnxPredictor(load_onnx(path), features)
        platform = "onnxruntime_onnx"
    elif suffix in PICKLE_EXTENSIONS:
        predictor = SklearnPredictor(load_pickle(path, env), features)
        platform = "sklearn_joblib"
    else:
        raise ArtifactRefused(
            f"artifact '{path.name}': unknown format '{suffix}'; use .skops or .onnx "
            "(.pkl/.joblib only with PAVED_ALLOW_PICKLE=1)"
        )
    warm_up(predictor, features)
    pre, post = load_hooks(model_dir)
    outputs = [{"name": "label", "datatype": predictor.label_datatype, "shape": [-1]}]
    if predictor.has_proba:
        outputs.append({"name": "probability", "datatype": "FP64", "shape": [-1]})
    return Package(
        name=env.get("PAVED_MODEL_NAME") or str(doc["name"]),
        version=env.get("PAVED_MODEL_VERSION") or str(doc.get("version", "1")),
        platform=platform,
        features=features,
        predictor=predictor,
        artifact=path,
        preprocess=pre,
        postprocess=post,
        outputs=outputs,
    )
