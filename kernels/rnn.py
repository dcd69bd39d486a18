"""The sequential part of a vanilla RNN: the time loops.

fastrnn splits the work in two. Everything that is one large matrix product
over all steps (the input projection, dxs, dWx, dWh) is done by the caller
with numpy, so it runs on numpy's BLAS, the same thread pool as the user's
other layers (numpy and SciPy each ship their own OpenBLAS; when both pools
are busy they spin against each other). Only the chain through h, which
must run step by step, is here. Its per-step product is small enough
(see ``fastrnn.layers``) that SciPy's OpenBLAS, which Numba's ``np.dot``
calls, runs it on the calling thread; larger per-step products are done by
the caller with numpy, one ``*_step`` kernel call per step. For one narrow
sequence (N = 1), the ``*_one_row`` loops do the product themselves.

All arrays are C-contiguous and of one float dtype, with shapes checked by
``fastrnn._validate`` before any kernel runs (Numba does no bounds
checking). Outputs and workspaces come last. What is allocated here, once
per call: the one-row loops' aligned copy of their H x H matrix and
``sum_rows``'s row of partial sums.

Notation: N batch, T steps, H hidden size.
"""

import numpy as np

from ._jit import inline_kernel, kernel
from .tanh import tanh


# For one sequence (N = 1) and a narrow h, the time loops compute their
# product with this loop instead of OpenBLAS, whose call costs more than the
# arithmetic at these sizes (see fastrnn.layers for where).
@inline_kernel
def _row_times(a, w, out):
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
def _aligned_copy(a):
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


# The elementwise part of a step, inlined both into the time loops and into
# the per-step kernels. The loops do not call the per-step kernels: that
# costs a call per step (3% at H = 64) and, on a small shape's first call,
# the compile time of kernels only large shapes use.
@inline_kernel
def _forward_elementwise(work, b, h, hs, t):
    # h = hs[:, t] = tanh(h_prev @ wh (in work) + x_t @ wx (in hs[:, t]) + b)
    for n in range(hs.shape[0]):
        for j in range(hs.shape[2]):
            v = tanh(work[n, j] + hs[n, t, j] + b[j])
            hs[n, t, j] = v
            h[n, j] = v


@inline_kernel
def _backward_elementwise(dhs, hs, dh, dts, work, t):
    # dts[:, t] = work = (dhs[:, t] + dh) * (1 - hs[:, t]**2)
    for n in range(hs.shape[0]):
        for j in range(hs.shape[2]):
            y = hs[n, t, j]
            g = (dhs[n, t, j] + dh[n, j]) * (1.0 - y * y)
            dts[n, t, j] = g
            work[n, j] = g


@kernel
def forward_step(work, b, h, hs, t):
    """Finish step ``t`` of ``forward_steps``: ``h = hs[:, t] = tanh(work +
    hs[:, t] + b)``, given ``work = h_prev @ wh`` and ``hs[:, t] = x_t @ wx``."""
    _forward_elementwise(work, b, h, hs, t)


@kernel
def forward_steps(wh, b, h, hs, work):
    """Run all T steps of h = tanh(h @ wh + x_t @ wx + b).

    Parameters
    ----------
    wh, b : (H, H), (H,) parameters.
    h : (N, H) initial state on entry; the last state on return.
    hs : (N, T, H) x_t @ wx on entry; all hidden states on return.
    work : (N, H) workspace.
    """
    for t in range(hs.shape[1]):
        np.dot(h, wh, work)
        _forward_elementwise(work, b, h, hs, t)


@kernel
def forward_steps_one_row(wh, b, h, hs, work):
    """``forward_steps`` for N = 1, with its own product instead of BLAS."""
    w = _aligned_copy(wh)
    for t in range(hs.shape[1]):
        _row_times(h, w, work)
        _forward_elementwise(work, b, h, hs, t)


@kernel
def backward_step(dhs, hs, dh, dts, work, t):
    """Step ``t`` of ``backward_steps`` before its product:
    ``dts[:, t] = work = (dhs[:, t] + dh) * (1 - hs[:, t]**2)``; the caller
    then sets ``dh = work @ wh_t``."""
    _backward_elementwise(dhs, hs, dh, dts, work, t)


@kernel
def backward_steps(wh_t, hs, dhs, dh, dts, work):
    """Run the chain of the gradient through h, from step T-1 down to 0.

    Parameters
    ----------
    wh_t : (H, H) the transpose of the parameter wh, C-contiguous (OpenBLAS
        multiplies by it faster than by the transposed view ``wh.T``).
    hs : (N, T, H) hidden states of the forward pass.
    dhs : (N, T, H) gradient of the loss with respect to hs.
    dh : (N, H) zero on entry; the gradient with respect to the initial
        state on return.
    dts : (N, T, H) output, the gradient before tanh at every step.
    work : (N, H) workspace; holds dts[:, 0] on return.
    """
    for t in range(hs.shape[1] - 1, -1, -1):
        _backward_elementwise(dhs, hs, dh, dts, work, t)
        np.dot(work, wh_t, dh)


@kernel
def backward_steps_one_row(wh_t, hs, dhs, dh, dts, work):
    """``backward_steps`` for N = 1, with its own product instead of BLAS."""
    w = _aligned_copy(wh_t)
    for t in range(hs.shape[1] - 1, -1, -1):
        _backward_elementwise(dhs, hs, dh, dts, work, t)
        _row_times(work, w, dh)


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
