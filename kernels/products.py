"""Small products and reductions shared by every cell's kernels.

``row_times`` and ``aligned_copy`` serve the one-row time loops (one narrow
sequence, where a BLAS call costs more than the arithmetic); ``sum_rows``
is the bias gradient of every layer.
"""

import numpy as np

from ._jit import inline_kernel, kernel


# For one sequence (N = 1) and a narrow h, the time loops compute their
# product with this loop instead of OpenBLAS, whose call costs more than the
# arithmetic at these sizes (see fastrnn.tuning for where).
@inline_kernel
def row_times(a, w, out):
    # out = a @ w for a of one row, as a sum of rows of w, 8 at a time: each
    # pass over out adds 8 products (a short dependency chain through out),
    # and vectorises along the row.
    n_in = w.shape[0]
    n_out = w.shape[1]
    n_in8 = n_in - n_in % 8
    for j in range(n_out):
        out[0, j] = 0.0
    for i in range(0, n_in8, 8):
        a0, a1, a2, a3 = a[0, i], a[0, i + 1], a[0, i + 2], a[0, i + 3]
        a4, a5, a6, a7 = a[0, i + 4], a[0, i + 5], a[0, i + 6], a[0, i + 7]
        for j in range(n_out):
            out[0, j] += (((a0 * w[i, j] + a1 * w[i + 1, j])
                           + (a2 * w[i + 2, j] + a3 * w[i + 3, j]))
                          + ((a4 * w[i + 4, j] + a5 * w[i + 5, j])
                             + (a6 * w[i + 6, j] + a7 * w[i + 7, j])))
    for i in range(n_in8, n_in):
        for j in range(n_out):
            out[0, j] += a[0, i] * w[i, j]


@inline_kernel
def aligned_copy(a):
    # A C-contiguous copy of the 2-D a that starts on a 64-byte boundary, for
    # the one-row loops: they read every row of their matrix at every step,
    # in SIMD vectors, and numpy aligns its arrays to 16 bytes only; a vector
    # split across two cache lines made those loops 20-30% slower (so their
    # speed depended on where the caller's matrix happened to land).
    n_rows, n_cols = a.shape
    buf = np.empty(n_rows * n_cols + 64 // a.itemsize, a.dtype)
    start = (-buf.ctypes.data % 64) // a.itemsize
    for i in range(n_rows):
        for j in range(n_cols):
            buf[start + i * n_cols + j] = a[i, j]
    return buf[start:start + n_rows * n_cols].reshape((n_rows, n_cols))


_SUM_BLOCK = 64


@kernel
def sum_rows(a, out):
    """``out = a.sum(axis=0)`` for a (R, H), summing blocks of rows first.

    Rounding error then grows with the block length plus the number of
    blocks rather than with R (numpy's axis-0 sum adds row after row).
    """
    partial = np.empty(out.shape[0], dtype=out.dtype)
    out[:] = 0.0
    for start in range(0, a.shape[0], _SUM_BLOCK):
        partial[:] = 0.0
        for r in range(start, min(start + _SUM_BLOCK, a.shape[0])):
            for j in range(a.shape[1]):
                partial[j] += a[r, j]
        for j in range(a.shape[1]):
            out[j] += partial[j]
