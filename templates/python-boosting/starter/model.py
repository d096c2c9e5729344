"""Optional hooks for the python-boosting runtime. Delete this file if you need neither.

The runtime imports this module inside the model container, never on the build host.
"""


def preprocess(inputs: dict[str, list]) -> dict[str, list]:
    """Called once per request, before the model: one list per feature in paved.yaml.

    Return the same keys with the same number of rows. Raise ValueError to answer
    the request with a 400 carrying your message. A missing value may be sent as
    NaN: the trees route it the way they learned to.
    """
    return inputs


def postprocess(outputs: dict) -> dict:
    """Called once per request, after the model.

    A classifier gives {"label": [...], "probability": [...]}, a regressor {"prediction": [...]}.
    """
    return outputs
