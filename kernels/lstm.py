"""The sequential part of an LSTM: the time loops and their elementwise steps.

As for the RNN (``kernels/rnn.py``), the products over all steps are the
caller's (numpy); here is only the chain through h and c. Gate blocks are
laid out as in the book, f, g, i, o, each H wide:

    A = x_t @ Wx + h_prev @ Wh + b
    f, g, i, o = sigmoid(A_f), tanh(A_g), sigmoid(A_i), sigmoid(A_o)
    c = f * c_prev + g * i
    h = o * tanh(c)

The forward keeps the activated gates (in place of x_t @ Wx in ``gates``)
and every step's c (``cs``); the backward recomputes tanh(c) from them.
The time loops call the per-step kernels (compiled once per dtype, not once
per loop: the elementwise part is most of the compile time, and a call per
step costs nothing measurable beside it).
All arrays are C-contiguous (but ``wh_t``, see ``backward_steps``), of one
float dtype, with shapes checked by ``fastrnn.layers.validate`` before any
kernel runs. Outputs and workspaces come last.

Notation: N batch, T steps, H hidden size; ``gates`` and ``da`` are
(N, T, 4H), ``hs`` and ``cs`` (N, T, H), ``work`` (N, 4H).
"""

import numpy as np

from ._jit import kernel
from .products import aligned_copy, row_times, times_transposed, transposed
from .scalars import one
from .sigmoid import sigmoid
from .tanh import tanh


@kernel
def forward_step(work, b, h, c, gates, hs, cs, t):
    """Step ``t`` of ``forward_steps``, given ``work = h_prev @ Wh`` and
    ``gates[:, t] = x_t @ Wx``."""
    # One simple loop per gate and per state, each over range(H) with fixed
    # offsets: LLVM vectorises each of them, where one fused loop (or one
    # over range(3H, 4H)) came out several times slower.
    n_h = h.shape[1]
    f0, g0, i0, o0 = 0, n_h, 2 * n_h, 3 * n_h
    for n in range(h.shape[0]):
        for j in range(n_h):
            gates[n, t, f0 + j] = sigmoid(gates[n, t, f0 + j] + work[n, f0 + j] + b[f0 + j])
        for j in range(n_h):
            gates[n, t, g0 + j] = tanh(gates[n, t, g0 + j] + work[n, g0 + j] + b[g0 + j])
        for j in range(n_h):
            gates[n, t, i0 + j] = sigmoid(gates[n, t, i0 + j] + work[n, i0 + j] + b[i0 + j])
        for j in range(n_h):
            gates[n, t, o0 + j] = sigmoid(gates[n, t, o0 + j] + work[n, o0 + j] + b[o0 + j])
        for j in range(n_h):
            c[n, j] = gates[n, t, f0 + j] * c[n, j] + gates[n, t, g0 + j] * gates[n, t, i0 + j]
            cs[n, t, j] = c[n, j]
        for j in range(n_h):
            # tanh of c as read from the array: Numba types a value computed
            # from another inlined tanh/sigmoid as if either of their
            # branches could have run (float64), which would send a float32
            # c down the float64 tanh.
            v = gates[n, t, o0 + j] * tanh(c[n, j])
            h[n, j] = v
            hs[n, t, j] = v


@kernel
def forward_steps(wh, b, h, c, gates, hs, cs, work):
    """Run all T steps of the LSTM.

    Parameters
    ----------
    wh, b : (H, 4H), (4H,) parameters.
    h, c : (N, H) initial states on entry; the last states on return.
    gates : (N, T, 4H) x_t @ Wx on entry; the activated gates on return.
    hs, cs : (N, T, H) outputs: h and c of every step.
    work : (N, 4H) workspace.
    """
    for t in range(hs.shape[1]):
        np.dot(h, wh, work)
        forward_step(work, b, h, c, gates, hs, cs, t)


@kernel
def forward_steps_one_row(wh, b, h, c, gates, hs, cs, work):
    """``forward_steps`` for N = 1, with its own product instead of BLAS."""
    w = aligned_copy(wh)
    for t in range(hs.shape[1]):
        row_times(h, w, work)
        forward_step(work, b, h, c, gates, hs, cs, t)


@kernel
def forward_steps_own(wh, b, h, c, gates, hs, cs, work):
    """``forward_steps`` with fastrnn's own product on a packed Wh.T."""
    wh_t = transposed(wh)
    for t in range(hs.shape[1]):
        times_transposed(h, wh_t, work)
        forward_step(work, b, h, c, gates, hs, cs, t)


@kernel
def backward_step(dhs, gates, cs, c0, dh, dc, da, work, t):
    """Step ``t`` of ``backward_steps`` before its product.

    On entry dh and dc are the gradients with respect to h_t and c_t from
    the steps after t; on return dc is that of c_{t-1}, and ``da[:, t] =
    work`` that of A_t (the caller then sets ``dh = work @ wh_t``).
    """
    # Simple loops, as in the forward, so that each vectorises.
    n_h = dh.shape[1]
    f0, g0, i0, o0 = 0, n_h, 2 * n_h, 3 * n_h
    u = one(dh[0, 0])
    for n in range(dh.shape[0]):
        for j in range(n_h):
            o = gates[n, t, o0 + j]
            tc = tanh(cs[n, t, j])
            dh_t = dhs[n, t, j] + dh[n, j]
            work[n, o0 + j] = dh_t * tc * o * (u - o)
            dc[n, j] += dh_t * o * (u - tc * tc)  # now the gradient of c_t
        for j in range(n_h):
            c_prev = c0[n, j] if t == 0 else cs[n, t - 1, j]
            f = gates[n, t, f0 + j]
            work[n, f0 + j] = dc[n, j] * c_prev * f * (u - f)
        for j in range(n_h):
            g = gates[n, t, g0 + j]
            i = gates[n, t, i0 + j]
            work[n, g0 + j] = dc[n, j] * i * (u - g * g)
            work[n, i0 + j] = dc[n, j] * g * i * (u - i)
        for j in range(n_h):
            dc[n, j] *= gates[n, t, f0 + j]
        for j in range(4 * n_h):
            da[n, t, j] = work[n, j]


@kernel
def backward_steps(wh_t, dhs, gates, cs, c0, dh, dc, da, work):
    """Run the chain of the gradient through h and c, from step T-1 down to 0.

    Parameters
    ----------
    wh_t : (4H, H) the transpose of Wh: a C-contiguous copy, or over a few
        steps the F-ordered view ``wh.T`` (``np.dot`` takes either).
    dhs : (N, T, H) gradient of the loss with respect to hs.
    gates, cs : what ``forward_steps`` returned.
    c0 : (N, H) the forward's initial c.
    dh : (N, H) zero on entry; the gradient with respect to the initial h
        on return.
    dc : (N, H) the gradient with respect to the last c on entry (zero in a
        time layer); that with respect to the initial c on return.
    da : (N, T, 4H) output, the gradient with respect to A at every step.
    work : (N, 4H) workspace; holds da[:, 0] on return.
    """
    for t in range(dhs.shape[1] - 1, -1, -1):
        backward_step(dhs, gates, cs, c0, dh, dc, da, work, t)
        np.dot(work, wh_t, dh)


@kernel
def backward_steps_one_row(wh_t, dhs, gates, cs, c0, dh, dc, da, work):
    """``backward_steps`` for N = 1, with its own product instead of BLAS."""
    w = aligned_copy(wh_t)
    for t in range(dhs.shape[1] - 1, -1, -1):
        backward_step(dhs, gates, cs, c0, dh, dc, da, work, t)
        row_times(work, w, dh)


@kernel
def backward_steps_own(wh_t, dhs, gates, cs, c0, dh, dc, da, work):
    """``backward_steps`` with fastrnn's own product; ``wh_t`` must be the
    transposed view of the caller's C-contiguous Wh (``wh_t.T`` is Wh)."""
    wh = wh_t.T
    for t in range(dhs.shape[1] - 1, -1, -1):
        backward_step(dhs, gates, cs, c0, dh, dc, da, work, t)
        times_transposed(work, wh, dh)
