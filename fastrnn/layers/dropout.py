"""``TimeDropout``: a drop-in for the book's layer, with the same random draws."""

from __future__ import annotations

import numpy as np

from .base import Layer
from .validate import as_input, check_float_array, check_ratio
from fastrnn_kernels.dropout import dropout_forward


class TimeDropout(Layer):
    """Inverted dropout for any (N, T, D) or other float array.

    In training (``train_flg`` True), each element is kept with probability
    ``1 - dropout_ratio`` and scaled by ``1 / (1 - dropout_ratio)``, the rest
    are zeroed; otherwise the layer is the identity and returns its input
    itself. The mask comes from ``np.random.rand(*xs.shape)``, numpy's global
    generator, exactly as in the book, so a seeded run draws the same masks;
    the rest is one fused pass (``fastrnn_kernels.dropout``).

    Parameters
    ----------
    dropout_ratio : float
        The probability of zeroing an element, in [0, 1).

    Attributes
    ----------
    params, grads : [] (no parameters).
    dropout_ratio : float, checked again at every forward.
    train_flg : bool, True in training.
    mask : the last training forward's mask, ``(draws > dropout_ratio) *
        scale`` in the input's dtype and shape, or None.
    """

    def __init__(self, dropout_ratio: float = 0.5) -> None:
        super().__init__()
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self.dropout_ratio = check_ratio("dropout_ratio", dropout_ratio)
        self.mask: np.ndarray | None = None
        self.train_flg = True
        # What backward must undo: None before any forward, else whether the
        # last forward was a training one, with its shape and dtype.
        self._last: tuple[bool, tuple[int, ...], np.dtype] | None = None

    def forward(self, xs: np.ndarray) -> np.ndarray:
        """Return ``xs * mask`` (a new array, the input's dtype) in training,
        else ``xs`` itself.

        ``xs`` is a float32 or float64 array of any shape (at least 1-D);
        views and non-contiguous arrays are fine.
        """
        with self._exclusive():
            check_float_array("xs", xs)
            if not self.train_flg:
                self._last = (False, xs.shape, xs.dtype)
                return xs
            xs = np.ascontiguousarray(xs)
            ratio = check_ratio("dropout_ratio", self.dropout_ratio)
            # The book's draw, float64, from the global generator: the one
            # thing that must not change, or seeded runs diverge.
            draws = np.random.rand(*xs.shape)
            scale = xs.dtype.type(1 / (1.0 - ratio))
            out = np.empty_like(xs)
            # float64: the mask overwrites the draws in place (one array fewer).
            mask = draws if xs.dtype == draws.dtype else np.empty_like(xs)
            dropout_forward(xs.reshape(-1), draws.reshape(-1), ratio, scale,
                            out.reshape(-1), mask.reshape(-1))
            self.mask = mask
            self._last = (True, xs.shape, xs.dtype)
            return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return ``dout * mask`` after a training forward, else ``dout``
        itself (the identity's gradient; the book would apply a stale mask).

        ``dout`` must have the forward's shape; it is cast to its dtype.
        """
        with self._exclusive():
            if self._last is None:
                raise RuntimeError("TimeDropout.backward() called before forward()")
            training, shape, dtype = self._last
            checked = as_input("dout", dout, shape, dtype)
            if not training:
                return dout
            mask = as_input("mask", self.mask, shape, dtype)
            return checked * mask
