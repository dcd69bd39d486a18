"""The book's ``common/time_layers.py`` on fastrnn's layers: a facade.

``from fastrnn.time_layers import *`` gives every layer fastrnn stands in
for under the book's names (``__all__``, from ``fastrnn.registry``). Each
layer's module is imported on first use.
"""

from __future__ import annotations

from .registry import book_names, load

__all__ = book_names("time_layers")


def __getattr__(name: str) -> type:
    if name in __all__:
        value = globals()[name] = load(name)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
