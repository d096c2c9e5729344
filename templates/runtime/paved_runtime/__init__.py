"""paved's shared model runtime: an Open Inference Protocol V2 server for one model.

Template-neutral: the template's loader module (PAVED_LOADER) reads the artifact.
"""

__version__ = "0.2.0"
