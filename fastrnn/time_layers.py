"""The book's ``common/time_layers.py`` on fastrnn's layers: a facade.

``from fastrnn.time_layers import *`` gives what the book's ``from
common.time_layers import *`` gives and its chapters use: every layer
fastrnn stands in for under the book's names (from ``fastrnn.registry``;
each layer's module is imported on first use), the functions ``sigmoid``,
``softmax`` and ``cross_entropy_error``, and ``np`` (numpy), which the
book's model files use without importing it.
"""

from __future__ import annotations

import numpy as np

from .layers.basic import cross_entropy_error, sigmoid, softmax
from .registry import book_names, load

__all__ = book_names("time_layers") + ["np", "sigmoid", "softmax", "cross_entropy_error"]


def __getattr__(name: str) -> type:
    if name in __all__:
        value = globals()[name] = load(name)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
