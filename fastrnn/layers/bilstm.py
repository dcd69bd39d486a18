"""``TimeBiLSTM``: two ``TimeLSTM``s, one over the sequence and one over it reversed."""

from __future__ import annotations

import numpy as np

from .base import Layer
from .validate import as_input, check_params, check_sequence
from .lstm import CELL, TimeLSTM
from .recurrent import check_backward_params, check_unchanged


class TimeBiLSTM(Layer):
    """A bidirectional LSTM, as the book's ``TimeBiLSTM``.

    The first LSTM reads xs forward, the second reads it reversed; the
    output (N, T, 2H) is ``[forward hs, backward hs re-reversed]``.

    Parameters
    ----------
    Wx1, Wh1, b1 : the forward LSTM's params ((D, 4H), (H, 4H), (4H,)).
    Wx2, Wh2, b2 : the backward LSTM's params, of the same shapes and dtype.
    stateful : bool, passed to both LSTMs.

    Attributes
    ----------
    forward_lstm, backward_lstm : the two ``TimeLSTM``s.
    params, grads : the two layers' lists, concatenated (six arrays each,
        the very same objects).
    """

    cell = CELL  # each direction's
    directions = 2

    def __init__(self, Wx1: np.ndarray, Wh1: np.ndarray, b1: np.ndarray,
                 Wx2: np.ndarray, Wh2: np.ndarray, b2: np.ndarray,
                 stateful: bool = False) -> None:
        first = check_params([Wx1, Wh1, b1], 4)
        second = check_params([Wx2, Wh2, b2], 4)
        if (first[0].shape, first[0].dtype) != (second[0].shape, second[0].dtype):
            raise ValueError(f"Wx2 must have the shape and dtype of Wx1 "
                             f"({first[0].shape}, {first[0].dtype}), got "
                             f"{second[0].shape}, {second[0].dtype}")
        super().__init__()
        self.forward_lstm = TimeLSTM(Wx1, Wh1, b1, stateful)
        self.backward_lstm = TimeLSTM(Wx2, Wh2, b2, stateful)
        self.params = self.forward_lstm.params + self.backward_lstm.params
        self.grads = self.forward_lstm.grads + self.backward_lstm.grads

    def forward(self, xs: np.ndarray) -> np.ndarray:
        """Return hs (N, T, 2H) for inputs ``xs`` (N, T, D)."""
        with self._exclusive():
            # Every check of both layers first, so that a bad input leaves both as they were.
            wx = check_params(self.forward_lstm.params, 4)[0]
            check_params(self.backward_lstm.params, 4)
            xs = as_input("xs", xs, (None, None, wx.shape[0]), wx.dtype)
            d_h = wx.shape[1] // 4
            for lstm in (self.forward_lstm, self.backward_lstm):
                for name in ("h", "c"):
                    lstm._initial(name, xs, d_h)
            out = np.empty(xs.shape[:2] + (2 * d_h,), dtype=wx.dtype)
            out[:, :, :d_h] = self.forward_lstm.forward(xs)
            out[:, :, d_h:] = self.backward_lstm.forward(xs[:, ::-1])[:, ::-1]
            return out

    def backward(self, dhs: np.ndarray) -> np.ndarray:
        """Return dxs (N, T, D) for ``dhs`` (N, T, 2H); overwrite the six grads."""
        with self._exclusive():
            lstms = (self.forward_lstm, self.backward_lstm)
            if any(lstm._tape is None for lstm in lstms):
                raise RuntimeError("TimeBiLSTM.backward() called before forward()")
            # Every check of both layers first, so that a failure leaves both as they were.
            # A param replaced in this layer's list (which the book's layer, too,
            # never reads) or in an LSTM's is named as Wx1 ... b2.
            check_sequence("params", self.params, "[Wx1, Wh1, b1, Wx2, Wh2, b2]")
            for k, lstm in enumerate(lstms):
                names = tuple(f"{name}{k + 1}" for name in ("Wx", "Wh", "b"))
                check_unchanged(self.params[3 * k:3 * k + 3], lstm._tape, names)
                check_backward_params(lstm, lstm._tape, names)
            hs = self.forward_lstm._tape.hs
            dhs = as_input("dhs", dhs, hs.shape[:2] + (2 * hs.shape[2],), hs.dtype)
            d_h = hs.shape[2]
            dxs = self.forward_lstm.backward(dhs[:, :, :d_h])
            dxs += self.backward_lstm.backward(dhs[:, ::-1, d_h:])[:, ::-1]
            return dxs
