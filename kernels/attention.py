"""Chapter 8's attention over all decoder steps at once, in fused Numba loops.

For batch row n, with enc = hs_enc[n] (Te, H) and dec = hs_dec[n] (Td, H),
decoder step t and encoder step j:

    forward   s[t, j]  = dec[t] . enc[j]                           scores
              a[t]     = softmax(s[t])      (over j, max-subtracted)
              out[t]   = sum_j a[t, j] enc[j]                      context
    backward  da[t, j] = dout[t] . enc[j]                          (the weighted sum's)
              ds[t, j] = a[t, j] (da[t, j] - sum_j' a[t, j'] da[t, j'])  (the softmax's)
              denc[j]  = sum_t a[t, j] dout[t] + ds[t, j] dec[t]
              ddec[t]  = sum_j ds[t, j] enc[j]

The loops run batch row by batch row (enc stays in cache for all Td steps),
then step by step, with the innermost loop along H: no per-step objects and
no (N, Te, H) temporaries. The products with enc and dec are loops of their
own rather than BLAS calls: at the book's sizes each is (Td x H) @ (H x Te)
or so, where a call costs more than the arithmetic.

Layouts: hs_enc and dhs_enc are (N, Te, H); hs_dec, out, dout and dhs_dec
(N, Td, H); the weights a (and da) are (Td, N, Te), so that each decoder
step's weights a[t] are one C-contiguous (N, Te) block, the list that the
book's ``TimeAttention.attention_weights`` holds. The per-step layers
(``AttentionWeight``, ``WeightSum``, ``Attention``) are these loops with
Td = 1. All arrays are C-contiguous and of one float dtype, float32 or
float64, and the arithmetic stays in it; the caller checks shapes before
any call (Numba does no bounds checking); outputs and workspaces last.
"""

import numpy as np

from ._jit import inline_kernel, kernel, reduction_kernel
from .exp import exp_nonpositive

# An accumulator's start: float32 zero stays float32 in float32 loops, and
# Numba widens it to float64 in float64 ones (a literal 0.0 is float64 in
# both, and would widen float32 sums).
_ZERO32 = np.float32(0.0)


@reduction_kernel
def _dots(m, x, out):
    # out[i] = m[i] . x for m (R, H), x (H,), out (R,). ``reassoc`` (a
    # reduction kernel) lets each dot product vectorise along H; four rows
    # at a time share each load of x.
    n_rows = m.shape[0]
    n_rows4 = n_rows - n_rows % 4
    for i in range(0, n_rows4, 4):
        s0 = _ZERO32
        s1 = _ZERO32
        s2 = _ZERO32
        s3 = _ZERO32
        for k in range(m.shape[1]):
            xk = x[k]
            s0 += m[i, k] * xk
            s1 += m[i + 1, k] * xk
            s2 += m[i + 2, k] * xk
            s3 += m[i + 3, k] * xk
        out[i] = s0
        out[i + 1] = s1
        out[i + 2] = s2
        out[i + 3] = s3
    for i in range(n_rows4, n_rows):
        s = _ZERO32
        for k in range(m.shape[1]):
            s += m[i, k] * x[k]
        out[i] = s


@kernel
def _softmax(row):
    # row = softmax(row) in place, as exp(row - max) / sum. A NaN score
    # makes the whole row NaN, as in numpy (a NaN element's exp is NaN, so
    # is the sum); an inf score gives inf - inf = NaN there, as in numpy.
    m = row[0]
    for j in range(1, row.shape[0]):
        if row[j] > m:
            m = row[j]
    for j in range(row.shape[0]):
        row[j] = exp_nonpositive(row[j] - m)
    s = _ZERO32
    for j in range(row.shape[0]):
        s += row[j]
    for j in range(row.shape[0]):
        row[j] = row[j] / s


@kernel
def _softmax_backward(y, dy, dx):
    # dx = y * (dy - sum(y * dy)), the gradient of the scores from that of
    # the softmax y. dx may be dy itself: each dy[j] is read before dx[j]
    # is written.
    s = _ZERO32
    for j in range(y.shape[0]):
        s += y[j] * dy[j]
    for j in range(y.shape[0]):
        dx[j] = y[j] * (dy[j] - s)


@inline_kernel
def _weighted_rows(w, m, out):
    # out = w @ m, i.e. out[k] = sum_i w[i] m[i, k], for w (R,) of any
    # layout, m (R, H), out (H,). Each pass over out adds four rows (four
    # multiply-adds per load and store of out) and vectorises along H; the
    # first pass sets out from the R % 4 leftover rows, so that R = 11 (the
    # book's decoder length) takes three passes rather than five. Inlined:
    # the backward calls it once per encoder step, and a call per (short)
    # row made one-step backwards (N = 1, Td = 1) twice as slow.
    n_rows, n_cols = m.shape
    first = n_rows % 4
    if first == 0:
        for k in range(n_cols):
            out[k] = 0.0
    elif first == 1:
        w0 = w[0]
        for k in range(n_cols):
            out[k] = w0 * m[0, k]
    elif first == 2:
        w0, w1 = w[0], w[1]
        for k in range(n_cols):
            out[k] = w0 * m[0, k] + w1 * m[1, k]
    else:
        w0, w1, w2 = w[0], w[1], w[2]
        for k in range(n_cols):
            out[k] = (w0 * m[0, k] + w1 * m[1, k]) + w2 * m[2, k]
    for i in range(first, n_rows, 4):
        w0, w1, w2, w3 = w[i], w[i + 1], w[i + 2], w[i + 3]
        for k in range(n_cols):
            out[k] += ((w0 * m[i, k] + w1 * m[i + 1, k])
                       + (w2 * m[i + 2, k] + w3 * m[i + 3, k]))


@inline_kernel
def _weighted_rows2(w, m, v, p, out):
    # out = w @ m + v @ p for w, v (R,) of any layout, m, p (R, H), out
    # (H,), as ``_weighted_rows`` with four rows of each per pass.
    n_rows, n_cols = m.shape
    first = n_rows % 4
    if first == 0:
        for k in range(n_cols):
            out[k] = 0.0
    elif first == 1:
        w0, v0 = w[0], v[0]
        for k in range(n_cols):
            out[k] = w0 * m[0, k] + v0 * p[0, k]
    elif first == 2:
        w0, w1, v0, v1 = w[0], w[1], v[0], v[1]
        for k in range(n_cols):
            out[k] = (w0 * m[0, k] + w1 * m[1, k]) + (v0 * p[0, k] + v1 * p[1, k])
    else:
        w0, w1, w2, v0, v1, v2 = w[0], w[1], w[2], v[0], v[1], v[2]
        for k in range(n_cols):
            out[k] = (((w0 * m[0, k] + w1 * m[1, k]) + w2 * m[2, k])
                      + ((v0 * p[0, k] + v1 * p[1, k]) + v2 * p[2, k]))
    for i in range(first, n_rows, 4):
        w0, w1, w2, w3 = w[i], w[i + 1], w[i + 2], w[i + 3]
        v0, v1, v2, v3 = v[i], v[i + 1], v[i + 2], v[i + 3]
        for k in range(n_cols):
            out[k] += (((w0 * m[i, k] + w1 * m[i + 1, k])
                        + (w2 * m[i + 2, k] + w3 * m[i + 3, k]))
                       + ((v0 * p[i, k] + v1 * p[i + 1, k])
                          + (v2 * p[i + 2, k] + v3 * p[i + 3, k])))


@kernel
def attention_forward(hs_enc, hs_dec, a, out):
    """Weights and context of every decoder step.

    Parameters
    ----------
    hs_enc : (N, Te, H) with Te >= 1.
    hs_dec : (N, Td, H).
    a : (Td, N, Te) output, the attention weights.
    out : (N, Td, H) output, the contexts.
    """
    for n in range(hs_enc.shape[0]):
        enc = hs_enc[n]
        for t in range(hs_dec.shape[1]):
            w = a[t, n]
            _dots(enc, hs_dec[n, t], w)
            _softmax(w)
            _weighted_rows(w, enc, out[n, t])


@kernel
def attention_backward(hs_enc, hs_dec, a, dout, ds, dhs_enc, dhs_dec):
    """Gradients of the encoder and decoder states from those of the contexts.

    Parameters
    ----------
    hs_enc, hs_dec, a : as in (and from) ``attention_forward``.
    dout : (N, Td, H) the gradient of the contexts.
    ds : (Td, Te) workspace (a batch row's score gradients).
    dhs_enc : (N, Te, H) output, summed over all decoder steps.
    dhs_dec : (N, Td, H) output.
    """
    for n in range(hs_enc.shape[0]):
        enc = hs_enc[n]
        for t in range(hs_dec.shape[1]):
            _dots(enc, dout[n, t], ds[t])  # da
            _softmax_backward(a[t, n], ds[t], ds[t])
            _weighted_rows(ds[t], enc, dhs_dec[n, t])
        for j in range(hs_enc.shape[1]):
            _weighted_rows2(a[:, n, j], dout[n], ds[:, j], hs_dec[n], dhs_enc[n, j])


@kernel
def attention_weight_forward(hs_enc, hs_dec, a):
    """The weights alone: ``attention_forward`` without ``out``."""
    for n in range(hs_enc.shape[0]):
        enc = hs_enc[n]
        for t in range(hs_dec.shape[1]):
            w = a[t, n]
            _dots(enc, hs_dec[n, t], w)
            _softmax(w)


@kernel
def attention_weight_backward(hs_enc, hs_dec, a, da, ds, dhs_enc, dhs_dec):
    """Gradients of hs_enc and hs_dec from ``da`` (Td, N, Te), that of the
    weights; ``ds`` (Td, Te) is a workspace, the outputs are as in
    ``attention_backward``."""
    for n in range(hs_enc.shape[0]):
        enc = hs_enc[n]
        for t in range(hs_dec.shape[1]):
            _softmax_backward(a[t, n], da[t, n], ds[t])
            _weighted_rows(ds[t], enc, dhs_dec[n, t])
        for j in range(hs_enc.shape[1]):
            _weighted_rows(ds[:, j], hs_dec[n], dhs_enc[n, j])


@kernel
def weight_sum_forward(hs_enc, a, out):
    """``out[n, t] = a[t, n] @ hs_enc[n]`` for a (Td, N, Te), out (N, Td, H);
    Te may be 0 (then out is 0)."""
    for n in range(hs_enc.shape[0]):
        for t in range(out.shape[1]):
            _weighted_rows(a[t, n], hs_enc[n], out[n, t])


@kernel
def weight_sum_backward(hs_enc, a, dout, dhs_enc, da):
    """Gradients of ``weight_sum_forward``: ``dhs_enc`` (N, Te, H) and ``da``
    (Td, N, Te) from ``dout`` (N, Td, H)."""
    for n in range(hs_enc.shape[0]):
        for t in range(dout.shape[1]):
            _dots(hs_enc[n], dout[n, t], da[t, n])
        for j in range(hs_enc.shape[1]):
            _weighted_rows(a[:, n, j], dout[n], dhs_enc[n, j])
