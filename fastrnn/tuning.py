"""The one place for fastrnn's tuning thresholds: which code path a shape takes.

Each threshold was measured on the 2-core AVX-512 machines the project is
benchmarked on; docs/performance.md has the evidence and docs/design.md the
architecture around them.
"""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple

# Per-step products of at most this many multiply-adds run inside the Numba
# time loop: OpenBLAS computes them on the calling thread (it starts its
# threads above 4 * 65536 multiply-adds), so SciPy's BLAS pool, which Numba
# calls, stays asleep. Larger ones are done step by step with numpy, on
# numpy's pool, like every large product here.
NUMBA_STEP_MAX_MACS = 4 * 65536

# One sequence (N = 1) with H up to this takes the ``*_one_row`` time loops,
# whose product is a Numba loop: OpenBLAS's call costs more than the
# arithmetic there ((1, 64) @ (64, 64) on one core: 0.16 against 0.20 us in
# float32, 0.24 against 0.42 us in float64; even from H = 100 on).
ONE_ROW_MAX_H = 64

# A recurrent layer's backward over at least this many steps multiplies by
# a C-contiguous copy of Wh.T; over fewer, by the transposed view of Wh.
# The copy costs a transposing pass over Wh (about 1 ms at H = 256, whose
# 4 KiB rows alias in the cache); each step's product on it is faster than
# on the view. TimeLSTM backward, float32, copy against view: N=1, H=256:
# 0.69 against 0.14 ms at T = 1, 1.18 against 0.59 at T = 8; N=128, H=128:
# 0.89/0.72 at T = 2, 2.43/2.46 at T = 11, 7.1/9.2 at T = 29; N=20, H=650:
# 2.6/1.8 at T = 1, 34.6/40.8 at T = 35.
TRANSPOSED_COPY_MIN_STEPS = 10

# From this many scores (N * T * V) on, SimpleRnnlm's fastrnn backward takes
# TimeAffine.backward_through, which skips the loss's gradient array: 4-8%
# faster at vocabulary 10,000; around 10 * 5 * 3000 its extra small numpy
# calls cost as much as the pass it saves, below that more.
THROUGH_MIN_SCORES = 150_000


def bias_in_product(rows: int, d_in: int) -> bool:
    """Whether ``TimeAffine`` adds its bias inside the product, ``[x, 1] @
    [W; b]``, for ``rows`` (N*T) inputs of ``d_in`` features: a copy of W
    (d_in rows) then costs no more than a second pass over the output's
    ``rows`` rows to add b. At generation (one row, V = 10,000, D = 650) the
    copy took 2.1 ms against 0.18 ms for the plain product and the sum."""
    return rows >= d_in


class OwnRange(NamedTuple):
    """Where one direction's per-step product goes to fastrnn's own kernel:
    dot products at least ``min_k`` long, ``min_macs`` to ``max_macs``
    multiply-adds a step, and at least ``min_steps`` steps."""

    min_k: int
    min_macs: int
    max_macs: int
    min_steps: int


# fastrnn's own product (kernels/products.py, ``times_transposed``) runs on
# one core; OpenBLAS's two threads win on large products, and OpenBLAS on
# short dot products (the forward's are H long, the backward's gates * H).
# The forward also packs a copy of Wh.T once per call, which a few steps do
# not pay back. Measured for the LSTM (G = 4), float32, own loop against
# OpenBLAS loop, per direction. T = 20: forward H = 256: 2.05x at N = 5,
# 1.25x at N = 20, 0.80x at N = 64; H = 128: 0.91x at N = 10 (0.7 M
# multiply-adds), 1.26x at N = 20; H = 512: 1.89x at N = 2, 1.14x at
# N = 10, 0.80x at N = 20 (21 M); H = 100: 0.48-0.65x at every N.
# Backward: 1.08-1.15x at H = 100, N = 2-32; 1.1-2.0x at H = 256,
# N = 2-32; 0.97x at H = 512, N = 20; 0.7-1.0x from N = 64 on. Fewer steps:
# forward 0.44-0.76x at T = 1-2, 0.86-1.20x at T = 8 (N = 20, H = 256 and
# N = 5, H = 512); backward 1.16-1.47x at T = 1. In float64 (half the SIMD
# lanes) the forward took 0.27-0.91x and the backward 0.83-1.48x at T <= 8,
# so only float32 takes the own product.
OWN_DTYPES = ("float32",)
OWN_MIN_ROWS = 2
OWN_MAX_ROWS = 32
OWN_FORWARD = OwnRange(min_k=128, min_macs=1_000_000, max_macs=8_000_000, min_steps=16)
OWN_BACKWARD = OwnRange(min_k=400, min_macs=0, max_macs=12_000_000, min_steps=1)


class LoopPath(str, Enum):
    """Where a recurrent layer's time loop runs (``time_loop_path``)."""

    OWN = "own"          # in Numba, with fastrnn's own product
    ONE_ROW = "one_row"  # in Numba, with Numba's own product (one narrow sequence)
    SMALL = "small"      # in Numba, with BLAS products on the calling thread
    LARGE = "large"      # in Python: numpy's BLAS for each step's product, a
    #                      Numba kernel for each step's elementwise part


def time_loop_path(n_batch: int, d_h: int, gates: int, backward: bool = False,
                   own: bool = False, n_steps: int = 1, dtype: str = "float32") -> LoopPath:
    """Where a recurrent layer's time loop runs, for batch ``n_batch``,
    hidden size ``d_h`` and ``gates`` gate blocks (its per-step products
    multiply an (N, H) state by H x gates*H weights, or in the ``backward``
    loop an (N, gates*H) gradient by their transpose).

    ``own`` says whether the cell has loops on fastrnn's own product;
    ``n_steps`` (T) and ``dtype`` (a numpy dtype name) matter only for them.

    Returns
    -------
    The ``LoopPath`` (a str enum: it equals "own", "one_row", "small" or
    "large").
    """
    macs = n_batch * d_h * d_h * gates
    bounds = OWN_BACKWARD if backward else OWN_FORWARD
    if (own and dtype in OWN_DTYPES and OWN_MIN_ROWS <= n_batch <= OWN_MAX_ROWS
            and (gates * d_h if backward else d_h) >= bounds.min_k
            and bounds.min_macs <= macs <= bounds.max_macs
            and n_steps >= bounds.min_steps):
        return LoopPath.OWN
    if n_batch == 1 and d_h <= ONE_ROW_MAX_H:
        return LoopPath.ONE_ROW
    if macs <= NUMBA_STEP_MAX_MACS:
        return LoopPath.SMALL
    return LoopPath.LARGE
