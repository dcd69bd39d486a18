"""Kernels of the language-model layers: embedding gradient and softmax loss.

As everywhere in fastrnn, the caller checks shapes, dtypes and id ranges
before any kernel runs (Numba does no bounds checking).
"""

import numpy as np

from ._jit import kernel, reduction_kernel
from .exp import exp_nonpositive


@kernel
def embedding_backward(ids, dout, dw):
    """``dw = 0; dw[ids[r]] += dout[r]`` for every row r, repeated ids included.

    Parameters
    ----------
    ids : (R,) int64 word ids, each in [0, V).
    dout : (R, D) gradient of the looked-up vectors.
    dw : (V, D) output, the gradient of the embedding matrix.
    """
    dw[:, :] = 0.0
    for r in range(ids.shape[0]):
        row = ids[r]
        for j in range(dout.shape[1]):
            dw[row, j] += dout[r, j]


@kernel
def _exp_shifted(x, shift, out):
    # out = exp(x - shift) for one row; a separate function, not inlined, so
    # exp keeps its precise fastmath flags inside the reducing caller.
    for j in range(x.shape[0]):
        out[j] = exp_nonpositive(x[j] - shift)


@reduction_kernel
def softmax_cross_entropy(scores, row_max, targets, exps, sums, losses):
    """Softmax of every row, as exps and their sums, and the cross-entropy
    of its target.

    The softmax is ``exps[r] / sums[r]``; the backward scales each row once,
    so the probabilities are never written out.

    Parameters
    ----------
    scores : (R, V) unnormalised log-probabilities.
    row_max : (R,) the maximum of every row of scores (numpy's max: a
        select-based max reduction does not vectorise without ``nnan``).
    targets : (R,) int64 ids in [0, V), or -1 for rows that do not count.
    exps : (R, V) output, ``exp(scores[r] - row_max[r])``.
    sums : (R,) float64 output, ``sum(exps[r])``.
    losses : (R,) float64 output, ``-log softmax(scores[r])[targets[r]]``
        (0 where the target is -1), computed as
        ``log(sum(exp(s - max))) + max - s[target]``: no log of a rounded
        (possibly underflowed) probability. The caller sums them: a running
        sum here would be reassociated (``reassoc``) across rows, and
        ``total + (log(s) + max) - s[t]`` loses ``total`` when max is huge.
    """
    for r in range(scores.shape[0]):
        m = row_max[r]
        _exp_shifted(scores[r], m, exps[r])
        s = 0.0
        for j in range(scores.shape[1]):
            s += exps[r, j]
        sums[r] = s
        t = targets[r]
        losses[r] = np.log(s) + (m - scores[r, t]) if t >= 0 else 0.0


@kernel
def softmax_cross_entropy_backward(exps, sums, scales, targets, dx):
    """``dx = scale * (softmax - onehot(targets))``, zero rows where target is -1.

    Row r is ``scales[r] * exps[r]``, but in the target's column
    ``scales[r] * (exps[r, t] - sums[r])``, in float64: where the
    probability of the target is near 1 its gradient keeps its relative
    precision, down to the rounding of the float64 sum (the book's ``p - 1``
    keeps only an absolute one, and ``c * e - scale`` cancels).

    Parameters
    ----------
    exps, sums : (R, V) and (R,) from ``softmax_cross_entropy``.
    scales : (R,) ``scale / sums``, in the dtype of exps (so that the
        product with each row runs in that dtype), where ``scale`` is the
        gradient of the loss with respect to its sum over rows.
    targets : (R,) int64 ids in [0, V), or -1.
    dx : (R, V) output.
    """
    for r in range(exps.shape[0]):
        t = targets[r]
        if t < 0:
            for j in range(exps.shape[1]):
                dx[r, j] = 0.0
        else:
            c = scales[r]
            for j in range(exps.shape[1]):
                dx[r, j] = c * exps[r, j]
            dx[r, t] = c * (exps[r, t] - sums[r])
