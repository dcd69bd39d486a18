"""The book's chapter-8 ``attention_layer`` module on fastrnn's layers: a facade.

``from fastrnn.attention_layer import TimeAttention`` (or ``*``) gives
fastrnn's attention layers under the book's names (``__all__``, from
``fastrnn.registry``).
"""

from __future__ import annotations

from .registry import book_names, load

__all__ = book_names("attention_layer")


def __getattr__(name: str) -> type:
    if name in __all__:
        value = globals()[name] = load(name)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
