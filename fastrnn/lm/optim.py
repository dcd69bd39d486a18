"""Optimizers, gradient clipping and shared (tied) parameters, as in the book.

``SGD`` and ``Adam`` update the params in place (``update(params, grads)``),
so layers that hold references to them see every step.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


class SGD:
    """Plain stochastic gradient descent: ``param -= lr * grad``.

    Parameters
    ----------
    lr : learning rate.
    """

    def __init__(self, lr: float = 0.01) -> None:
        self.lr = lr

    def update(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        """Update every param in place."""
        for p, g in zip(params, grads):
            p -= self.lr * g


class Adam:
    """Adam (Kingma & Ba), in the book's form.

    Parameters
    ----------
    lr, beta1, beta2 : step size and the decay rates of the two moments.
    """

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999) -> None:
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.iter = 0
        self.m: list[np.ndarray] | None = None
        self.v: list[np.ndarray] | None = None

    def update(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        """Update every param in place."""
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m += (1 - self.beta1) * (g - m)
            v += (1 - self.beta2) * (g * g - v)
            p -= lr_t * m / (np.sqrt(v) + 1e-7)


def clip_grads(grads: Sequence[np.ndarray], max_norm: float) -> float:
    """Scale all grads in place so their global L2 norm is at most ``max_norm``.

    Returns the norm before clipping.
    """
    total = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads)))
    rate = max_norm / (total + 1e-6)
    if rate < 1:
        for g in grads:
            g *= rate
    return total


class SharedParams:
    """Merge the grads of params that are the same array or its transpose.

    The book's ``remove_duplicate`` for tied weights (e.g. an affine layer
    whose W is ``embed_W.T``), with the pairs found once rather than by
    comparing values at every step.

    Parameters
    ----------
    params : the model's params, possibly with repeats.

    Attributes
    ----------
    params : the distinct params, in order of first appearance.
    """

    def __init__(self, params: Sequence[np.ndarray]) -> None:
        self._keep: list[int] = []
        self._merges: list[tuple[int, int, bool]] = []  # (into, from, transposed)
        for j, p in enumerate(params):
            for i in self._keep:
                q = params[i]
                if p is q:
                    self._merges.append((i, j, False))
                    break
                # p is q.T: same memory, laid out transposed. (Not "p.base is q":
                # an unpickled q does not own its memory, so q.T.base is q's owner.)
                if p.ndim == 2 and q.ndim == 2 and p.dtype == q.dtype and \
                        p.ctypes.data == q.ctypes.data and \
                        p.shape == q.T.shape and p.strides == q.T.strides:
                    self._merges.append((i, j, True))
                    break
            else:
                self._keep.append(j)
        self.params = [params[i] for i in self._keep]

    def grads(self, grads: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Add the repeats' grads into the kept ones (in place); return the kept."""
        for i, j, transposed in self._merges:
            grads[i] += grads[j].T if transposed else grads[j]
        return [grads[i] for i in self._keep]
