"""``LSTM`` and ``TimeLSTM``: the book's LSTM, gate blocks f, g, i, o.

    A = x @ Wx + h_prev @ Wh + b
    f, g, i, o = sigmoid(A_f), tanh(A_g), sigmoid(A_i), sigmoid(A_o)
    c_next = f * c_prev + g * i;  h_next = o * tanh(c_next)
"""

from __future__ import annotations

import numpy as np

from fastrnn_kernels import lstm as k

from .recurrent import Cell, Loops, Step, TimeRecurrent


def _forward_args(wh, b, h, c, tape):
    cs, = tape.saved  # every step's c
    return wh, b, h, c, tape.gates, tape.hs, cs, np.empty((h.shape[0], wh.shape[1]), h.dtype)


def _forward_step(wh, b, h, c, gates, hs, cs, work, t):
    np.matmul(h, wh, out=work)
    k.forward_step(work, b, h, c, gates, hs, cs, t)


def _backward_args(wh_t, tape, dhs, dh, dc, da):
    cs, = tape.saved
    work = np.empty((dh.shape[0], wh_t.shape[0]), dtype=dh.dtype)
    return wh_t, dhs, tape.gates, cs, tape.c0, dh, dc, da, work


def _backward_step(wh_t, dhs, gates, cs, c0, dh, dc, da, work, t):
    k.backward_step(dhs, gates, cs, c0, dh, dc, da, work, t)
    np.matmul(work, wh_t, out=dh)


CELL = Cell(name="LSTM", gates=4, has_c=True, saved=1,
            forward_args=_forward_args,
            forward=Loops(k.forward_steps_one_row, k.forward_steps, _forward_step,
                          k.forward_steps_own),
            backward_args=_backward_args,
            backward=Loops(k.backward_steps_one_row, k.backward_steps, _backward_step,
                           k.backward_steps_own))


class LSTM(Step):
    """One LSTM step, as the book's ``LSTM``.

    Parameters
    ----------
    Wx : (D, 4H) float32 or float64 array, gate blocks f, g, i, o.
    Wh : (H, 4H) array of the same dtype.
    b : (4H,) array of the same dtype.

    Attributes
    ----------
    params : [Wx, Wh, b], the very arrays passed in.
    grads : [dWx, dWh, db], created once and overwritten by every backward.
    cache : (x, h_prev, c_prev, i, f, g, o, c_next) of the last forward, or None.
    """

    cell = CELL

    def forward(self, x: np.ndarray, h_prev: np.ndarray,
                c_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(h_next, c_next)``, each (N, H), for ``x`` (N, D) and
        ``h_prev``, ``c_prev`` (N, H)."""
        return self._step_forward(x, h_prev, c_prev)

    def _book_cache(self, x, h_prev, c_prev, h, c, tape):
        f, g, i, o = np.split(tape.gates[:, 0, :], 4, axis=1)
        return (x, h_prev, c_prev, i, f, g, o, c)

    def backward(self, dh_next: np.ndarray,
                 dc_next: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(dx, dh_prev, dc_prev)`` and overwrite ``grads``."""
        return self._step_backward(dh_next, dc_next)


class TimeLSTM(TimeRecurrent):
    """T steps of ``LSTM`` at once, with h and c kept between calls.

    Parameters
    ----------
    Wx : (D, 4H) float32 or float64 array, gate blocks f, g, i, o.
    Wh : (H, 4H) array of the same dtype.
    b : (4H,) array of the same dtype.
    stateful : bool
        If True, each forward starts from the h and c the last one ended in
        (or as set), each from zeros where it is None. If False, every
        forward starts from zeros.

    Attributes
    ----------
    params : [Wx, Wh, b], the very arrays passed in, read afresh every call.
    grads : [dWx, dWh, db], created once and overwritten by every backward.
    h, c : (N, H) states after the last forward (or as set), or None.
    dh : (N, H) gradient of the last backward with respect to the initial h
        of its block, or None.
    stateful : bool
    """

    cell = CELL

    def set_state(self, h: np.ndarray, c: np.ndarray | None = None) -> None:
        """Set the h (and c) the next stateful forward starts from; with c
        None it starts from a zero c. Copies in the params' dtype are kept."""
        self._set_state(h, c)
