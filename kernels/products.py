"""Small products and reductions shared by every cell's kernels.

``times_transposed`` is fastrnn's own product for the per-step ``h @ Wh``
and ``da @ Wh.T`` at small batch, register-blocked (``transposed`` packs
its right operand); ``row_times`` and ``aligned_copy`` serve the one-row
time loops (one narrow sequence, where a BLAS call costs more than the
arithmetic); ``sum_rows`` is the bias gradient of every layer.
"""

import numpy as np

from ._jit import inline_kernel, kernel, reduction_kernel
from .scalars import zero


@reduction_kernel
def times_transposed(a, bt, out):
    """``out = a @ bt.T`` for C-contiguous a (M, K), bt (N, K), out (M, N).

    Each output element is the dot product of a row of a and a row of bt,
    both contiguous. A block of 4 rows of a times 4 rows of bt keeps its 16
    sums in registers; with ``reassoc`` LLVM vectorises each along k (one
    SIMD accumulator per sum), so every vector loaded from a feeds 4
    multiply-adds, and so does every vector from bt. The 4 rows of bt stay
    in L1 while all rows of a pass by. It runs on the calling thread.

    Where k is long and M small it beats OpenBLAS (``fastrnn.tuning`` says
    where; docs/performance.md, "fastrnn's own product", has the figures).
    """
    n_rows, n_k = a.shape
    n_cols = bt.shape[0]
    if n_rows == 0 or n_cols == 0:
        return
    if n_k == 0:
        out[:, :] = 0
        return
    z = zero(a[0, 0])
    rows4 = n_rows - n_rows % 4
    for block in range(n_cols // 4):
        j = 4 * block
        for i in range(0, rows4, 4):
            s00 = z; s01 = z; s02 = z; s03 = z  # noqa: E702
            s10 = z; s11 = z; s12 = z; s13 = z  # noqa: E702
            s20 = z; s21 = z; s22 = z; s23 = z  # noqa: E702
            s30 = z; s31 = z; s32 = z; s33 = z  # noqa: E702
            for k in range(n_k):
                b0, b1, b2, b3 = bt[j, k], bt[j + 1, k], bt[j + 2, k], bt[j + 3, k]
                a0 = a[i, k]
                s00 += a0 * b0; s01 += a0 * b1; s02 += a0 * b2; s03 += a0 * b3  # noqa: E702
                a1 = a[i + 1, k]
                s10 += a1 * b0; s11 += a1 * b1; s12 += a1 * b2; s13 += a1 * b3  # noqa: E702
                a2 = a[i + 2, k]
                s20 += a2 * b0; s21 += a2 * b1; s22 += a2 * b2; s23 += a2 * b3  # noqa: E702
                a3 = a[i + 3, k]
                s30 += a3 * b0; s31 += a3 * b1; s32 += a3 * b2; s33 += a3 * b3  # noqa: E702
            out[i, j], out[i, j + 1], out[i, j + 2], out[i, j + 3] = s00, s01, s02, s03
            out[i + 1, j], out[i + 1, j + 1] = s10, s11
            out[i + 1, j + 2], out[i + 1, j + 3] = s12, s13
            out[i + 2, j], out[i + 2, j + 1] = s20, s21
            out[i + 2, j + 2], out[i + 2, j + 3] = s22, s23
            out[i + 3, j], out[i + 3, j + 1] = s30, s31
            out[i + 3, j + 2], out[i + 3, j + 3] = s32, s33
        for i in range(rows4, n_rows):  # the last M % 4 rows, one at a time
            s0 = z; s1 = z; s2 = z; s3 = z  # noqa: E702
            for k in range(n_k):
                a0 = a[i, k]
                s0 += a0 * bt[j, k]; s1 += a0 * bt[j + 1, k]  # noqa: E702
                s2 += a0 * bt[j + 2, k]; s3 += a0 * bt[j + 3, k]  # noqa: E702
            out[i, j], out[i, j + 1], out[i, j + 2], out[i, j + 3] = s0, s1, s2, s3
    for j in range(n_cols - n_cols % 4, n_cols):  # the last N % 4 columns
        for i in range(n_rows):
            s = z
            for k in range(n_k):
                s += a[i, k] * bt[j, k]
            out[i, j] = s


_TILE = 16


@kernel
def transposed(a):
    """A C-contiguous copy of ``a.T`` for a 2-D a: the packed right operand
    of ``times_transposed`` for a product by ``a``. Copied in 16 x 16 tiles,
    each read and written within L1."""
    n_rows, n_cols = a.shape
    out = np.empty((n_cols, n_rows), a.dtype)
    for j0 in range(0, n_cols, _TILE):
        for i0 in range(0, n_rows, _TILE):
            for j in range(j0, min(j0 + _TILE, n_cols)):
                for i in range(i0, min(i0 + _TILE, n_rows)):
                    out[j, i] = a[i, j]
    return out


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
