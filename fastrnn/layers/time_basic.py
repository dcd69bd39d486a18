"""The book's time layers that loop over its per-step layers or functions:
``TimeSigmoidWithLoss``, ``Simple_TimeAffine`` and
``Simple_TimeSoftmaxWithLoss``, in plain numpy, written from their equations.

``Simple_TimeAffine`` and ``Simple_TimeSoftmaxWithLoss`` are the book's
step-by-step versions of ``TimeAffine`` and ``TimeSoftmaxWithLoss`` and give
their results (the softmax loss with the book's ``1e-7`` inside the log, and
without ``ignore_label``). Arrays take the params' dtype, or for the losses
the scores' float dtype.
"""

from __future__ import annotations

import numpy as np

from .basic import SigmoidWithLoss, SoftmaxWithLoss, _floats, _not_before_forward
from .validate import check_param


class TimeSigmoidWithLoss:
    """Sigmoid and binary cross-entropy over (N, T) scores (no params).

    The loss is the mean over all N * T elements of ``-log(p + 1e-7)``, with
    ``p = sigmoid(x)`` where the target is 1 and ``1 - sigmoid(x)`` where it
    is 0: the mean over the steps of ``SigmoidWithLoss`` at each step.

    Attributes
    ----------
    params, grads : list
        Empty.
    xs_shape : tuple of int or None
        The last forward's (N, T).
    """

    def __init__(self) -> None:
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self.xs_shape: tuple[int, ...] | None = None
        self._loss = SigmoidWithLoss()

    def forward(self, xs: np.ndarray, ts: np.ndarray) -> np.floating:
        """Return the mean loss of scores ``xs`` (N, T) for 0/1 targets ``ts`` (N, T).

        The loss is a scalar of ``xs``'s float dtype.
        """
        xs = _floats(xs)
        if xs.ndim != 2:
            raise ValueError(f"xs must be 2-D (N, T) scores, got shape {xs.shape}")
        loss = self._loss.forward(xs, ts)
        self.xs_shape = xs.shape
        return loss

    def backward(self, dout: float = 1) -> np.ndarray:
        """Return dxs = ``(sigmoid(xs) - ts) * dout / (N * T)``, shape (N, T)."""
        _not_before_forward(self, self.xs_shape)
        return self._loss.backward(dout)


class Simple_TimeAffine:  # noqa: N801 (the book's name)
    """``out[:, t] = xs[:, t] @ W + b`` at every step, one step at a time.

    The results of ``TimeAffine``, by a loop over the steps.

    Parameters
    ----------
    W : numpy.ndarray
        (D, M) float weights.
    b : numpy.ndarray
        (M,) bias of W's dtype.

    Attributes
    ----------
    params : list of numpy.ndarray
        ``[W, b]``, the arrays passed in (also as ``W`` and ``b``, the book's
        attributes).
    grads : list of numpy.ndarray
        ``[dW, db]``, created once and overwritten in place by every backward
        (also as ``dW`` and ``db``).
    """

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        check_param("W", W, 2)
        check_param("b", b, 1)
        if b.shape != (W.shape[1],) or b.dtype != W.dtype:
            raise ValueError(f"b must have shape {(W.shape[1],)} and dtype {W.dtype} to "
                             f"match W, got shape {b.shape} and dtype {b.dtype}")
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self._xs: np.ndarray | None = None

    W = property(lambda self: self.params[0], doc="The weights, ``params[0]``.")
    b = property(lambda self: self.params[1], doc="The bias, ``params[1]``.")
    dW = property(lambda self: self.grads[0], doc="The weights' gradient, ``grads[0]``.")
    db = property(lambda self: self.grads[1], doc="The bias's gradient, ``grads[1]``.")

    def forward(self, xs: np.ndarray) -> np.ndarray:
        """Return ``xs @ W + b`` (N, T, M) for ``xs`` (N, T, D), cast to W's dtype."""
        W, b = self.params
        xs = np.asarray(xs, dtype=W.dtype)
        if xs.ndim != 3 or xs.shape[2] != W.shape[0]:
            raise ValueError(f"xs must be (N, T, {W.shape[0]}), got shape {xs.shape}")
        n_batch, n_steps, _ = xs.shape
        out = np.empty((n_batch, n_steps, W.shape[1]), dtype=W.dtype)
        for t in range(n_steps):
            out[:, t, :] = xs[:, t, :] @ W + b
        self._xs = xs
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dxs (N, T, D); overwrite dW and db with their sums over the steps."""
        _not_before_forward(self, self._xs)
        W, b = self.params
        xs = self._xs
        dout = np.asarray(dout, dtype=W.dtype)
        if dout.shape != xs.shape[:2] + (W.shape[1],):
            raise ValueError(f"dout must have shape {xs.shape[:2] + (W.shape[1],)}, "
                             f"got {dout.shape}")
        dxs = np.empty(xs.shape, dtype=W.dtype)
        dW = np.zeros_like(W)
        db = np.zeros_like(b)
        for t in range(xs.shape[1]):
            dW += xs[:, t, :].T @ dout[:, t, :]
            db += dout[:, t, :].sum(axis=0)
            dxs[:, t, :] = dout[:, t, :] @ W.T
        self.grads[0][...] = dW
        self.grads[1][...] = db
        return dxs


class Simple_TimeSoftmaxWithLoss:  # noqa: N801 (the book's name)
    """Softmax and cross-entropy at every step, one ``SoftmaxWithLoss`` a step.

    The loss is the mean over the T steps of each step's mean over the batch
    of ``-log(y[n, t, ts[n, t]] + 1e-7)``: ``TimeSoftmaxWithLoss``'s loss but
    for the book's ``1e-7``. Every target counts (there is no
    ``ignore_label``: a -1 is refused).

    Attributes
    ----------
    params, grads : list
        Empty.
    cache : tuple or None
        ``(layers, xs)`` of the last forward: its per-step losses and scores.
    """

    def __init__(self) -> None:
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self.cache: tuple[list[SoftmaxWithLoss], np.ndarray] | None = None

    def forward(self, xs: np.ndarray, ts: np.ndarray) -> np.floating:
        """Return the mean loss of scores ``xs`` (N, T, V).

        ``ts`` holds integer targets (N, T) in [0, V), or one-hot rows
        (N, T, V). The loss is a scalar of ``xs``'s float dtype (NaN for T = 0).
        """
        xs = _floats(xs)
        ts = np.asarray(ts)
        if xs.ndim != 3:
            raise ValueError(f"xs must be 3-D (N, T, V) scores, got shape {xs.shape}")
        if ts.shape not in (xs.shape[:2], xs.shape):
            raise ValueError(f"ts must have shape {xs.shape[:2]} (ids) or {xs.shape} "
                             f"(one-hot), got {ts.shape}")
        n_steps = xs.shape[1]
        layers = [SoftmaxWithLoss() for _ in range(n_steps)]
        losses = [layer.forward(xs[:, t, :], ts[:, t]) for t, layer in enumerate(layers)]
        self.cache = (layers, xs)
        if not n_steps:
            return xs.dtype.type(np.nan)
        return sum(losses[1:], losses[0]) / n_steps

    def backward(self, dout: float = 1) -> np.ndarray:
        """Return dxs = ``(y - onehot(ts)) * dout / (N * T)``, shape (N, T, V)."""
        _not_before_forward(self, self.cache)
        layers, xs = self.cache
        dxs = np.empty(xs.shape, dtype=xs.dtype)
        step_dout = dout / max(len(layers), 1)
        for t, layer in enumerate(layers):
            dxs[:, t, :] = layer.backward(step_dout)
        return dxs
