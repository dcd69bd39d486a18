"""Chapter 8's attention layers in pure numpy, one object per step as the
book builds them: the test oracle and benchmark baseline of
``fastrnn.layers.attention``.

For hs (N, T, H), h (N, H) and every batch row n:

    AttentionWeight   s[n, t] = hs[n, t] . h[n];   a[n] = softmax(s[n])
                      backward: ds = a * (da - sum_t a * da)
                                dhs[n, t] = ds[n, t] h[n];   dh[n] = sum_t ds[n, t] hs[n, t]
    WeightSum         c[n] = sum_t a[n, t] hs[n, t]
                      backward: dhs[n, t] = a[n, t] dc[n];   da[n, t] = dc[n] . hs[n, t]
    Attention         c = WeightSum(hs, AttentionWeight(hs, h)); dhs adds both paths
    TimeAttention     out[:, t] = Attention(hs_enc, hs_dec[:, t]) for each decoder step
                      t, each its own Attention object; dhs_enc sums over the steps

Written from these equations with numpy broadcasting, so every step forms
(N, T, H) temporaries, as the book's layers do. Arrays keep the inputs'
dtype (the book's are always float32), so float64 inputs give exact
results for gradient checks. Importable on its own::

    from fastrnn.reference.attention import TimeAttention
"""

from __future__ import annotations

import numpy as np


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, with the maximum subtracted first."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class AttentionWeight:
    """``a = softmax over T of hs[:, t] . h`` (numpy)."""

    def __init__(self) -> None:
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self.cache = None

    def forward(self, hs: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Return a (N, T) for hs (N, T, H) and h (N, H)."""
        scores = (hs * h[:, np.newaxis, :]).sum(axis=2)  # (N, T)
        a = softmax(scores)
        self.cache = (hs, h, a)
        return a

    def backward(self, da: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (dhs, dh) for da (N, T)."""
        hs, h, a = self.cache
        ds = a * (da - (a * da).sum(axis=1, keepdims=True))  # (N, T)
        dhs = ds[:, :, np.newaxis] * h[:, np.newaxis, :]  # (N, T, H)
        dh = (ds[:, :, np.newaxis] * hs).sum(axis=1)  # (N, H)
        return dhs, dh


class WeightSum:
    """``c = sum over T of a[:, t] * hs[:, t]`` (numpy)."""

    def __init__(self) -> None:
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self.cache = None

    def forward(self, hs: np.ndarray, a: np.ndarray) -> np.ndarray:
        """Return c (N, H) for hs (N, T, H) and a (N, T)."""
        c = (hs * a[:, :, np.newaxis]).sum(axis=1)
        self.cache = (hs, a)
        return c

    def backward(self, dc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (dhs, da) for dc (N, H)."""
        hs, a = self.cache
        dhs = a[:, :, np.newaxis] * dc[:, np.newaxis, :]  # (N, T, H)
        da = (hs * dc[:, np.newaxis, :]).sum(axis=2)  # (N, T)
        return dhs, da


class Attention:
    """``WeightSum(hs, AttentionWeight(hs, h))`` (numpy); keeps
    ``attention_weight``, the a of the last forward."""

    def __init__(self) -> None:
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self.attention_weight_layer = AttentionWeight()
        self.weight_sum_layer = WeightSum()
        self.attention_weight = None

    def forward(self, hs: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Return the context c (N, H)."""
        a = self.attention_weight_layer.forward(hs, h)
        self.attention_weight = a
        return self.weight_sum_layer.forward(hs, a)

    def backward(self, dc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (dhs, dh); dhs is the sum of the gradients through a and
        through the weighted sum."""
        dhs_sum, da = self.weight_sum_layer.backward(dc)
        dhs_weight, dh = self.attention_weight_layer.backward(da)
        return dhs_sum + dhs_weight, dh


class TimeAttention:
    """One ``Attention`` per decoder step (numpy); keeps ``layers`` and
    ``attention_weights``, one (N, Te) array per step."""

    def __init__(self) -> None:
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self.layers: list[Attention] | None = None
        self.attention_weights: list[np.ndarray] | None = None
        self._enc_shape: tuple[int, ...] | None = None

    def forward(self, hs_enc: np.ndarray, hs_dec: np.ndarray) -> np.ndarray:
        """Return out (N, Td, H) for hs_enc (N, Te, H) and hs_dec (N, Td, H)."""
        out = np.empty(hs_dec.shape, dtype=np.result_type(hs_enc, hs_dec))
        self.layers = []
        self.attention_weights = []
        for t in range(hs_dec.shape[1]):
            layer = Attention()
            out[:, t, :] = layer.forward(hs_enc, hs_dec[:, t, :])
            self.layers.append(layer)
            self.attention_weights.append(layer.attention_weight)
        self._enc_shape = hs_enc.shape
        return out

    def backward(self, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (dhs_enc, dhs_dec) for dout (N, Td, H)."""
        dhs_enc = np.zeros(self._enc_shape, dtype=dout.dtype)
        dhs_dec = np.empty(dout.shape, dtype=dout.dtype)
        for t, layer in enumerate(self.layers):
            dhs, dh = layer.backward(dout[:, t, :])
            dhs_enc += dhs
            dhs_dec[:, t, :] = dh
        return dhs_enc, dhs_dec
