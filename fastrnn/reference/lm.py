"""The rest of the book's chapter-5 language model in pure numpy: embedding,
affine, softmax with cross-entropy loss, gradient clipping (its optimizers
are ``fastrnn.lm.optim``'s, checked against the formulas in the tests).
See ``fastrnn.reference``.
"""

from __future__ import annotations

import numpy as np


class Embedding:
    """One step of the book's embedding lookup."""

    def __init__(self, W: np.ndarray) -> None:
        self.params = [W]
        self.grads = [np.zeros_like(W)]
        self.idx = None

    def forward(self, idx: np.ndarray) -> np.ndarray:
        """Return the rows ``W[idx]``."""
        W, = self.params
        self.idx = idx
        return W[idx]

    def backward(self, dout: np.ndarray) -> None:
        """Scatter-add ``dout`` into the gradient (correct for repeated ids)."""
        dW, = self.grads
        dW[...] = 0
        np.add.at(dW, self.idx, dout)
        return None


class TimeEmbedding:
    """The book's T-step embedding: one ``Embedding`` object per step."""

    def __init__(self, W: np.ndarray) -> None:
        self.params = [W]
        self.grads = [np.zeros_like(W)]
        self.layers = None
        self.W = W

    def forward(self, xs: np.ndarray) -> np.ndarray:
        """Return the vectors (N, T, D) of the word ids ``xs`` (N, T)."""
        N, T = xs.shape
        V, D = self.W.shape
        out = np.empty((N, T, D), dtype=self.W.dtype)
        self.layers = []
        for t in range(T):
            layer = Embedding(self.W)
            out[:, t, :] = layer.forward(xs[:, t])
            self.layers.append(layer)
        return out

    def backward(self, dout: np.ndarray) -> None:
        """Overwrite the gradient with the sum over all steps."""
        N, T, D = dout.shape
        grad = 0
        for t in range(T):
            layer = self.layers[t]
            layer.backward(dout[:, t, :])
            grad += layer.grads[0]
        self.grads[0][...] = grad
        return None


class TimeAffine:
    """The book's affine layer applied at every step (one GEMM)."""

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.x = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Return ``x @ W + b`` for x (N, T, D)."""
        N, T, D = x.shape
        W, b = self.params
        rx = x.reshape(N * T, -1)
        out = np.dot(rx, W) + b
        self.x = x
        return out.reshape(N, T, -1)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dx; overwrite dW and db."""
        x = self.x
        N, T, D = x.shape
        W, b = self.params
        dout = dout.reshape(N * T, -1)
        rx = x.reshape(N * T, -1)
        db = np.sum(dout, axis=0)
        dW = np.dot(rx.T, dout)
        dx = np.dot(dout, W.T)
        dx = dx.reshape(*x.shape)
        self.grads[0][...] = dW
        self.grads[1][...] = db
        return dx


def softmax(x: np.ndarray) -> np.ndarray:
    """The book's row-wise softmax."""
    if x.ndim == 2:
        x = x - x.max(axis=1, keepdims=True)
        x = np.exp(x)
        x /= x.sum(axis=1, keepdims=True)
    elif x.ndim == 1:
        x = x - np.max(x)
        x = np.exp(x) / np.sum(np.exp(x))
    return x


class TimeSoftmaxWithLoss:
    """The book's softmax + mean cross-entropy over all steps, with
    ``ignore_label = -1`` for targets that do not count."""

    def __init__(self) -> None:
        self.params, self.grads = [], []
        self.cache = None
        self.ignore_label = -1

    def forward(self, xs: np.ndarray, ts: np.ndarray) -> float:
        """Return the mean loss of scores ``xs`` (N, T, V) for targets ``ts``."""
        N, T, V = xs.shape
        if ts.ndim == 3:  # one-hot targets
            ts = ts.argmax(axis=2)
        mask = (ts != self.ignore_label)
        xs = xs.reshape(N * T, V)
        ts = ts.reshape(N * T)
        mask = mask.reshape(N * T)
        ys = softmax(xs)
        ls = np.log(ys[np.arange(N * T), ts])
        ls *= mask
        loss = -np.sum(ls)
        loss /= mask.sum()
        self.cache = (ts, ys, mask, (N, T, V))
        return loss

    def backward(self, dout: float = 1) -> np.ndarray:
        """Return the gradient with respect to the scores."""
        ts, ys, mask, (N, T, V) = self.cache
        dx = ys
        dx[np.arange(N * T), ts] -= 1
        dx *= dout
        dx /= mask.sum()
        dx *= mask[:, np.newaxis]
        return dx.reshape((N, T, V))


def clip_grads(grads: list, max_norm: float) -> None:
    """The book's clipping: scale all grads in place to global norm <= max_norm."""
    total_norm = 0
    for grad in grads:
        total_norm += np.sum(grad ** 2)
    total_norm = np.sqrt(total_norm)
    rate = max_norm / (total_norm + 1e-6)
    if rate < 1:
        for grad in grads:
            grad *= rate
