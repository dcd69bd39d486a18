"""fastrnn: fast drop-in time layers for "Deep Learning from Scratch 2".

Swap ``from common.time_layers import TimeRNN`` (or ``TimeLSTM``, ...) for
``from fastrnn import TimeRNN``; everything else stays the same.
``from fastrnn.time_layers import *`` gives all that the book's ``from
common.time_layers import *`` does (``np`` and the functions included), and
``fastrnn.attention_layer`` stands in for chapter 8's module; to run the
book's own scripts on fastrnn's layers unchanged: ``fastrnn run SCRIPT.py``
(or ``fastrnn.patch(module)`` on a module of layers). ``__all__`` names
every layer fastrnn has.
"""

from __future__ import annotations

from .registry import LAYERS, load

__all__ = [*(entry.name for entry in LAYERS), "patch"]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # The layers (and Numba) load on first use, not on `import fastrnn`: the
    # `fastrnn` command then starts inside its own Ctrl-C handler, which a
    # Ctrl-C during Numba's import would otherwise escape as a traceback.
    if name == "patch":
        from .book import patch as value
    elif name in __all__:
        value = load(name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
