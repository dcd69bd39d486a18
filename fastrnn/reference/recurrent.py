"""The book's recurrent layers in pure numpy: ``RNN``/``TimeRNN`` (chapter
5), ``LSTM``/``TimeLSTM`` and ``TimeDropout`` (chapter 6), ``TimeBiLSTM``
(chapter 8), ``GRU``/``TimeGRU`` (the appendix). See ``fastrnn.reference``.
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

    cell = RNN  # the one-step layer of each step (TimeGRU: GRU)

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
        H = Wh.shape[0]
        dtype = Wx.dtype
        self.layers = []
        hs = np.empty((N, T, H), dtype=dtype)
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype=dtype)
        for t in range(T):
            layer = self.cell(*self.params)
            self.h = layer.forward(xs[:, t, :], self.h)
            hs[:, t, :] = self.h
            self.layers.append(layer)
        return hs

    def backward(self, dhs: np.ndarray) -> np.ndarray:
        """Return dxs (N, T, D); overwrite grads; store dh."""
        Wx, Wh, b = self.params
        N, T, H = dhs.shape
        D = Wx.shape[0]
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


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The book's logistic function ``1 / (1 + exp(-x))``."""
    return 1 / (1 + np.exp(-x))


class LSTM:
    """One step of the book's LSTM (pure numpy).

    ``A = x @ Wx + h_prev @ Wh + b`` holds four gate blocks of H columns in
    the order f, g, i, o; f, i, o go through a sigmoid, g through tanh.

    Parameters
    ----------
    Wx : (D, 4H) array.
    Wh : (H, 4H) array of the same dtype.
    b : (4H,) array of the same dtype.
    """

    def __init__(self, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray) -> None:
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache = None

    def forward(self, x: np.ndarray, h_prev: np.ndarray,
                c_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(h_next, c_next)``: ``c_next = f * c_prev + g * i``,
        ``h_next = o * tanh(c_next)``."""
        Wx, Wh, b = self.params
        N, H = h_prev.shape
        A = np.dot(x, Wx) + np.dot(h_prev, Wh) + b
        f = sigmoid(A[:, :H])
        g = np.tanh(A[:, H:2 * H])
        i = sigmoid(A[:, 2 * H:3 * H])
        o = sigmoid(A[:, 3 * H:])
        c_next = f * c_prev + g * i
        h_next = o * np.tanh(c_next)
        self.cache = (x, h_prev, c_prev, i, f, g, o, c_next)
        return h_next, c_next

    def backward(self, dh_next: np.ndarray, dc_next: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(dx, dh_prev, dc_prev)`` and overwrite grads."""
        Wx, Wh, b = self.params
        x, h_prev, c_prev, i, f, g, o, c_next = self.cache
        tanh_c = np.tanh(c_next)
        # The gradient reaching c_next: directly, and through h_next.
        ds = dc_next + dh_next * o * (1 - tanh_c ** 2)
        dc_prev = ds * f
        df = ds * c_prev * f * (1 - f)
        dg = ds * i * (1 - g ** 2)
        di = ds * g * i * (1 - i)
        do = dh_next * tanh_c * o * (1 - o)
        dA = np.hstack((df, dg, di, do))
        dWh = np.dot(h_prev.T, dA)
        dWx = np.dot(x.T, dA)
        db = dA.sum(axis=0)
        self.grads[0][...] = dWx
        self.grads[1][...] = dWh
        self.grads[2][...] = db
        dx = np.dot(dA, Wx.T)
        dh_prev = np.dot(dA, Wh.T)
        return dx, dh_prev, dc_prev


class TimeLSTM:
    """The book's T-step LSTM layer (pure numpy, a Python loop over steps).

    Attributes ``params``, ``grads``, ``layers``, ``h``, ``c``, ``dh`` (the
    gradient of the block's initial h; the book keeps no dc) and
    ``stateful``, as in ``TimeRNN``.
    """

    def __init__(self, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray,
                 stateful: bool = False) -> None:
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.layers = None
        self.h, self.c = None, None
        self.dh = None
        self.stateful = stateful

    def forward(self, xs: np.ndarray) -> np.ndarray:
        """Return hs (N, T, H) for xs (N, T, D)."""
        Wx, Wh, b = self.params
        N, T, D = xs.shape
        H = Wh.shape[0]
        dtype = Wx.dtype
        self.layers = []
        hs = np.empty((N, T, H), dtype=dtype)
        # h and c independently: set_state(h) leaves c None, i.e. zeros.
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype=dtype)
        if not self.stateful or self.c is None:
            self.c = np.zeros((N, H), dtype=dtype)
        for t in range(T):
            layer = LSTM(*self.params)
            self.h, self.c = layer.forward(xs[:, t, :], self.h, self.c)
            hs[:, t, :] = self.h
            self.layers.append(layer)
        return hs

    def backward(self, dhs: np.ndarray) -> np.ndarray:
        """Return dxs (N, T, D); overwrite grads; store dh."""
        Wx, Wh, b = self.params
        N, T, H = dhs.shape
        D = Wx.shape[0]
        dxs = np.empty((N, T, D), dtype=Wx.dtype)
        dh, dc = 0, 0
        grads = [0, 0, 0]
        for t in reversed(range(T)):
            layer = self.layers[t]
            dx, dh, dc = layer.backward(dhs[:, t, :] + dh, dc)
            dxs[:, t, :] = dx
            for i, grad in enumerate(layer.grads):
                grads[i] += grad
        for i, grad in enumerate(grads):
            self.grads[i][...] = grad
        self.dh = dh
        return dxs

    def set_state(self, h: np.ndarray, c: np.ndarray | None = None) -> None:
        """Set the state used by the next stateful forward (c None: zeros)."""
        self.h, self.c = h, c

    def reset_state(self) -> None:
        """Forget h and c."""
        self.h, self.c = None, None


class GRU:
    """One step of the book's GRU (pure numpy).

    Gate blocks z, r, h~ of H columns each, in that order, in Wx (D, 3H),
    Wh (H, 3H) and b (3H,); the reset gate multiplies h_prev before its
    product: ``h~ = tanh(x @ Wxh + (r * h_prev) @ Whh + bh)``, and
    ``h_next = (1 - z) * h_prev + z * h~``.
    """

    def __init__(self, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray) -> None:
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache = None

    def forward(self, x: np.ndarray, h_prev: np.ndarray) -> np.ndarray:
        """Return h_next (N, H)."""
        Wx, Wh, b = self.params
        H = Wh.shape[0]
        Wxz, Wxr, Wxh = Wx[:, :H], Wx[:, H:2 * H], Wx[:, 2 * H:]
        Whz, Whr, Whh = Wh[:, :H], Wh[:, H:2 * H], Wh[:, 2 * H:]
        bz, br, bh = b[:H], b[H:2 * H], b[2 * H:]
        z = sigmoid(np.dot(x, Wxz) + np.dot(h_prev, Whz) + bz)
        r = sigmoid(np.dot(x, Wxr) + np.dot(h_prev, Whr) + br)
        h_hat = np.tanh(np.dot(x, Wxh) + np.dot(r * h_prev, Whh) + bh)
        h_next = (1 - z) * h_prev + z * h_hat
        self.cache = (x, h_prev, z, r, h_hat)
        return h_next

    def backward(self, dh_next: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(dx, dh_prev)`` and overwrite grads."""
        Wx, Wh, b = self.params
        H = Wh.shape[0]
        Wxz, Wxr, Wxh = Wx[:, :H], Wx[:, H:2 * H], Wx[:, 2 * H:]
        Whz, Whr, Whh = Wh[:, :H], Wh[:, H:2 * H], Wh[:, 2 * H:]
        x, h_prev, z, r, h_hat = self.cache

        dh_hat = dh_next * z
        dh_prev = dh_next * (1 - z)

        # h~ = tanh(ah), ah = x @ Wxh + (r * h_prev) @ Whh + bh
        dah = dh_hat * (1 - h_hat ** 2)
        dbh = np.sum(dah, axis=0)
        dWhh = np.dot((r * h_prev).T, dah)
        dhr = np.dot(dah, Whh.T)
        dWxh = np.dot(x.T, dah)
        dx = np.dot(dah, Wxh.T)
        dh_prev += r * dhr

        # z: h_next depends on it through z * (h~ - h_prev)
        daz = dh_next * (h_hat - h_prev) * z * (1 - z)
        dbz = np.sum(daz, axis=0)
        dWhz = np.dot(h_prev.T, daz)
        dh_prev += np.dot(daz, Whz.T)
        dWxz = np.dot(x.T, daz)
        dx += np.dot(daz, Wxz.T)

        # r: reaches h~ through r * h_prev
        dar = dhr * h_prev * r * (1 - r)
        dbr = np.sum(dar, axis=0)
        dWhr = np.dot(h_prev.T, dar)
        dh_prev += np.dot(dar, Whr.T)
        dWxr = np.dot(x.T, dar)
        dx += np.dot(dar, Wxr.T)

        self.grads[0][...] = np.hstack((dWxz, dWxr, dWxh))
        self.grads[1][...] = np.hstack((dWhz, dWhr, dWhh))
        self.grads[2][...] = np.hstack((dbz, dbr, dbh))
        return dx, dh_prev


class TimeGRU(TimeRNN):
    """The book's T-step GRU layer (pure numpy); the API of ``TimeRNN``,
    one ``GRU`` per step."""

    cell = GRU


class TimeBiLSTM:
    """The book's bidirectional LSTM: one ``TimeLSTM`` reads xs forwards,
    another reads it backwards; their hs are concatenated to (N, T, 2H).

    ``params``/``grads`` are the two layers' lists concatenated (the same
    array objects).
    """

    def __init__(self, Wx1: np.ndarray, Wh1: np.ndarray, b1: np.ndarray,
                 Wx2: np.ndarray, Wh2: np.ndarray, b2: np.ndarray,
                 stateful: bool = False) -> None:
        self.forward_lstm = TimeLSTM(Wx1, Wh1, b1, stateful)
        self.backward_lstm = TimeLSTM(Wx2, Wh2, b2, stateful)
        self.params = self.forward_lstm.params + self.backward_lstm.params
        self.grads = self.forward_lstm.grads + self.backward_lstm.grads

    def forward(self, xs: np.ndarray) -> np.ndarray:
        """Return (N, T, 2H): forward hs, then backward hs (back in time order)."""
        o1 = self.forward_lstm.forward(xs)
        o2 = self.backward_lstm.forward(xs[:, ::-1])
        o2 = o2[:, ::-1]
        return np.concatenate((o1, o2), axis=2)

    def backward(self, dhs: np.ndarray) -> np.ndarray:
        """Return dxs (N, T, D); overwrite both layers' grads."""
        H = dhs.shape[2] // 2
        do1 = dhs[:, :, :H]
        do2 = dhs[:, :, H:]
        dxs1 = self.forward_lstm.backward(do1)
        dxs2 = self.backward_lstm.backward(do2[:, ::-1])
        return dxs1 + dxs2[:, ::-1]


class TimeDropout:
    """The book's inverted dropout: in training, zero each element with
    probability ``dropout_ratio`` and scale the rest by
    ``1 / (1 - dropout_ratio)``; otherwise the identity.

    The mask is drawn with ``np.random.rand`` from numpy's global generator,
    in the input's dtype.
    """

    def __init__(self, dropout_ratio: float = 0.5) -> None:
        self.params, self.grads = [], []
        self.dropout_ratio = dropout_ratio
        self.mask = None
        self.train_flg = True

    def forward(self, xs: np.ndarray) -> np.ndarray:
        """Return ``xs * mask`` in training, else ``xs`` itself."""
        if self.train_flg:
            flg = np.random.rand(*xs.shape) > self.dropout_ratio
            scale = 1 / (1.0 - self.dropout_ratio)
            # the book's is astype(np.float32): the same for float32 inputs,
            # exact for float64 ones (as the rest of this module)
            self.mask = flg.astype(xs.dtype) * scale
            return xs * self.mask
        return xs

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return ``dout * mask``."""
        return dout * self.mask
