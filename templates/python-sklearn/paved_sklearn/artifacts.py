"""Reading sklearn artifacts: skops under an allow-list, ONNX, and pickle only after a review."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from paved_runtime.package import ArtifactRefused, PackageError

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
