"""``np`` for the book-style modules: numpy, or cupy when ``common.config.GPU`` is true."""

from common.config import GPU

if GPU:
    import cupy as np  # noqa: F401 (the book's GPU mode; fastrnn refuses it)
else:
    import numpy as np  # noqa: F401
