"""The numpy products the layers share, where numpy's own call is slow."""

from __future__ import annotations

import numpy as np


def at_b(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """``out = a.T @ b`` for 2-D ``a`` (R, K) and ``b`` (R, M).

    For one row it is an outer product, done as one: numpy's matmul runs a
    slow loop on the (K, 1) operand (4x the time of the pass over ``out`` at
    K = 256, M = 1024), as a layer's weight gradient at N = T = 1 meets it.
    """
    if a.shape[0] == 1:
        np.multiply(a.reshape(-1, 1), b, out=out)
    else:
        np.matmul(a.T, b, out=out)
