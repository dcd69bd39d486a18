"""The one place for fastrnn's tuning thresholds: which code path a shape takes.

Each threshold was measured on the 2-core AVX-512 machines the project is
benchmarked on; docs/performance.md has the evidence and docs/design.md the
architecture around them.
"""

from __future__ import annotations

from enum import Enum

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


class LoopPath(str, Enum):
    """Where a recurrent layer's time loop runs (``time_loop_path``)."""

    ONE_ROW = "one_row"  # in Numba, with Numba's own product (one narrow sequence)
    SMALL = "small"      # in Numba, with BLAS products on the calling thread
    LARGE = "large"      # in Python: numpy's BLAS for each step's product, a
    #                      Numba kernel for each step's elementwise part


def time_loop_path(n_batch: int, d_h: int, gates: int) -> LoopPath:
    """Where a recurrent layer's time loop runs, for batch ``n_batch``,
    hidden size ``d_h`` and ``gates`` gate blocks (its per-step products
    multiply an (N, H) state by H x gates*H weights).

    Returns
    -------
    The ``LoopPath`` (a str enum: it equals "one_row", "small" or "large").
    """
    if n_batch == 1 and d_h <= ONE_ROW_MAX_H:
        return LoopPath.ONE_ROW
    if n_batch * d_h * d_h * gates <= NUMBA_STEP_MAX_MACS:
        return LoopPath.SMALL
    return LoopPath.LARGE
