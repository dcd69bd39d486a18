"""The sequential part of the book's GRU: the time loops and their steps.

As for the RNN (``kernels/rnn.py``), the products over all steps are the
caller's (numpy); here is only the chain through h. Gate blocks are laid
out as in the book, z, r, h~, each H wide; the reset gate multiplies h
before its product, so a step has two dependent products:

    z = sigmoid(x_t @ Wxz + h_prev @ Whz + bz)
    r = sigmoid(x_t @ Wxr + h_prev @ Whr + br)
    h~ = tanh(x_t @ Wxh + (r * h_prev) @ Whh + bh)
    h = (1 - z) * h_prev + z * h~

The forward keeps the activated gates (in place of x_t @ Wx in ``gates``)
and every step's r * h_prev (``rhs``, the input of Whh, for dWhh). All
arrays are C-contiguous, of one float dtype, with shapes checked by
``fastrnn.layers.validate`` before any kernel runs. Outputs and workspaces
last.
The time loops call the per-step kernels (compiled once per dtype, not once
per loop; see kernels/lstm.py).

Notation: N batch, T steps, H hidden size; ``gates`` and ``da`` are
(N, T, 3H), ``hs`` and ``rhs`` (N, T, H); ``wh_zr`` is Wh's first 2H
columns and ``wh_h`` its last H, both C-contiguous; ``wh_t_zr`` and
``wh_t_h`` the same blocks of Wh.T.
"""

import numpy as np

from ._jit import kernel
from .products import aligned_copy, row_times
from .scalars import one
from .sigmoid import sigmoid
from .tanh import tanh


# Each elementwise part is a few simple loops over range(H) with fixed
# offsets, which LLVM vectorises (see kernels/lstm.py), and reads an
# activation back from its array before using it in another one (Numba
# would type it float64: see there).
@kernel
def forward_gates(work_zr, b, h, gates, rhs, rh, t):
    """First half of step ``t`` of ``forward_steps``, given
    ``work_zr = h_prev @ wh_zr``; the caller then sets ``work_h = rh @ wh_h``."""
    # work_zr = h_prev @ Wh[:, :2H] on entry; z and r into gates[:, t],
    # rhs[:, t] = rh = r * h_prev.
    n_h = h.shape[1]
    for n in range(h.shape[0]):
        for j in range(2 * n_h):
            gates[n, t, j] = sigmoid(gates[n, t, j] + work_zr[n, j] + b[j])
        for j in range(n_h):
            v = gates[n, t, n_h + j] * h[n, j]
            rhs[n, t, j] = v
            rh[n, j] = v


@kernel
def forward_state(work_h, b, h, gates, hs, t):
    """Second half of step ``t`` of ``forward_steps``."""
    # work_h = (r * h_prev) @ Whh on entry; h~ into gates[:, t], h = hs[:, t].
    n_h = h.shape[1]
    h0 = 2 * n_h
    for n in range(h.shape[0]):
        for j in range(n_h):
            gates[n, t, h0 + j] = tanh(gates[n, t, h0 + j] + work_h[n, j] + b[h0 + j])
        for j in range(n_h):
            z = gates[n, t, j]
            v = h[n, j] - z * h[n, j] + z * gates[n, t, h0 + j]  # (1 - z) h_prev + z h~
            h[n, j] = v
            hs[n, t, j] = v


@kernel
def forward_steps(wh_zr, wh_h, b, h, gates, hs, rhs, work_zr, rh, work_h):
    """Run all T steps of the GRU.

    Parameters
    ----------
    wh_zr, wh_h : (H, 2H) and (H, H) blocks of Wh; b : (3H,).
    h : (N, H) initial state on entry; the last state on return.
    gates : (N, T, 3H) x_t @ Wx on entry; z, r, h~ on return.
    hs, rhs : (N, T, H) outputs: h and r * h_prev of every step.
    work_zr, rh, work_h : (N, 2H), (N, H), (N, H) workspaces.
    """
    for t in range(hs.shape[1]):
        np.dot(h, wh_zr, work_zr)
        forward_gates(work_zr, b, h, gates, rhs, rh, t)
        np.dot(rh, wh_h, work_h)
        forward_state(work_h, b, h, gates, hs, t)


@kernel
def forward_steps_one_row(wh_zr, wh_h, b, h, gates, hs, rhs, work_zr, rh, work_h):
    """``forward_steps`` for N = 1, with its own products instead of BLAS."""
    w_zr = aligned_copy(wh_zr)
    w_h = aligned_copy(wh_h)
    for t in range(hs.shape[1]):
        row_times(h, w_zr, work_zr)
        forward_gates(work_zr, b, h, gates, rhs, rh, t)
        row_times(rh, w_h, work_h)
        forward_state(work_h, b, h, gates, hs, t)


@kernel
def backward_state(dhs, gates, hs, h0, dh, da, work_h, t):
    """First part of step ``t`` of ``backward_steps``; the caller then sets
    ``drh = work_h @ wh_t_h``."""
    # dh = the gradient with respect to h_t from the steps after t on entry;
    # on return its part through (1 - z) * h_prev; da[:, t] gets dA_z and
    # dA_h~, work_h = dA_h~ (the caller then multiplies it by Whh.T).
    n_h = dh.shape[1]
    u = one(dh[0, 0])
    for n in range(dh.shape[0]):
        for j in range(n_h):
            z = gates[n, t, j]
            hh = gates[n, t, 2 * n_h + j]
            h_prev = h0[n, j] if t == 0 else hs[n, t - 1, j]
            dh_t = dhs[n, t, j] + dh[n, j]
            d_h = dh_t * z * (u - hh * hh)
            da[n, t, j] = dh_t * (hh - h_prev) * z * (u - z)
            da[n, t, 2 * n_h + j] = d_h
            work_h[n, j] = d_h
            dh[n, j] = dh_t * (u - z)


@kernel
def backward_gates(gates, hs, h0, drh, dh, da, work_zr, t):
    """Second part of step ``t`` of ``backward_steps``; the caller then adds
    ``work_zr @ wh_t_zr`` to ``dh``."""
    # drh = dA_h~ @ Whh.T, the gradient with respect to r * h_prev, on
    # entry: add its part to dh, da[:, t] gets dA_r, work_zr = dA_z, dA_r
    # (the caller then adds work_zr @ Wh[:, :2H].T to dh).
    n_h = dh.shape[1]
    u = one(dh[0, 0])
    for n in range(dh.shape[0]):
        for j in range(n_h):
            r = gates[n, t, n_h + j]
            h_prev = h0[n, j] if t == 0 else hs[n, t - 1, j]
            dh[n, j] += drh[n, j] * r
            work_zr[n, n_h + j] = drh[n, j] * h_prev * r * (u - r)
        for j in range(n_h):
            work_zr[n, j] = da[n, t, j]
            da[n, t, n_h + j] = work_zr[n, n_h + j]


@kernel
def backward_steps(wh_t_zr, wh_t_h, dhs, gates, hs, h0, dh, da, work_zr, work_h, drh):
    """Run the chain of the gradient through h, from step T-1 down to 0.

    Parameters
    ----------
    wh_t_zr, wh_t_h : (2H, H) and (H, H) blocks of Wh.T.
    dhs : (N, T, H) gradient of the loss with respect to hs.
    gates, hs : what ``forward_steps`` returned; h0 : (N, H) its initial h.
    dh : (N, H) zero on entry; the gradient with respect to h0 on return.
    da : (N, T, 3H) output, the gradient with respect to the gates' inputs.
    work_zr, work_h, drh : (N, 2H), (N, H), (N, H) workspaces.
    """
    for t in range(dhs.shape[1] - 1, -1, -1):
        backward_state(dhs, gates, hs, h0, dh, da, work_h, t)
        np.dot(work_h, wh_t_h, drh)
        backward_gates(gates, hs, h0, drh, dh, da, work_zr, t)
        np.dot(work_zr, wh_t_zr, drh)
        for n in range(dh.shape[0]):
            for j in range(dh.shape[1]):
                dh[n, j] += drh[n, j]


@kernel
def backward_steps_one_row(wh_t_zr, wh_t_h, dhs, gates, hs, h0, dh, da, work_zr, work_h,
                           drh):
    """``backward_steps`` for N = 1, with its own products instead of BLAS."""
    w_zr = aligned_copy(wh_t_zr)
    w_h = aligned_copy(wh_t_h)
    for t in range(dhs.shape[1] - 1, -1, -1):
        backward_state(dhs, gates, hs, h0, dh, da, work_h, t)
        row_times(work_h, w_h, drh)
        backward_gates(gates, hs, h0, drh, dh, da, work_zr, t)
        row_times(work_zr, w_zr, drh)
        for j in range(dh.shape[1]):
            dh[0, j] += drh[0, j]
