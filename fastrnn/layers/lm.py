"""``TimeEmbedding``, ``TimeAffine``, ``TimeSoftmaxWithLoss``: the book's
chapter-5 layers with the book's interfaces, on fastrnn's kernels.

Large products run on numpy's BLAS (see ``fastrnn_kernels.rnn``); the
embedding gradient and the fused softmax + cross-entropy are Numba kernels.
"""

from __future__ import annotations

import numpy as np

from ..tuning import bias_in_product
from .base import Layer
from .products import at_b
from .validate import PARAM_DTYPES, as_ids, as_input, check_grads, check_ndarray, check_param
from fastrnn_kernels.lm import (embedding_backward, softmax_cross_entropy,
                          softmax_cross_entropy_backward)

IGNORE_LABEL = -1


def _row_scales(dout: float, count: int, sums: np.ndarray, dtype: np.dtype) -> np.ndarray:
    # Row r of the loss's gradient is scales[r] * exps[r], but in the
    # target's column (see softmax_cross_entropy_backward).
    return ((float(dout) / count if count else 0.0) / sums).astype(dtype)


class TimeEmbedding(Layer):
    """Look up the word vectors of ids (N, T): ``out = W[xs]``.

    Parameters
    ----------
    W : (V, D) float32 or float64 array, one row per word.

    Attributes
    ----------
    params : [W], the array passed in.
    grads : [dW], created once and overwritten by every backward.
    """

    def __init__(self, W: np.ndarray) -> None:
        check_param("W", W, 2)
        super().__init__()
        self.params = [W]
        self.grads = [np.zeros(W.shape, dtype=W.dtype)]
        self._ids: np.ndarray | None = None

    def forward(self, xs: np.ndarray) -> np.ndarray:
        """Return the vectors (N, T, D) of the integer ids ``xs`` (N, T)."""
        with self._exclusive():
            W = check_param("W", self.params[0], 2)
            ids = as_ids("xs", xs, W.shape[0])
            out = np.take(W, ids, axis=0)
            self._ids = ids
            return out

    def backward(self, dout: np.ndarray) -> None:
        """Overwrite dW with the scatter-add of ``dout`` (N, T, D); returns None."""
        with self._exclusive():
            if self._ids is None:
                raise RuntimeError("TimeEmbedding.backward() called before forward()")
            W = check_param("W", self.params[0], 2)
            check_grads(self.grads, [W], names=("dW",))
            dout = as_input("dout", dout, self._ids.shape + (W.shape[1],), W.dtype)
            embedding_backward(self._ids.reshape(-1), dout.reshape(-1, W.shape[1]),
                               self.grads[0])
            return None


class TimeAffine(Layer):
    """``out = x @ W + b`` at every step, as one matrix product.

    Parameters
    ----------
    W : (D, M) float32 or float64 array (a transposed view, for tied
        weights, is fine: it is read afresh on every call).
    b : (M,) array of the same dtype.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        self._check(W, b)
        super().__init__()
        self.params = [W, b]
        self.grads = [np.zeros(W.shape, dtype=W.dtype), np.zeros(b.shape, dtype=b.dtype)]
        self._x: np.ndarray | None = None

    @staticmethod
    def _check(W: object, b: object) -> tuple[np.ndarray, np.ndarray]:
        W = check_param("W", W, 2)
        b = check_param("b", b, 1)
        if b.dtype != W.dtype or b.shape != (W.shape[1],):
            raise ValueError(f"b must have shape {(W.shape[1],)} and dtype {W.dtype} to "
                             f"match W, got shape {b.shape} and dtype {b.dtype}")
        return W, b

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Return ``x @ W + b`` (N, T, M) for ``x`` (N, T, D)."""
        with self._exclusive():
            W, b = self._check(*self.params)
            x = as_input("x", x, (None, None, W.shape[0]), W.dtype)
            n_batch, n_steps, d_in = x.shape
            if not bias_in_product(n_batch * n_steps, d_in):
                out = np.matmul(x.reshape(-1, d_in), W)
                out += b
                self._x = x
                return out.reshape(n_batch, n_steps, W.shape[1])
            # The bias rides in the product: [x, 1] @ [W; b]. Copying W
            # (0.1 ms at 100 x 10000) costs less than a second pass over the
            # (N*T, V) output to add b (1.3 ms in a training step there).
            # [W; b] takes W's layout, so that a transposed W (tied weights)
            # is copied as contiguously as a plain one.
            xa = np.empty((n_batch * n_steps, d_in + 1), dtype=W.dtype)
            xa[:, :d_in] = x.reshape(-1, d_in)
            xa[:, d_in] = 1
            wa = np.empty((d_in + 1, W.shape[1]), dtype=W.dtype,
                          order="F" if W.flags.f_contiguous else "C")
            wa[:d_in] = W
            wa[d_in] = b
            out = np.matmul(xa, wa)
            self._x = x
            return out.reshape(n_batch, n_steps, W.shape[1])

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dx (N, T, D); overwrite dW and db."""
        with self._exclusive():
            return self._backward(dout)

    def _checked_for_backward(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(W, x) once W, b and the grads have passed their checks."""
        if self._x is None:
            raise RuntimeError(f"TimeAffine.{name}() called before forward()")
        W, b = self._check(*self.params)
        if W.shape[0] != self._x.shape[2]:
            raise ValueError(f"W must keep {self._x.shape[2]} rows, as in the last forward, "
                             f"got shape {W.shape}")
        check_grads(self.grads, [W, b], names=("dW", "db"))
        return W, self._x

    def _backward(self, dout: np.ndarray) -> np.ndarray:
        W, x = self._checked_for_backward("backward")
        dout = as_input("dout", dout, x.shape[:2] + (W.shape[1],), W.dtype)
        dW, db = self.grads
        flat_dout = dout.reshape(-1, W.shape[1])
        flat_x = x.reshape(-1, W.shape[0])
        at_b(flat_x, flat_dout, dW)
        # db as ones @ dout: a BLAS gemv on numpy's threads, 3-4x faster
        # than a one-core column sum at vocabulary size. Its rounding
        # error grows with the number of rows, as that of the book's
        # dout.sum(axis=0) does (not bitwise equal to it).
        np.matmul(np.ones(flat_dout.shape[0], dtype=W.dtype), flat_dout, out=db)
        return np.matmul(flat_dout, W.T).reshape(x.shape)

    def backward_through(self, loss: TimeSoftmaxWithLoss, dout: float = 1) -> np.ndarray:
        """``self.backward(loss.backward(dout))`` for a loss fed by this layer,
        without forming the loss's (N, T, M) gradient.

        Row r of that gradient is ``c[r] * e[r]``, with ``e`` the loss's
        exps less the row's sum in the target's column and ``c[r] = dout /
        (count * sum)`` (see ``softmax_cross_entropy_backward``). So ``dW =
        (c * x).T @ e``, ``db = c @ e`` and ``dx = c * (e @ W.T)``, on the
        loss's exps with their R target entries changed for the call (and
        restored): one pass over the (N*T, M) values fewer, 4-8% of a
        training step at M = 10,000 (around 150,000 values the extra small
        calls cost as much; ``SimpleRnnlm`` chooses by size). With an
        ignored target (-1) it is ``backward(loss.backward(dout))`` itself.
        Returns dx (N, T, D) and overwrites dW and db, as ``backward`` does.
        """
        if not isinstance(loss, TimeSoftmaxWithLoss):
            raise TypeError(f"loss must be a fastrnn.lm.TimeSoftmaxWithLoss, got "
                            f"{type(loss).__module__}.{type(loss).__qualname__}")
        with loss._exclusive(), self._exclusive():
            W, x = self._checked_for_backward("backward_through")
            if loss._cache is None:
                raise RuntimeError("TimeAffine.backward_through() called before the "
                                   "loss's forward()")
            exps, sums, targets, count, shape = loss._cache
            if shape != x.shape[:2] + (W.shape[1],) or exps.dtype != W.dtype:
                raise ValueError(f"loss must have been fed this layer's output, of shape "
                                 f"{x.shape[:2] + (W.shape[1],)} and dtype {W.dtype}; its "
                                 f"last forward had shape {shape} and dtype {exps.dtype}")
            if (targets < 0).any():
                return self._backward(loss._backward(dout))
            dW, db = self.grads
            scales = _row_scales(dout, count, sums, exps.dtype)
            rows = np.arange(targets.shape[0])
            kept = exps[rows, targets]
            try:
                exps[rows, targets] = kept - sums  # as the backward kernel does
                flat_x = x.reshape(-1, W.shape[0])
                np.matmul((flat_x * scales[:, None]).T, exps, out=dW)
                np.matmul(scales, exps, out=db)
                dx = np.matmul(exps, W.T)
            finally:
                exps[rows, targets] = kept
            dx *= scales[:, None]
            return dx.reshape(x.shape)


class TimeSoftmaxWithLoss(Layer):
    """Softmax over the last axis and the mean cross-entropy of the targets.

    Targets equal to ``ignore_label`` (-1) do not count, as in the book.
    """

    def __init__(self) -> None:
        super().__init__()
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self.ignore_label = IGNORE_LABEL
        self._cache: tuple[np.ndarray, np.ndarray, np.ndarray, int, tuple] | None = None

    def forward(self, xs: np.ndarray, ts: np.ndarray) -> float:
        """Return the mean loss of scores ``xs`` (N, T, V) for ``ts``.

        ``ts`` holds ids (N, T), or one-hot rows (N, T, V) as the book allows.
        """
        with self._exclusive():
            xs = check_ndarray("xs", xs)
            if xs.ndim != 3 or xs.dtype not in PARAM_DTYPES:
                raise ValueError(f"xs must be 3-D (N, T, V) float32 or float64 scores, got "
                                 f"shape {xs.shape} and dtype {xs.dtype}")
            xs = np.ascontiguousarray(xs)
            ts = check_ndarray("ts", ts)
            if ts.ndim == 3:
                if ts.shape != xs.shape:
                    raise ValueError(f"one-hot ts must have the shape of xs {xs.shape}, "
                                     f"got {ts.shape}")
                ts = ts.argmax(axis=2)
            if ts.shape != xs.shape[:2]:
                raise ValueError(f"ts must have shape {xs.shape[:2]} to match xs of shape "
                                 f"{xs.shape}, got shape {ts.shape}")
            targets = as_ids("ts", ts, xs.shape[2], allow_ignore=True).reshape(-1)
            scores = xs.reshape(-1, xs.shape[2])
            exps = np.empty_like(scores)
            sums = np.empty(scores.shape[0])
            losses = np.empty(scores.shape[0])
            softmax_cross_entropy(scores, scores.max(axis=1), targets, exps, sums, losses)
            total = float(np.sum(losses))
            count = int(np.count_nonzero(targets != self.ignore_label))
            self._cache = (exps, sums, targets, count, xs.shape)
            return total / count if count else float("nan")

    def backward(self, dout: float = 1) -> np.ndarray:
        """Return the gradient (N, T, V) of ``dout`` times the loss."""
        with self._exclusive():
            return self._backward(dout)

    def _backward(self, dout: float) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError("TimeSoftmaxWithLoss.backward() called before forward()")
        exps, sums, targets, count, shape = self._cache
        dx = np.empty_like(exps)
        softmax_cross_entropy_backward(exps, sums, _row_scales(dout, count, sums, exps.dtype),
                                       targets, dx)
        return dx.reshape(shape)
