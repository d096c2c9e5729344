"""The model's own feature list against paved.yaml's inputs: the same count, and the same names when it has them."""

from __future__ import annotations

from paved_runtime.package import Feature, PackageError


def check_signature(count: int, names: list[str] | None, features: list[Feature]) -> None:
    declared = [f.name for f in features]
    listed = ", ".join(declared)
    if count != len(features):
        trained = f" ({', '.join(names)})" if names else ""
        raise PackageError(
            f"paved.yaml: inputs — the model was trained on {count} features{trained} but inputs lists "
            f"{len(features)} ({listed}); list the model's features, in the model's order"
        )
    if names is not None and names != declared:
        raise PackageError(
            f"paved.yaml: inputs — the model was trained on features ({', '.join(names)}) but inputs lists "
            f"({listed}); list them with the model's names, in the model's order"
        )
