"""The sequential part of a vanilla RNN: the time loops.

fastrnn splits the work in two. Everything that is one large matrix product
over all steps (the input projection, dxs, dWx, dWh) is done by the caller
with numpy, so it runs on numpy's BLAS, the same thread pool as the user's
other layers (numpy and SciPy each ship their own OpenBLAS; when both pools
are busy they spin against each other). Only the chain through h, which
must run step by step, is here. Its per-step product is small enough
(see ``fastrnn.tuning``) that SciPy's OpenBLAS, which Numba's ``np.dot``
calls, runs it on the calling thread; larger per-step products are done by
the caller with numpy, one ``*_step`` kernel call per step. For one narrow
sequence (N = 1), the ``*_one_row`` loops do the product themselves.

All arrays are C-contiguous (but ``wh_t``, see ``backward_steps``) and of
one float dtype, with shapes checked by ``fastrnn.layers.validate`` before
any kernel runs (Numba does no bounds checking). Outputs and workspaces come last. What is allocated here, once
per call: the one-row loops' aligned copy of their H x H matrix.

Notation: N batch, T steps, H hidden size.
"""

import numpy as np

from ._jit import inline_kernel, kernel
from .products import aligned_copy, row_times
from .tanh import tanh


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
    w = aligned_copy(wh)
    for t in range(hs.shape[1]):
        row_times(h, w, work)
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
    wh_t : (H, H) the transpose of the parameter wh: a C-contiguous copy
        (OpenBLAS multiplies by it faster than by the view ``wh.T``, which
        pays over many steps), or over a few steps the F-ordered view.
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
    w = aligned_copy(wh_t)
    for t in range(hs.shape[1] - 1, -1, -1):
        _backward_elementwise(dhs, hs, dh, dts, work, t)
        row_times(work, w, dh)
