"""``RNN`` and ``TimeRNN``: drop-in replacements for the book's layers."""

from __future__ import annotations

from typing import Callable

import numpy as np

from ._guard import Layer
from ._validate import as_input, check_grads, check_params
from fastrnn_kernels.rnn import (backward_step, backward_steps, backward_steps_one_row,
                          forward_step, forward_steps, forward_steps_one_row, sum_rows)

Params = tuple[np.ndarray, np.ndarray, np.ndarray]


def _zero_grads(params: list[np.ndarray]) -> list[np.ndarray]:
    return [np.zeros(p.shape, dtype=p.dtype) for p in params]


# Per-step products of at most this many multiply-adds run inside the Numba
# time loop: OpenBLAS computes them on the calling thread (it starts its
# threads above 4 * 65536 multiply-adds), so SciPy's BLAS pool, which Numba
# calls, stays asleep. Larger ones are done step by step with numpy, on
# numpy's pool, like every large product here (see kernels/rnn.py).
_NUMBA_STEP_MAX_MACS = 4 * 65536

# One sequence (N = 1) with H up to this takes the ``*_one_row`` time loops,
# whose product is a Numba loop: OpenBLAS's call costs more than the
# arithmetic there. Measured on one core, (1, 64) @ (64, 64): 0.16 against
# 0.20 us in float32, 0.24 against 0.42 us in float64; from H = 100 on the
# two are about even (float32) or 15% apart (float64).
_ONE_ROW_MAX_H = 64


def _time_loops(n_batch: int, d_h: int) -> tuple[Callable, Callable] | None:
    """The kernels of the forward and backward time loops for this shape, or
    None when each step's product goes to numpy instead (too large)."""
    if n_batch == 1 and d_h <= _ONE_ROW_MAX_H:
        return forward_steps_one_row, backward_steps_one_row
    if n_batch * d_h * d_h <= _NUMBA_STEP_MAX_MACS:
        return forward_steps, backward_steps
    return None


def _forward(params: Params, xs: np.ndarray, h0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run the forward pass on checked arrays; return (hs, last state)."""
    wx, wh, b = params
    n_batch, n_steps, d_in = xs.shape
    d_h = wh.shape[0]
    h = h0.copy()
    hs = np.empty((n_batch, n_steps, d_h), dtype=wh.dtype)
    if hs.size == 0:
        return hs, h
    # The input projection of all steps is one GEMM, written straight into hs.
    np.matmul(xs.reshape(-1, d_in), wx, out=hs.reshape(-1, d_h))
    work = np.empty_like(h)
    loops = _time_loops(n_batch, d_h)
    if loops is not None:
        loops[0](wh, b, h, hs, work)
    else:
        for t in range(n_steps):
            np.matmul(h, wh, out=work)
            forward_step(work, b, h, hs, t)
    return hs, h


def _backward(params: Params, grads: list[np.ndarray], xs: np.ndarray,
              h0: np.ndarray, hs: np.ndarray, dhs: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Run the backward pass on checked arrays; write grads; return (dxs, dh0)."""
    wx, wh, _ = params
    dwx, dwh, db = grads
    n_batch, n_steps, d_in = xs.shape
    d_h = wh.shape[0]
    dxs = np.empty(xs.shape, dtype=xs.dtype)
    dh = np.zeros_like(h0)
    if hs.size == 0:
        for g in grads:
            g[...] = 0
        return dxs, dh
    # Only the chain through dh is sequential ...
    dts = np.empty_like(hs)
    work = np.empty_like(h0)
    # Every step multiplies by wh.T: one C-contiguous copy makes those products
    # plain GEMMs, which OpenBLAS runs up to 1.7x faster than on the view.
    # (Always a copy, never a view of wh: it is reused as scratch below.)
    wh_t = wh.T.copy()
    loops = _time_loops(n_batch, d_h)
    if loops is not None:
        loops[1](wh_t, hs, dhs, dh, dts, work)
    else:
        for t in range(n_steps - 1, -1, -1):
            backward_step(dhs, hs, dh, dts, work, t)
            np.matmul(work, wh_t, out=dh)
    # ... the rest is one GEMM or reduction over all steps.
    flat_dts = dts.reshape(-1, d_h)
    np.matmul(flat_dts, wx.T, out=dxs.reshape(-1, d_in))
    np.matmul(xs.reshape(-1, d_in).T, flat_dts, out=dwx)
    sum_rows(flat_dts, db)
    # dWh = sum over t of h_{t-1}.T @ dt_t. In the flattened (N*T, H) layout,
    # row r of hs is h_{t-1} of row r + 1 of dts, except across a sample
    # boundary, where row n*T + T-1 meets dts[n+1, 0], whose h_{t-1} is
    # h0[n+1]. So: zero the t = 0 rows of dts (work still holds them: the
    # loop ended at t = 0), one GEMM over the shifted rows, plus h0.T @ dt_0
    # (computed into wh_t, which is no longer needed: no H x H temporary).
    dts[:, 0, :] = 0
    np.matmul(hs.reshape(-1, d_h)[:-1].T, flat_dts[1:], out=dwh)
    np.matmul(h0.T, work, out=wh_t)
    dwh += wh_t
    return dxs, dh


def _params_for_backward(layer: "RNN | TimeRNN", xs: np.ndarray, hs: np.ndarray) -> Params:
    """Check params and grads again, and that they still fit the forward pass."""
    params = check_params(layer.params)
    if params[0].dtype != hs.dtype or params[0].shape != (xs.shape[-1], hs.shape[-1]):
        raise ValueError(
            f"params changed since forward: Wx now has shape {params[0].shape} and "
            f"dtype {params[0].dtype}, forward ran with shape "
            f"{(xs.shape[-1], hs.shape[-1])} and dtype {hs.dtype}")
    check_grads(layer.grads, params)
    return params


class RNN(Layer):
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
    """

    def __init__(self, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray) -> None:
        check_params([Wx, Wh, b])
        super().__init__()
        self.params = [Wx, Wh, b]
        self.grads = _zero_grads(self.params)
        self.cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def forward(self, x: np.ndarray, h_prev: np.ndarray) -> np.ndarray:
        """Return ``h_next`` (N, H) for ``x`` (N, D) and ``h_prev`` (N, H)."""
        with self._exclusive():
            params = check_params(self.params)
            wx = params[0]
            x = as_input("x", x, (None, wx.shape[0]), wx.dtype)
            h_prev = as_input("h_prev", h_prev, (x.shape[0], wx.shape[1]), wx.dtype)
            hs, _ = _forward(params, x[:, None, :], h_prev)
            h_next = hs[:, 0, :]
            self.cache = (x, h_prev, h_next)
            return h_next

    def backward(self, dh_next: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(dx, dh_prev)`` and overwrite ``grads``.

        ``dh_next`` is the gradient with respect to the last forward's output.
        """
        with self._exclusive():
            if self.cache is None:
                raise RuntimeError("RNN.backward() called before forward()")
            x, h_prev, h_next = self.cache
            params = _params_for_backward(self, x, h_next)
            dh_next = as_input("dh_next", dh_next, h_next.shape, h_next.dtype)
            dxs, dh_prev = _backward(params, self.grads, x[:, None, :], h_prev,
                                     h_next[:, None, :], dh_next[:, None, :])
            return dxs[:, 0, :], dh_prev


class TimeRNN(Layer):
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

    def __init__(self, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray,
                 stateful: bool = False) -> None:
        check_params([Wx, Wh, b])
        super().__init__()
        self.params = [Wx, Wh, b]
        self.grads = _zero_grads(self.params)
        self.h: np.ndarray | None = None
        self.dh: np.ndarray | None = None
        self.stateful = stateful
        self._cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def forward(self, xs: np.ndarray) -> np.ndarray:
        """Return all hidden states hs (N, T, H) for inputs ``xs`` (N, T, D)."""
        with self._exclusive():
            params = check_params(self.params)
            wx = params[0]
            xs = as_input("xs", xs, (None, None, wx.shape[0]), wx.dtype)
            n_batch = xs.shape[0]
            if self.stateful and self.h is not None:
                h0 = as_input("h", self.h, (None, wx.shape[1]), wx.dtype)
                if h0.shape[0] != n_batch:
                    raise ValueError(
                        f"this stateful TimeRNN holds a hidden state h of shape "
                        f"{h0.shape}, but xs of shape {xs.shape} has batch size "
                        f"{n_batch}; call reset_state() (or set_state()) before "
                        "changing the batch size")
            else:
                h0 = np.zeros((n_batch, wx.shape[1]), dtype=wx.dtype)
            hs, self.h = _forward(params, xs, h0)
            self._cache = (xs, h0, hs)
            return hs

    def backward(self, dhs: np.ndarray) -> np.ndarray:
        """Return dxs (N, T, D) for ``dhs`` (N, T, H); overwrite grads and dh.

        Like the book's layer, it does not add any incoming ``dh``: the
        gradient of the next block's initial state is the caller's to add.
        """
        with self._exclusive():
            if self._cache is None:
                raise RuntimeError("TimeRNN.backward() called before forward()")
            xs, h0, hs = self._cache
            params = _params_for_backward(self, xs, hs)
            dhs = as_input("dhs", dhs, hs.shape, hs.dtype)
            dxs, self.dh = _backward(params, self.grads, xs, h0, hs, dhs)
            return dxs

    def set_state(self, h: np.ndarray) -> None:
        """Set the hidden state (N, H) the next stateful forward starts from.

        A copy of ``h`` in the params' dtype is kept; views are fine.
        """
        with self._exclusive():
            wx = check_params(self.params)[0]
            self.h = as_input("h", h, (None, wx.shape[1]), wx.dtype, copy=True)

    def reset_state(self) -> None:
        """Forget the hidden state: the next forward starts from zeros."""
        self.h = None
