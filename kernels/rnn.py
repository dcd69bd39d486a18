"""Forward and backward kernels of a vanilla RNN over T time steps.

All arrays are C-contiguous and of one float dtype; shapes are checked by
``fastrnn._validate`` before any kernel runs (Numba does no bounds
checking). Outputs and workspaces come last in each signature and are
preallocated by the caller: nothing is allocated inside the time loop.

Notation: N batch, T steps, D input size, H hidden size.
"""

import numpy as np

from ._jit import kernel
from .tanh import tanh

_SUM_BLOCK = 64  # rows summed before adding to the total (see db below)

@kernel
def rnn_forward(xs, wx, wh, b, h, hs, work):
    """Run T steps of h = tanh(h @ wh + x_t @ wx + b).

    Parameters
    ----------
    xs : (N, T, D) input.
    wx, wh, b : (D, H), (H, H), (H,) parameters.
    h : (N, H) initial state on entry; the last state on return.
    hs : (N, T, H) output, all hidden states.
    work : (N, H) workspace.
    """
    n_batch, n_steps, d_in = xs.shape
    d_h = wh.shape[0]
    # The input projection of all steps is one GEMM, written straight into hs.
    np.dot(xs.reshape(n_batch * n_steps, d_in), wx,
           hs.reshape(n_batch * n_steps, d_h))
    for t in range(n_steps):
        np.dot(h, wh, work)
        for n in range(n_batch):
            for j in range(d_h):
                v = tanh(work[n, j] + hs[n, t, j] + b[j])
                hs[n, t, j] = v
                h[n, j] = v


@kernel
def rnn_backward(xs, wx, wh, h0, hs, dhs, dxs, dwx, dwh, db, dh, dts, work):
    """Backpropagate through T steps of ``rnn_forward``.

    Parameters
    ----------
    xs, wx, wh : as given to ``rnn_forward``.
    h0 : (N, H) the initial state of that forward.
    hs : (N, T, H) its output.
    dhs : (N, T, H) gradient of the loss with respect to hs.
    dxs : (N, T, D) output, gradient with respect to xs.
    dwx, dwh, db : outputs, gradients of the parameters (overwritten).
    dh : (N, H) zero on entry; the gradient with respect to h0 on return.
    dts : (N, T, H) workspace, the gradient before tanh at every step
        (its t = 0 rows are zero on return).
    work : (N, H) workspace.
    """
    n_batch, n_steps, d_in = xs.shape
    d_h = wh.shape[0]
    rows = n_batch * n_steps
    # Only the chain through dh is sequential ...
    for t in range(n_steps - 1, -1, -1):
        for n in range(n_batch):
            for j in range(d_h):
                y = hs[n, t, j]
                g = (dhs[n, t, j] + dh[n, j]) * (1.0 - y * y)
                dts[n, t, j] = g
                work[n, j] = g
        np.dot(work, wh.T, dh)
    # ... the rest is one GEMM or reduction over all steps.
    flat_dts = dts.reshape(rows, d_h)
    np.dot(flat_dts, wx.T, dxs.reshape(rows, d_in))
    np.dot(xs.reshape(rows, d_in).T, flat_dts, dwx)
    # db sums blocks of rows first, so rounding error grows with the block
    # length plus the number of blocks rather than with N*T.
    partial = np.empty(d_h, dtype=db.dtype)
    db[:] = 0.0
    for start in range(0, rows, _SUM_BLOCK):
        partial[:] = 0.0
        for r in range(start, min(start + _SUM_BLOCK, rows)):
            for j in range(d_h):
                partial[j] += flat_dts[r, j]
        for j in range(d_h):
            db[j] += partial[j]
    # dwh = sum over t of h_{t-1}.T @ dt_t. In the flattened (N*T, H) layout
    # row r of hs is h_{t-1} of dts' row r + 1, except across a sample
    # boundary (row n*T + T-1 meets dts[n+1, 0], whose h_{t-1} is h0[n+1]).
    # So: zero the t = 0 rows of dts (work still holds them: the loop ended
    # at t = 0), one GEMM over the shifted rows, then add h0.T @ dt_0.
    for n in range(n_batch):
        for j in range(d_h):
            dts[n, 0, j] = 0.0
    flat_hs = hs.reshape(rows, d_h)
    if rows > 1:
        np.dot(flat_hs[:rows - 1].T, flat_dts[1:], dwh)
    else:
        dwh[:, :] = 0.0
    for n in range(n_batch):
        for i in range(d_h):
            h0_ni = h0[n, i]
            for j in range(d_h):
                dwh[i, j] += h0_ni * work[n, j]
