"""``GRU`` and ``TimeGRU``: the book's GRU (not PyTorch's), gate blocks z, r, h~.

    z = sigmoid(x @ Wxz + h_prev @ Whz + bz)
    r = sigmoid(x @ Wxr + h_prev @ Whr + br)
    h~ = tanh(x @ Wxh + (r * h_prev) @ Whh + bh)
    h_next = (1 - z) * h_prev + z * h~
"""

from __future__ import annotations

import numpy as np

from fastrnn_kernels import gru as k

from .recurrent import Cell, Loops, Step, TimeRecurrent


def _forward_args(wh, b, h, c, tape):
    rhs, = tape.saved  # every step's r * h_prev
    d_h = h.shape[1]
    wh_zr = np.ascontiguousarray(wh[:, :2 * d_h])
    wh_h = np.ascontiguousarray(wh[:, 2 * d_h:])
    work_zr = np.empty((h.shape[0], 2 * d_h), dtype=h.dtype)
    return (wh_zr, wh_h, b, h, tape.gates, tape.hs, rhs, work_zr, np.empty_like(h),
            np.empty_like(h))


def _forward_step(wh_zr, wh_h, b, h, gates, hs, rhs, work_zr, rh, work_h, t):
    np.matmul(h, wh_zr, out=work_zr)
    k.forward_gates(work_zr, b, h, gates, rhs, rh, t)
    np.matmul(rh, wh_h, out=work_h)
    k.forward_state(work_h, b, h, gates, hs, t)


def _backward_args(wh_t, tape, dhs, dh, dc, da):
    d_h = dh.shape[1]
    wh_t_zr, wh_t_h = wh_t[:2 * d_h], wh_t[2 * d_h:]  # row blocks of a copy: C-contiguous
    work_zr = np.empty((dh.shape[0], 2 * d_h), dtype=dh.dtype)
    return (wh_t_zr, wh_t_h, dhs, tape.gates, tape.hs, tape.h0, dh, da, work_zr,
            np.empty_like(dh), np.empty_like(dh))


def _backward_step(wh_t_zr, wh_t_h, dhs, gates, hs, h0, dh, da, work_zr, work_h, drh, t):
    k.backward_state(dhs, gates, hs, h0, dh, da, work_h, t)
    np.matmul(work_h, wh_t_h, out=drh)
    k.backward_gates(gates, hs, h0, drh, dh, da, work_zr, t)
    np.matmul(work_zr, wh_t_zr, out=drh)
    dh += drh


# dWh: the z and r blocks are multiplied by h_{t-1}, the h~ block by saved[0].
CELL = Cell(name="GRU", gates=3, has_c=False, saved=1,
            forward_args=_forward_args,
            forward=Loops(k.forward_steps_one_row, k.forward_steps, _forward_step),
            backward_args=_backward_args,
            backward=Loops(k.backward_steps_one_row, k.backward_steps, _backward_step),
            wh_inputs=((0, 2, -1), (2, 3, 0)), wh_t_view=False)


class GRU(Step):
    """One step of the book's GRU.

    Parameters
    ----------
    Wx : (D, 3H) float32 or float64 array, gate blocks z, r, h~.
    Wh : (H, 3H) array of the same dtype.
    b : (3H,) array of the same dtype.

    Attributes
    ----------
    params : [Wx, Wh, b], the very arrays passed in.
    grads : [dWx, dWh, db], created once and overwritten by every backward.
    cache : (x, h_prev, z, r, hh) of the last forward, or None.

    ``forward(x, h_prev) -> h_next`` and ``backward(dh_next) -> (dx,
    dh_prev)`` (which writes ``grads``) come from ``Step``.
    """

    cell = CELL

    def _book_cache(self, x, h_prev, c_prev, h, c, tape):
        z, r, hh = np.split(tape.gates[:, 0, :], 3, axis=1)
        return (x, h_prev, z, r, hh)


class TimeGRU(TimeRecurrent):
    """T steps of ``GRU`` at once, with a hidden state kept between calls.

    Parameters
    ----------
    Wx : (D, 3H) float32 or float64 array, gate blocks z, r, h~.
    Wh : (H, 3H) array of the same dtype.
    b : (3H,) array of the same dtype.
    stateful : bool
        As for ``TimeRNN``.

    Attributes
    ----------
    params : [Wx, Wh, b], the very arrays passed in, read afresh every call.
    grads : [dWx, dWh, db], created once and overwritten by every backward.
    h : (N, H) hidden state after the last forward (or as set), or None.
    dh : (N, H) gradient of the last backward with respect to the initial
        state of its block, or None.
    stateful : bool
    """

    cell = CELL
