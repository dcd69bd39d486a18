"""Chapter 8's attention layers, ``AttentionWeight``, ``WeightSum``,
``Attention`` and ``TimeAttention``, with the book's interfaces, on fused
Numba kernels (``fastrnn_kernels.attention``).

For encoder states hs (N, T, H), a decoder state h (N, H) and batch row n:

    AttentionWeight   s[n, t] = hs[n, t] . h[n]            a[n] = softmax over t of s[n]
    WeightSum         c[n]    = sum_t a[n, t] hs[n, t]
    Attention         c = WeightSum(hs, AttentionWeight(hs, h))
    TimeAttention     out[:, t] = Attention(hs_enc, hs_dec[:, t]) for every decoder step t

and their gradients, with ds = a * (da - sum_t a * da) the softmax's:

    AttentionWeight   dhs[n, t] = ds[n, t] h[n]            dh[n] = sum_t ds[n, t] hs[n, t]
    WeightSum         dhs[n, t] = a[n, t] dc[n]            da[n, t] = dc[n] . hs[n, t]
    Attention         dhs = the sum of both paths' dhs;    dh as AttentionWeight's
    TimeAttention     dhs_enc = the sum over all decoder steps; dhs_dec[:, t] = that step's dh

None has parameters: ``params`` and ``grads`` are empty lists. The softmax
subtracts each row's maximum first, so large scores do not overflow.

Dtypes: the first array of a forward (``hs``, or ``hs_enc`` for
``TimeAttention``) must be float32 or float64 and sets the dtype of every
output; the other inputs, and the gradient given to ``backward``, may be of
any float dtype and are cast to it. Non-contiguous inputs are fine (copied
C-contiguous). Results equal the numpy reference (``fastrnn.reference.attention``)
within the tolerance of docs/api.md, not bitwise.

Errors: every check runs before anything is computed or stored, and names
the argument and the shapes; a refused call leaves the layer as it was. A
``backward`` before any ``forward`` raises ``RuntimeError``.

What the book's layers keep and these do not: the per-step ``Attention``
objects of ``TimeAttention`` (its ``layers`` stays None: all decoder steps
run in one kernel; each step's weights are in ``attention_weights``), the
sub-layers of ``Attention`` (``attention_weight_layer``,
``weight_sum_layer``) and the ``cache`` and ``softmax`` of the others.
"""

from __future__ import annotations

import numpy as np

from .base import Layer
from .validate import PARAM_DTYPES, check_ndarray
from fastrnn_kernels.attention import (attention_backward, attention_forward,
                                       attention_weight_backward,
                                       attention_weight_forward, weight_sum_backward,
                                       weight_sum_forward)

__all__ = ["WeightSum", "AttentionWeight", "Attention", "TimeAttention"]


def _states(name: str, a: object, need_steps: bool) -> np.ndarray:
    """Check the array that sets the dtype: float32 or float64, 3-D (N, T, H),
    with T >= 1 where a softmax runs over T. Returns it C-contiguous."""
    a = check_ndarray(name, a)
    if a.dtype not in PARAM_DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64 (it sets the dtype "
                        f"of the outputs), got {a.dtype}")
    if a.ndim != 3:
        raise ValueError(f"{name} must be 3-D (N, T, H), got shape {a.shape}")
    if need_steps and a.shape[1] == 0:
        raise ValueError(f"{name} must have at least one time step to attend to (T >= 1), "
                         f"got shape {a.shape}")
    return np.ascontiguousarray(a)


def _like(name: str, a: object, shape: tuple, dtype: np.dtype, axes: str, reason: str,
          ref: tuple, spelled: tuple | None = None) -> np.ndarray:
    """Check a further float input against ``shape``.

    Returns it cast to ``dtype`` and C-contiguous (the very object when it
    already is). The message, built only on error, reads "{name} must have
    shape {axes} = {spelled}{reason}", with ``spelled`` the shape (None
    where any length goes, written "?") and ``reason`` formatted with ``ref``.
    """
    a = check_ndarray(name, a)
    if a.dtype.kind != "f":
        raise TypeError(f"{name} must be a floating-point array, got dtype {a.dtype}")
    if a.shape != shape:
        want = "(" + ", ".join("?" if s is None else str(s)
                               for s in (spelled or shape)) + ")"
        raise ValueError(f"{name} must have shape {axes} = {want}"
                         f"{reason.format(ref)}, got shape {a.shape}")
    return np.ascontiguousarray(a, dtype=dtype)


_MATCH_HS = " to match hs of shape {}"
_LAST_C = ", that of the last forward's c"


def _not_yet(layer: Layer) -> RuntimeError:
    return RuntimeError(f"{type(layer).__name__}.backward() called before forward()")


class _NoParams(Layer):
    """A layer without parameters (``params`` and ``grads`` are empty lists)
    that keeps what its last forward needs for its backward in ``_cache``."""

    def __init__(self) -> None:
        super().__init__()
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self._cache: tuple[np.ndarray, ...] | None = None


class AttentionWeight(_NoParams):
    """The attention weights of one decoder state over the encoder states:
    ``a[n] = softmax over t of hs[n, t] . h[n]``.

    Attributes
    ----------
    params, grads : empty lists (no parameters).
    """

    def forward(self, hs: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Return the weights a (N, T) of hs (N, T, H), T >= 1, for h (N, H)."""
        with self._exclusive():
            hs = _states("hs", hs, need_steps=True)
            n_batch, _, n_hidden = hs.shape
            h = _like("h", h, (n_batch, n_hidden), hs.dtype, "(N, H)", _MATCH_HS, hs.shape)
            a = np.empty((1, n_batch, hs.shape[1]), dtype=hs.dtype)  # (Td = 1, N, T)
            attention_weight_forward(hs, h.reshape(n_batch, 1, n_hidden), a)
            # Views: a caller reshaping its arrays in place (a.shape = ...)
            # cannot change the shapes the backward's kernel is given.
            self._cache = (hs.view(), h.view(), a)
            return a[0]

    def backward(self, da: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (dhs (N, T, H), dh (N, H)) for the gradient da (N, T) of the weights."""
        with self._exclusive():
            if self._cache is None:
                raise _not_yet(self)
            hs, h, a = self._cache
            da = _like("da", da, a.shape[1:], hs.dtype, "(N, T)",
                       ", that of the last forward's weights", ())
            dhs = np.empty_like(hs)
            dh = np.empty_like(h)
            ds = np.empty((1, a.shape[2]), dtype=hs.dtype)  # (Td = 1, T) workspace
            attention_weight_backward(hs, h.reshape(h.shape[0], 1, h.shape[1]), a,
                                      da.reshape(a.shape), ds, dhs,
                                      dh.reshape(h.shape[0], 1, h.shape[1]))
            return dhs, dh


class WeightSum(_NoParams):
    """The weighted sum of the encoder states: ``c[n] = sum_t a[n, t] hs[n, t]``.

    Attributes
    ----------
    params, grads : empty lists (no parameters).
    """

    def forward(self, hs: np.ndarray, a: np.ndarray) -> np.ndarray:
        """Return c (N, H) for hs (N, T, H) and weights a (N, T); T may be 0
        (then c is 0)."""
        with self._exclusive():
            hs = _states("hs", hs, need_steps=False)
            n_batch, n_steps, n_hidden = hs.shape
            a = _like("a", a, (n_batch, n_steps), hs.dtype, "(N, T)", _MATCH_HS, hs.shape)
            c = np.empty((n_batch, n_hidden), dtype=hs.dtype)
            a3 = a.reshape(1, n_batch, n_steps)  # (Td = 1, N, T)
            weight_sum_forward(hs, a3, c.reshape(n_batch, 1, n_hidden))
            self._cache = (hs.view(), a3.view())
            return c

    def backward(self, dc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (dhs (N, T, H), da (N, T)) for the gradient dc (N, H) of c."""
        with self._exclusive():
            if self._cache is None:
                raise _not_yet(self)
            hs, a3 = self._cache
            n_batch, n_steps, n_hidden = hs.shape
            dc = _like("dc", dc, (n_batch, n_hidden), hs.dtype, "(N, H)", _LAST_C, ())
            dhs = np.empty_like(hs)
            da = np.empty((n_batch, n_steps), dtype=hs.dtype)
            weight_sum_backward(hs, a3, dc.reshape(n_batch, 1, n_hidden), dhs,
                                da.reshape(1, n_batch, n_steps))
            return dhs, da


class _Attentions(_NoParams):
    """What ``Attention`` and ``TimeAttention`` share: the fused kernels over
    Td decoder steps (Td = 1 for ``Attention``)."""

    def _forward(self, hs_enc: np.ndarray, hs_dec: np.ndarray) -> np.ndarray:
        # hs_enc (N, Te, H) and hs_dec (N, Td, H), checked; returns out
        # (N, Td, H) and keeps the weights a (Td, N, Te).
        n_batch, n_enc, n_hidden = hs_enc.shape
        n_dec = hs_dec.shape[1]
        a = np.empty((n_dec, n_batch, n_enc), dtype=hs_enc.dtype)
        out = np.empty((n_batch, n_dec, n_hidden), dtype=hs_enc.dtype)
        attention_forward(hs_enc, hs_dec, a, out)
        self._cache = (hs_enc.view(), hs_dec.view(), a)
        return out

    def _backward(self, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # dout (N, Td, H), checked; returns (dhs_enc, dhs_dec).
        hs_enc, hs_dec, a = self._cache
        dhs_enc = np.empty_like(hs_enc)
        dhs_dec = np.empty_like(hs_dec)
        ds = np.empty((a.shape[0], a.shape[2]), dtype=a.dtype)  # (Td, Te) workspace
        attention_backward(hs_enc, hs_dec, a, dout, ds, dhs_enc, dhs_dec)
        return dhs_enc, dhs_dec


class Attention(_Attentions):
    """The context of one decoder state: ``c = WeightSum(hs, AttentionWeight(hs, h))``,
    both in one kernel.

    Attributes
    ----------
    params, grads : empty lists (no parameters).
    attention_weight : (N, T) the weights a of the last forward (None before).
    """

    def __init__(self) -> None:
        super().__init__()
        self.attention_weight: np.ndarray | None = None

    def forward(self, hs: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Return the context c (N, H) of hs (N, T, H), T >= 1, for h (N, H)."""
        with self._exclusive():
            hs = _states("hs", hs, need_steps=True)
            n_batch, _, n_hidden = hs.shape
            h = _like("h", h, (n_batch, n_hidden), hs.dtype, "(N, H)", _MATCH_HS, hs.shape)
            out = self._forward(hs, h.reshape(n_batch, 1, n_hidden))
            self.attention_weight = self._cache[2][0]
            return out.reshape(n_batch, n_hidden)

    def backward(self, dc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (dhs (N, T, H), dh (N, H)) for the gradient dc (N, H) of c;
        dhs sums the paths through the weights and through the weighted sum."""
        with self._exclusive():
            if self._cache is None:
                raise _not_yet(self)
            n_batch, _, n_hidden = self._cache[0].shape
            dc = _like("dc", dc, (n_batch, n_hidden), self._cache[0].dtype, "(N, H)",
                       _LAST_C, ())
            dhs, dh = self._backward(dc.reshape(n_batch, 1, n_hidden))
            return dhs, dh.reshape(n_batch, n_hidden)


class TimeAttention(_Attentions):
    """Attention of every decoder state over all encoder states, all
    decoder steps in one kernel: ``out[:, t] = Attention(hs_enc, hs_dec[:, t])``.

    Attributes
    ----------
    params, grads : empty lists (no parameters).
    attention_weights : list of Td arrays (N, Te), the weights of each
        decoder step in the last forward (None before); views into one
        (Td, N, Te) array, each C-contiguous (the book's
        ``visualize_attention.py`` plots them).
    layers : None. The book keeps one ``Attention`` object per decoder step
        here; fastrnn runs all steps in one kernel and keeps none.
    """

    def __init__(self) -> None:
        super().__init__()
        self.layers = None
        self.attention_weights: list[np.ndarray] | None = None

    def forward(self, hs_enc: np.ndarray, hs_dec: np.ndarray) -> np.ndarray:
        """Return out (N, Td, H) for hs_enc (N, Te, H), Te >= 1, and hs_dec
        (N, Td, H); Td may be 0. The output has the dtype of hs_enc."""
        with self._exclusive():
            hs_enc = _states("hs_enc", hs_enc, need_steps=True)
            n_batch, _, n_hidden = hs_enc.shape
            hs_dec = check_ndarray("hs_dec", hs_dec)
            n_dec = hs_dec.shape[1] if hs_dec.ndim == 3 else None  # any Td goes
            hs_dec = _like("hs_dec", hs_dec, (n_batch, n_dec, n_hidden), hs_enc.dtype,
                           "(N, Td, H)", " to match hs_enc of shape {}", hs_enc.shape,
                           spelled=(n_batch, None, n_hidden))
            out = self._forward(hs_enc, hs_dec)
            self.attention_weights = list(self._cache[2])
            return out

    def backward(self, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (dhs_enc (N, Te, H), summed over all decoder steps, and
        dhs_dec (N, Td, H)) for the gradient dout (N, Td, H) of out."""
        with self._exclusive():
            if self._cache is None:
                raise _not_yet(self)
            shape = self._cache[1].shape
            dout = _like("dout", dout, shape, self._cache[0].dtype, "(N, Td, H)",
                         ", that of the last forward's output", ())
            return self._backward(dout)
