"""Typed scalar constants for kernels that serve float32 and float64 alike."""

import numpy as np

from ._jit import inline_kernel

_ONE32 = np.float32(1.0)
_ZERO32 = np.float32(0.0)


@inline_kernel
def one(x):
    """1 in the type of the float scalar ``x``.

    Numba types a literal ``1.0`` (or ``1``) as float64, so ``1.0 - x``
    would widen float32 arithmetic to float64 (half the SIMD lanes).
    Resolved when Numba compiles, per type.
    """
    if isinstance(x, np.float32):
        return _ONE32
    return 1.0


@inline_kernel
def zero(x):
    """0 in the type of the float scalar ``x`` (see ``one``)."""
    if isinstance(x, np.float32):
        return _ZERO32
    return 0.0
