"""Optional hooks for the python-sklearn runtime. Delete this file if you need neither.

The runtime imports this module inside the model container, never on the build host.
"""


def preprocess(inputs: dict[str, list]) -> dict[str, list]:
    """Called once per request, before the model: one list per feature in paved.yaml.

    Return the same keys with the same number of rows. Raise ValueError to answer
    the request with a 400 carrying your message.
    """
    return inputs


def postprocess(outputs: dict) -> dict:
    """Called once per request, after the model: {"label": [...], "probability": [...]}."""
    return outputs
