"""``RNN`` and ``TimeRNN``: the book's vanilla RNN, h = tanh(h_prev @ Wh + x @ Wx + b)."""

from __future__ import annotations

import numpy as np

from fastrnn_kernels import rnn as k

from .recurrent import Cell, Loops, Step, TimeRecurrent


def _forward_args(wh, b, h, c, tape):
    # tape.gates is tape.hs: x_t @ Wx on entry, tanh(...) written over it.
    return wh, b, h, tape.hs, np.empty_like(h)


def _forward_step(wh, b, h, hs, work, t):
    np.matmul(h, wh, out=work)
    k.forward_step(work, b, h, hs, t)


def _backward_args(wh_t, tape, dhs, dh, dc, da):
    return wh_t, tape.hs, dhs, dh, da, np.empty_like(dh)


def _backward_step(wh_t, hs, dhs, dh, da, work, t):
    k.backward_step(dhs, hs, dh, da, work, t)
    np.matmul(work, wh_t, out=dh)


CELL = Cell(name="RNN", gates=1, has_c=False, saved=0,
            forward_args=_forward_args,
            forward=Loops(k.forward_steps_one_row, k.forward_steps, _forward_step),
            backward_args=_backward_args,
            backward=Loops(k.backward_steps_one_row, k.backward_steps, _backward_step))


class RNN(Step):
    """One time step: ``h_next = tanh(h_prev @ Wh + x @ Wx + b)``.

    Parameters
    ----------
    Wx : (D, H) float32 or float64 array.
    Wh : (H, H) array of the same dtype.
    b : (H,) array of the same dtype.

    Attributes
    ----------
    params : [Wx, Wh, b], the very arrays passed in.
    grads : [dWx, dWh, db], created once and overwritten by every backward.
    cache : (x, h_prev, h_next) of the last forward, or None.

    ``forward(x, h_prev) -> h_next`` and ``backward(dh_next) -> (dx,
    dh_prev)`` (which writes ``grads``) come from ``Step``.
    """

    cell = CELL


class TimeRNN(TimeRecurrent):
    """T steps of ``RNN`` at once, with a hidden state kept between calls.

    Parameters
    ----------
    Wx : (D, H) float32 or float64 array.
    Wh : (H, H) array of the same dtype.
    b : (H,) array of the same dtype.
    stateful : bool
        If True, each forward starts from the state the last one ended in
        (truncated BPTT); the first one, and any after ``reset_state()``,
        from zeros. If False, every forward starts from zeros.

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
