"""The book's per-step layers (``common/layers.py``) and functions
(``common/functions.py``) in plain numpy, written from their equations.

At the book's sizes these have nothing to gain from Numba; they are here so
that ``from fastrnn.time_layers import *`` gives every name the book's
chapters use. Layers with params compute in the params' dtype (float32 for
the book's models, as the book does), inputs of another dtype are cast to
it; the other layers and the functions keep the input's float dtype
(integers and bools become float64, as numpy makes them).

Why one module: eight small layers and three functions, each a few lines of
numpy, kept together as the book keeps them (``common/layers.py``,
``common/functions.py``).
"""

from __future__ import annotations

import numpy as np

from .validate import check_param, check_ratio

# The book's guard inside the log of the cross-entropy: -log(p + 1e-7).
LOG_EPS = 1e-7


def _floats(x: object) -> np.ndarray:
    """``x`` as a numpy array: float arrays as they are, anything else as float64."""
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def _labels(name: str, t: np.ndarray, n_rows: int, n_classes: int) -> np.ndarray:
    """Check class labels: ``n_rows`` integers in [0, n_classes); return them 1-D."""
    if t.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer class labels (or one-hot rows), got "
                        f"dtype {t.dtype}")
    t = t.reshape(-1)
    if t.shape[0] != n_rows:
        raise ValueError(f"{name} must hold one label per row ({n_rows}), got {t.shape[0]}")
    if t.size and (t.min() < 0 or t.max() >= n_classes):
        bad = t.min() if t.min() < 0 else t.max()
        raise ValueError(f"{name} holds label {bad}, outside [0, {n_classes})")
    return t


def _not_before_forward(layer: object, cached: object) -> None:
    if cached is None:
        raise RuntimeError(f"{type(layer).__name__}.backward() called before forward()")


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-x))``, elementwise.

    Parameters
    ----------
    x : array_like
        Any shape; float arrays keep their dtype.

    Returns
    -------
    numpy.ndarray
        Values in [0, 1]; +-inf give 1 and 0 (without an overflow warning).
    """
    x = _floats(x)
    with np.errstate(over="ignore"):  # exp(-x) = inf for very negative x: the result 0 is right
        return 1 / (1 + np.exp(-x))


def softmax(x: np.ndarray) -> np.ndarray:
    """The softmax over the last axis: ``exp(x - max) / sum(exp(x - max))``.

    Parameters
    ----------
    x : array_like
        1-D scores, or 2-D with one row of scores per sample (the book's two
        cases); higher dimensions are taken row-wise over the last axis too.
        The input is not modified.

    Returns
    -------
    numpy.ndarray
        Probabilities of ``x``'s shape and float dtype; each row sums to 1.
    """
    x = _floats(x)
    if x.ndim == 0:
        raise ValueError("softmax needs at least one axis of scores, got a 0-d array")
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def cross_entropy_error(y: np.ndarray, t: np.ndarray) -> np.floating:
    """The mean over the batch of ``-log(y[n, t_n] + 1e-7)``.

    Parameters
    ----------
    y : array_like
        Probabilities, (N, C), or (C,) for one sample.
    t : array_like
        Integer labels (N,) in [0, C), or one-hot rows of ``y``'s size
        (their argmax is the label), as the book accepts.

    Returns
    -------
    numpy.floating
        The loss, a scalar of ``y``'s dtype; NaN for an empty batch.
    """
    y = _floats(y)
    t = np.asarray(t)
    if y.ndim == 1:
        y = y.reshape(1, -1)
        t = t.reshape(1, -1)
    if y.ndim != 2:
        raise ValueError(f"y must be 1-D or 2-D (N, C) probabilities, got shape {y.shape}")
    n_rows, n_classes = y.shape
    if t.size == y.size:  # one-hot rows
        t = t.reshape(y.shape).argmax(axis=1)
    t = _labels("t", t, n_rows, n_classes)
    if n_rows == 0:
        return y.dtype.type(np.nan)
    return -np.sum(np.log(y[np.arange(n_rows), t] + LOG_EPS)) / n_rows


class MatMul:
    """``out = x @ W``, the book's bias-free fully connected layer.

    Parameters
    ----------
    W : numpy.ndarray
        (D, H) float weights.

    Attributes
    ----------
    params : list of numpy.ndarray
        ``[W]``, the array passed in.
    grads : list of numpy.ndarray
        ``[dW]``, created once and overwritten in place by every backward.
    x : numpy.ndarray or None
        The last forward's input (in W's dtype).
    """

    def __init__(self, W: np.ndarray) -> None:
        check_param("W", W, 2)
        self.params = [W]
        self.grads = [np.zeros_like(W)]
        self.x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Return ``x @ W`` for ``x`` (..., D), usually (N, D); cast to W's dtype."""
        W, = self.params
        x = np.asarray(x, dtype=W.dtype)
        self.x = x
        return x @ W

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dx = ``dout @ W.T``; overwrite dW with ``x.T @ dout``."""
        _not_before_forward(self, self.x)
        W, = self.params
        dout = np.asarray(dout, dtype=W.dtype)
        self.grads[0][...] = self.x.reshape(-1, W.shape[0]).T @ dout.reshape(-1, W.shape[1])
        return dout @ W.T


class Affine:
    """``out = x @ W + b``, the book's fully connected layer.

    Parameters
    ----------
    W : numpy.ndarray
        (D, H) float weights.
    b : numpy.ndarray
        (H,) bias of W's dtype.

    Attributes
    ----------
    params : list of numpy.ndarray
        ``[W, b]``, the arrays passed in.
    grads : list of numpy.ndarray
        ``[dW, db]``, created once and overwritten in place by every backward.
    x : numpy.ndarray or None
        The last forward's input (in W's dtype).
    """

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        check_param("W", W, 2)
        check_param("b", b, 1)
        if b.shape != (W.shape[1],) or b.dtype != W.dtype:
            raise ValueError(f"b must have shape {(W.shape[1],)} and dtype {W.dtype} to "
                             f"match W, got shape {b.shape} and dtype {b.dtype}")
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Return ``x @ W + b`` for ``x`` (..., D), usually (N, D); cast to W's dtype."""
        W, b = self.params
        x = np.asarray(x, dtype=W.dtype)
        self.x = x
        return x @ W + b

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dx = ``dout @ W.T``; overwrite dW = ``x.T @ dout`` and db =
        the sum of ``dout`` over the batch."""
        _not_before_forward(self, self.x)
        W, b = self.params
        dout = np.asarray(dout, dtype=W.dtype)
        rows = dout.reshape(-1, W.shape[1])
        self.grads[0][...] = self.x.reshape(-1, W.shape[0]).T @ rows
        self.grads[1][...] = rows.sum(axis=0)
        return dout @ W.T


class Softmax:
    """The softmax over the last axis, as a layer (no params).

    Attributes
    ----------
    params, grads : list
        Empty.
    out : numpy.ndarray or None
        The last forward's probabilities.
    """

    def __init__(self) -> None:
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Return ``softmax(x)`` (``x``'s shape and float dtype)."""
        self.out = softmax(x)
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dx = ``y * (dout - sum(y * dout))``, the sum over the last axis."""
        _not_before_forward(self, self.out)
        y = self.out
        dx = y * np.asarray(dout, dtype=y.dtype)
        dx -= y * dx.sum(axis=-1, keepdims=True)
        return dx


class SoftmaxWithLoss:
    """Softmax and the mean cross-entropy over a batch (no params).

    Attributes
    ----------
    params, grads : list
        Empty.
    y : numpy.ndarray or None
        The last forward's probabilities (N, C).
    t : numpy.ndarray or None
        Its labels (N,) (one-hot targets are kept as their argmax).
    """

    def __init__(self) -> None:
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self.y: np.ndarray | None = None
        self.t: np.ndarray | None = None

    def forward(self, x: np.ndarray, t: np.ndarray) -> np.floating:
        """Return ``cross_entropy_error(softmax(x), t)``.

        Parameters
        ----------
        x : array_like
            (N, C) scores.
        t : array_like
            (N,) integer labels in [0, C), or (N, C) one-hot rows.

        Returns
        -------
        numpy.floating
            The mean loss, of ``x``'s float dtype.
        """
        y = softmax(x)
        if y.ndim != 2:
            raise ValueError(f"x must be 2-D (N, C) scores, got shape {y.shape}")
        t = np.asarray(t)
        if t.size == y.size:  # one-hot rows
            t = t.reshape(y.shape).argmax(axis=1)
        t = _labels("t", t, *y.shape)
        self.y, self.t = y, t
        return cross_entropy_error(y, t)

    def backward(self, dout: float = 1) -> np.ndarray:
        """Return dx = ``(y - onehot(t)) * dout / N`` (N, C)."""
        _not_before_forward(self, self.y)
        n_rows = self.t.shape[0]
        dx = self.y.copy()
        dx[np.arange(n_rows), self.t] -= 1
        dx *= dout
        dx /= max(n_rows, 1)
        return dx


class Sigmoid:
    """The logistic function as a layer (no params).

    Attributes
    ----------
    params, grads : list
        Empty.
    out : numpy.ndarray or None
        The last forward's output.
    """

    def __init__(self) -> None:
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Return ``sigmoid(x)`` (``x``'s shape and float dtype)."""
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dx = ``dout * y * (1 - y)``."""
        _not_before_forward(self, self.out)
        y = self.out
        return np.asarray(dout, dtype=y.dtype) * (1 - y) * y


class SigmoidWithLoss:
    """Sigmoid and the binary cross-entropy, averaged (no params).

    The loss of scores ``x`` for 0/1 targets ``t`` (same shape) is the mean
    over all elements of ``-log(p + 1e-7)``, with ``p = sigmoid(x)`` where
    ``t`` is 1 and ``1 - sigmoid(x)`` where it is 0 (the book's, which
    takes x of shape (N,)).

    Attributes
    ----------
    params, grads : list
        Empty.
    y : numpy.ndarray or None
        The last forward's ``sigmoid(x)``.
    t : numpy.ndarray or None
        Its targets, in ``y``'s dtype.
    loss : numpy.floating or None
        The last forward's loss.
    """

    def __init__(self) -> None:
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self.loss: np.floating | None = None
        self.y: np.ndarray | None = None
        self.t: np.ndarray | None = None

    def forward(self, x: np.ndarray, t: np.ndarray) -> np.floating:
        """Return the mean binary cross-entropy of scores ``x`` for targets ``t``.

        Parameters
        ----------
        x : array_like
            Scores, usually (N,).
        t : array_like
            0/1 targets (integers, bools or floats) of ``x``'s shape.

        Returns
        -------
        numpy.floating
            The loss, of ``x``'s float dtype (NaN for an empty ``x``).
        """
        y = sigmoid(x)
        t = np.asarray(t)
        if t.shape != y.shape:
            raise ValueError(f"t must have the shape of x {y.shape}, got {t.shape}")
        if not np.isin(t, (0, 1)).all():
            raise ValueError("t must hold 0/1 targets")
        t = t.astype(y.dtype)
        p = np.where(t == 1, y, 1 - y)
        self.y, self.t = y, t
        if y.size == 0:
            self.loss = y.dtype.type(np.nan)
        else:
            self.loss = -np.sum(np.log(p + LOG_EPS)) / y.size
        return self.loss

    def backward(self, dout: float = 1) -> np.ndarray:
        """Return dx = ``(y - t) * dout / n``, n the number of elements."""
        _not_before_forward(self, self.y)
        dx = self.y - self.t
        dx *= dout
        dx /= max(self.y.size, 1)
        return dx


class Dropout:
    """The book's per-step dropout (the original, not inverted, form).

    In training each element is kept, unscaled, where ``np.random.rand(...)
    > dropout_ratio`` (numpy's global generator, drawn as the book draws it,
    so a seeded run draws the book's masks), else zeroed; at test time
    (``train_flg=False``) every element is scaled by ``1 - dropout_ratio``,
    the expected value of the training output. (``TimeDropout`` is the
    inverted form: it scales in training and is the identity at test time.)

    Parameters
    ----------
    dropout_ratio : float
        The probability of dropping an element, in [0, 1].

    Attributes
    ----------
    params, grads : list
        Empty.
    dropout_ratio : float
    mask : numpy.ndarray of bool or None
        The last training forward's mask (True: kept).
    """

    def __init__(self, dropout_ratio: float = 0.5) -> None:
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self.dropout_ratio = check_ratio("dropout_ratio", dropout_ratio, allow_one=True)
        self.mask: np.ndarray | None = None
        # The last forward's train_flg and dtype, or None before any forward.
        self._last: tuple[bool, np.dtype] | None = None

    def forward(self, x: np.ndarray, train_flg: bool = True) -> np.ndarray:
        """Return ``x * mask`` in training, ``x * (1 - dropout_ratio)`` otherwise
        (``x``'s shape and float dtype)."""
        ratio = check_ratio("dropout_ratio", self.dropout_ratio, allow_one=True)
        x = _floats(x)
        self._last = (bool(train_flg), x.dtype)
        if train_flg:
            self.mask = np.random.rand(*x.shape) > ratio
            return x * self.mask
        return x * (1.0 - ratio)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return ``dout * mask`` after a training forward, else
        ``dout * (1 - dropout_ratio)`` (the gradient of the test-time scaling;
        the book would apply the last training mask). ``dout`` is cast to the
        forward's dtype."""
        _not_before_forward(self, self._last)
        train, dtype = self._last
        dout = np.asarray(dout, dtype=dtype)
        if train:
            return dout * self.mask
        return dout * (1.0 - check_ratio("dropout_ratio", self.dropout_ratio, allow_one=True))


class Embedding:
    """The book's embedding lookup: ``out = W[idx]``.

    Parameters
    ----------
    W : numpy.ndarray
        (V, D) float weights, one row per word.

    Attributes
    ----------
    params : list of numpy.ndarray
        ``[W]``, the array passed in.
    grads : list of numpy.ndarray
        ``[dW]``, created once and overwritten in place by every backward.
    idx : numpy.ndarray or None
        The last forward's ids.
    """

    def __init__(self, W: np.ndarray) -> None:
        check_param("W", W, 2)
        self.params = [W]
        self.grads = [np.zeros_like(W)]
        self.idx: np.ndarray | None = None

    def forward(self, idx: np.ndarray) -> np.ndarray:
        """Return the rows ``W[idx]``, of shape ``idx.shape + (D,)``.

        ``idx`` holds integer word ids in [0, V), of any shape (usually (N,)).
        """
        W, = self.params
        idx = np.asarray(idx)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"idx must hold integer word ids, got dtype {idx.dtype}")
        if idx.size and (idx.min() < 0 or idx.max() >= W.shape[0]):
            bad = idx.min() if idx.min() < 0 else idx.max()
            raise ValueError(f"idx holds id {bad}, outside [0, {W.shape[0]})")
        self.idx = idx
        return W[idx]

    def backward(self, dout: np.ndarray) -> None:
        """Overwrite dW with the scatter-add of ``dout`` (``idx.shape + (D,)``)
        into the rows ``idx`` (a repeated id gets the sum); return None."""
        _not_before_forward(self, self.idx)
        dW, = self.grads
        dout = np.asarray(dout, dtype=dW.dtype)
        if dout.shape != self.idx.shape + dW.shape[1:]:
            raise ValueError(f"dout must have shape {self.idx.shape + dW.shape[1:]}, "
                             f"got {dout.shape}")
        dW[...] = 0
        np.add.at(dW, self.idx, dout)
        return None
