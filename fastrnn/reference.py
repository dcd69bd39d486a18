"""The seed's pure-numpy ``RNN`` and ``TimeRNN``: baseline and test oracle.

Faithful to the book's ``common/time_layers.py``: one ``RNN`` object per
step, the same order of operations. The only change: arrays are created in
the params' dtype rather than always float32 (``dtype='f'``), so float64
models can be checked exactly. Use it to compare::

    from fastrnn.reference import TimeRNN
"""

from __future__ import annotations

import numpy as np


class RNN:
    """One step of the book's RNN (pure numpy)."""

    def __init__(self, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray) -> None:
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache = None

    def forward(self, x: np.ndarray, h_prev: np.ndarray) -> np.ndarray:
        """Return h_next = tanh(h_prev @ Wh + x @ Wx + b)."""
        Wx, Wh, b = self.params
        t = np.dot(h_prev, Wh) + np.dot(x, Wx) + b
        h_next = np.tanh(t)
        self.cache = (x, h_prev, h_next)
        return h_next

    def backward(self, dh_next: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (dx, dh_prev) and overwrite grads."""
        Wx, Wh, b = self.params
        x, h_prev, h_next = self.cache
        dt = dh_next * (1 - h_next ** 2)
        db = np.sum(dt, axis=0)
        dWh = np.dot(h_prev.T, dt)
        dh_prev = np.dot(dt, Wh.T)
        dWx = np.dot(x.T, dt)
        dx = np.dot(dt, Wx.T)
        self.grads[0][...] = dWx
        self.grads[1][...] = dWh
        self.grads[2][...] = db
        return dx, dh_prev


class TimeRNN:
    """The book's T-step RNN layer (pure numpy, a Python loop over steps)."""

    def __init__(self, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray,
                 stateful: bool = False) -> None:
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.layers = None
        self.h, self.dh = None, None
        self.stateful = stateful

    def forward(self, xs: np.ndarray) -> np.ndarray:
        """Return hs (N, T, H) for xs (N, T, D)."""
        Wx, Wh, b = self.params
        N, T, D = xs.shape
        D, H = Wx.shape
        dtype = Wx.dtype
        self.layers = []
        hs = np.empty((N, T, H), dtype=dtype)
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype=dtype)
        for t in range(T):
            layer = RNN(*self.params)
            self.h = layer.forward(xs[:, t, :], self.h)
            hs[:, t, :] = self.h
            self.layers.append(layer)
        return hs

    def backward(self, dhs: np.ndarray) -> np.ndarray:
        """Return dxs (N, T, D); overwrite grads; store dh."""
        Wx, Wh, b = self.params
        N, T, H = dhs.shape
        D, H = Wx.shape
        dxs = np.empty((N, T, D), dtype=Wx.dtype)
        dh = 0
        grads = [0, 0, 0]
        for t in reversed(range(T)):
            layer = self.layers[t]
            dx, dh = layer.backward(dhs[:, t, :] + dh)
            dxs[:, t, :] = dx
            for i, grad in enumerate(layer.grads):
                grads[i] += grad
        for i, grad in enumerate(grads):
            self.grads[i][...] = grad
        self.dh = dh
        return dxs

    def set_state(self, h: np.ndarray) -> None:
        """Set the hidden state used by the next stateful forward."""
        self.h = h

    def reset_state(self) -> None:
        """Forget the hidden state."""
        self.h = None
