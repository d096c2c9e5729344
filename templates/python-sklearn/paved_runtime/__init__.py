"""paved python-sklearn runtime: an Open Inference Protocol V2 server for one model."""

__version__ = "0.1.0"
