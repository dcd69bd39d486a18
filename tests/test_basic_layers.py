"""The book's per-step layers and functions (``fastrnn.layers.basic``), its
loop-over-steps time layers (``fastrnn.layers.time_basic``) and the
``fastrnn.time_layers`` facade that gives them with ``np``.

Each layer is checked against an independent oracle: central differences in
float64 for every backward (params and inputs), known values, and
``TimeAffine``/``TimeSoftmaxWithLoss`` for the ``Simple_`` versions.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import assert_close, numeric_grad
from fastrnn.layers.basic import (LOG_EPS, Affine, Dropout, Embedding, MatMul, Sigmoid,
                                  SigmoidWithLoss, Softmax, SoftmaxWithLoss,
                                  cross_entropy_error, sigmoid, softmax)
from fastrnn.layers.lm import TimeAffine, TimeSoftmaxWithLoss
from fastrnn.layers.time_basic import (Simple_TimeAffine, Simple_TimeSoftmaxWithLoss,
                                       TimeSigmoidWithLoss)

GRAD_TOL = dict(rtol=1e-6, atol=1e-8)
# The losses' backward is the book's (y - t) / N, the gradient of -log(p)
# without the 1e-7 the forward adds inside the log: they differ by about
# 1e-7 / p, under 1e-6 for the probabilities these tests draw (p > 0.1).
LOSS_GRAD_TOL = dict(rtol=1e-5, atol=1e-6)


def _grad_check(forward, backward, arrays, dout):
    """Compare the analytic gradients with central differences.

    ``forward()`` runs a fresh forward; ``backward(dout)`` returns the
    analytic gradients, one per array of ``arrays`` (the same order). The
    scalar differenced is ``sum(forward() * dout)``.
    """
    forward()
    analytic = backward(dout)
    for name, (array, grad) in zip(arrays, zip(arrays.values(), analytic)):
        expected = numeric_grad(lambda: float(np.sum(forward() * dout)), array)
        np.testing.assert_allclose(grad, expected, err_msg=name, **GRAD_TOL)


# --- the functions -----------------------------------------------------------------


def test_sigmoid_known_values():
    assert sigmoid(np.array(0.0)) == 0.5
    x = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
    expected = [1 / (1 + math.exp(-v)) for v in x]
    np.testing.assert_allclose(sigmoid(x), expected, rtol=1e-15)
    np.testing.assert_allclose(sigmoid(-x), 1 - sigmoid(x), rtol=0, atol=1e-15)
    # The extremes saturate without an overflow warning (warnings are errors here).
    big = np.array([-np.inf, -1000.0, 1000.0, np.inf], dtype=np.float32)
    out = sigmoid(big)
    assert out.dtype == np.float32
    assert out.tolist() == [0.0, 0.0, 1.0, 1.0]
    assert np.isnan(sigmoid(np.array([np.nan]))).all()


def test_softmax_rows_sum_to_one_and_equal_exp_over_sum(rng):
    x = rng.standard_normal((4, 6))
    kept = x.copy()
    y = softmax(x)
    np.testing.assert_array_equal(x, kept)  # the input is not modified
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(y, np.exp(x) / np.exp(x).sum(axis=1, keepdims=True),
                               rtol=1e-14)
    # 1-D: one row.
    np.testing.assert_allclose(softmax(x[1]), y[1], rtol=1e-15)
    # Shift invariance, and no overflow on large scores.
    np.testing.assert_allclose(softmax(x + 1000.0), y, rtol=1e-12)
    # float32 stays float32; higher dimensions go row-wise over the last axis.
    y32 = softmax(x.astype(np.float32))
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, y, rtol=1e-6)
    x3 = rng.standard_normal((2, 3, 5))
    np.testing.assert_allclose(softmax(x3).reshape(-1, 5), softmax(x3.reshape(-1, 5)),
                               rtol=1e-15)
    with pytest.raises(ValueError, match="0-d"):
        softmax(np.array(1.0))


def test_cross_entropy_error_known_values(rng):
    C = 5
    onehot = np.eye(C)[[0, 3, 4]]
    # A perfect prediction costs ~0 (the book's 1e-7 inside the log).
    assert abs(cross_entropy_error(onehot, np.array([0, 3, 4]))) < 1e-6
    assert abs(cross_entropy_error(onehot, onehot)) < 1e-6
    # Uniform probabilities cost log(C).
    uniform = np.full((3, C), 1 / C)
    assert cross_entropy_error(uniform, np.array([1, 2, 0])) == pytest.approx(
        -math.log(1 / C + LOG_EPS), rel=1e-14)
    # In general: the batch mean of -log(y[n, t_n] + 1e-7); one-hot = labels; 1-D = one row.
    y = softmax(rng.standard_normal((4, C)))
    t = np.array([1, 0, 4, 4])
    expected = -sum(math.log(y[n, t[n]] + 1e-7) for n in range(4)) / 4
    assert cross_entropy_error(y, t) == pytest.approx(expected, rel=1e-14)
    assert cross_entropy_error(y, np.eye(C)[t]) == pytest.approx(expected, rel=1e-14)
    assert cross_entropy_error(y[2], np.array(4)) == pytest.approx(
        -math.log(y[2, 4] + 1e-7), rel=1e-14)
    assert cross_entropy_error(y.astype(np.float32), t).dtype == np.float32
    with pytest.raises(ValueError, match="label 5"):
        cross_entropy_error(y, np.array([1, 0, 5, 4]))
    with pytest.raises(ValueError, match="label -1"):
        cross_entropy_error(y, np.array([1, 0, -1, 4]))


# --- the layers: central differences -------------------------------------------------


@pytest.mark.parametrize("x_shape", [(4, 3), (2, 3, 3)])
def test_matmul_backward_by_central_differences(rng, x_shape):
    W = rng.standard_normal((3, 5))
    x = rng.standard_normal(x_shape)
    layer = MatMul(W)
    dout = rng.standard_normal(x_shape[:-1] + (5,))
    np.testing.assert_allclose(layer.forward(x), x @ W, rtol=1e-15)

    def backward(d):
        dx = layer.backward(d)
        return [layer.grads[0], dx]

    _grad_check(lambda: layer.forward(x), backward, {"W": W, "x": x}, dout)


@pytest.mark.parametrize("x_shape", [(4, 3), (2, 3, 3)])
def test_affine_backward_by_central_differences(rng, x_shape):
    W, b = rng.standard_normal((3, 5)), rng.standard_normal(5)
    x = rng.standard_normal(x_shape)
    layer = Affine(W, b)
    dout = rng.standard_normal(x_shape[:-1] + (5,))
    np.testing.assert_allclose(layer.forward(x), x @ W + b, rtol=1e-14)

    def backward(d):
        dx = layer.backward(d)
        return [layer.grads[0], layer.grads[1], dx]

    _grad_check(lambda: layer.forward(x), backward, {"W": W, "b": b, "x": x}, dout)


def test_softmax_layer_backward_by_central_differences(rng):
    x = rng.standard_normal((3, 4))
    layer = Softmax()
    assert_close(layer.forward(x), softmax(x))
    _grad_check(lambda: layer.forward(x), lambda d: [layer.backward(d)], {"x": x},
                rng.standard_normal((3, 4)))


def test_sigmoid_layer_backward_by_central_differences(rng):
    x = rng.standard_normal((3, 4)) * 2
    layer = Sigmoid()
    assert_close(layer.forward(x), sigmoid(x))
    _grad_check(lambda: layer.forward(x), lambda d: [layer.backward(d)], {"x": x},
                rng.standard_normal((3, 4)))


def test_embedding_forward_backward_with_repeated_ids(rng):
    W = rng.standard_normal((6, 3))
    ids = np.array([[1, 4, 1], [0, 1, 4]])  # repeated ids, within and across rows
    layer = Embedding(W)
    out = layer.forward(ids)
    np.testing.assert_array_equal(out, W[ids])
    dout = rng.standard_normal((2, 3, 3))
    assert layer.backward(dout) is None
    expected = np.zeros_like(W)
    for n in range(2):
        for t in range(3):
            expected[ids[n, t]] += dout[n, t]
    np.testing.assert_allclose(layer.grads[0], expected, rtol=1e-15)
    _grad_check(lambda: layer.forward(ids), lambda d: [layer.backward(d) or layer.grads[0]],
                {"W": W}, dout)
    # The book's common case: (N,) ids.
    np.testing.assert_array_equal(layer.forward(np.array([5, 0])), W[[5, 0]])
    with pytest.raises(ValueError, match="id 6"):
        layer.forward(np.array([6]))
    with pytest.raises(ValueError, match="id -1"):
        layer.forward(np.array([-1]))
    with pytest.raises(TypeError, match="integer"):
        layer.forward(np.array([1.0]))


# --- the losses ----------------------------------------------------------------------


def _probable_scores(rng, shape):
    """Scores whose softmax (over the last axis) keeps every probability above 0.1."""
    return rng.uniform(-0.5, 0.5, shape)


@pytest.mark.parametrize("dout", [1, 2.5])
def test_softmax_with_loss_backward_is_y_minus_t_over_n(rng, dout):
    N, C = 4, 5
    x = _probable_scores(rng, (N, C))
    t = np.array([0, 4, 2, 2])
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, t)
    y = softmax(x)
    assert loss == pytest.approx(cross_entropy_error(y, t), rel=1e-15)
    dx = layer.backward(dout)
    np.testing.assert_allclose(dx, (y - np.eye(C)[t]) * dout / N, rtol=1e-14, atol=1e-16)
    numeric = numeric_grad(lambda: dout * SoftmaxWithLoss().forward(x, t), x)
    np.testing.assert_allclose(dx, numeric, **LOSS_GRAD_TOL)
    # One-hot targets: the same loss and gradient.
    again = SoftmaxWithLoss()
    assert again.forward(x, np.eye(C)[t]) == loss
    np.testing.assert_array_equal(again.backward(dout), dx)
    np.testing.assert_array_equal(again.t, t)


@pytest.mark.parametrize("dout", [1, 0.5])
def test_sigmoid_with_loss_known_values_and_central_differences(rng, dout):
    x = rng.uniform(-2, 2, 6)
    t = np.array([1, 0, 0, 1, 1, 0])
    layer = SigmoidWithLoss()
    loss = layer.forward(x, t)
    y = 1 / (1 + np.exp(-x))
    p = np.where(t == 1, y, 1 - y)
    assert loss == pytest.approx(-np.mean(np.log(p + 1e-7)), rel=1e-14)
    assert layer.loss == loss
    dx = layer.backward(dout)
    np.testing.assert_allclose(dx, (y - t) * dout / 6, rtol=1e-14)
    numeric = numeric_grad(lambda: dout * SigmoidWithLoss().forward(x, t), x)
    np.testing.assert_allclose(dx, numeric, **LOSS_GRAD_TOL)
    # Confident right answers cost ~0, a coin flip log 2.
    assert SigmoidWithLoss().forward(np.array([50.0, -50.0]), np.array([1, 0])) < 1e-6
    assert SigmoidWithLoss().forward(np.zeros(3), np.array([1, 0, 1])) == pytest.approx(
        math.log(2), rel=1e-6)
    with pytest.raises(ValueError, match="0/1"):
        SigmoidWithLoss().forward(x, t * 2)
    with pytest.raises(ValueError, match="shape"):
        SigmoidWithLoss().forward(x, t[:3])


def test_time_sigmoid_with_loss_is_the_mean_over_steps(rng):
    N, T = 3, 4
    xs = rng.uniform(-2, 2, (N, T))
    ts = rng.integers(0, 2, (N, T))
    layer = TimeSigmoidWithLoss()
    loss = layer.forward(xs, ts)
    per_step = [SigmoidWithLoss().forward(xs[:, t], ts[:, t]) for t in range(T)]
    assert loss == pytest.approx(np.mean(per_step), rel=1e-14)
    dxs = layer.backward(2.0)
    np.testing.assert_allclose(dxs, (sigmoid(xs) - ts) * 2.0 / (N * T), rtol=1e-14)
    numeric = numeric_grad(lambda: 2.0 * TimeSigmoidWithLoss().forward(xs, ts), xs)
    np.testing.assert_allclose(dxs, numeric, **LOSS_GRAD_TOL)
    assert layer.xs_shape == (N, T)
    with pytest.raises(ValueError, match="2-D"):
        layer.forward(xs[0], ts[0])


# --- Simple_ against the Time versions -------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_simple_time_affine_equals_time_affine(rng, dtype):
    N, T, D, M = 3, 4, 5, 6
    W, b = rng.standard_normal((D, M)).astype(dtype), rng.standard_normal(M).astype(dtype)
    xs = rng.standard_normal((N, T, D)).astype(dtype)
    dout = rng.standard_normal((N, T, M)).astype(dtype)
    simple, fast = Simple_TimeAffine(W, b), TimeAffine(W, b)
    assert_close(simple.forward(xs), fast.forward(xs))
    assert_close(simple.backward(dout), fast.backward(dout))
    for ours, theirs in zip(simple.grads, fast.grads):
        assert_close(ours, theirs)
    assert simple.W is W and simple.b is b
    assert simple.dW is simple.grads[0] and simple.db is simple.grads[1]


def test_simple_time_affine_backward_by_central_differences(rng):
    W, b = rng.standard_normal((3, 4)), rng.standard_normal(4)
    xs = rng.standard_normal((2, 3, 3))
    layer = Simple_TimeAffine(W, b)

    def backward(d):
        dxs = layer.backward(d)
        return [layer.grads[0], layer.grads[1], dxs]

    _grad_check(lambda: layer.forward(xs), backward, {"W": W, "b": b, "xs": xs},
                rng.standard_normal((2, 3, 4)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("onehot", [False, True])
def test_simple_time_softmax_with_loss_equals_time_softmax_with_loss(rng, dtype, onehot):
    N, T, V = 3, 4, 5
    xs = _probable_scores(rng, (N, T, V)).astype(dtype)
    ids = rng.integers(0, V, (N, T))
    ts = np.eye(V, dtype=np.int32)[ids] if onehot else ids
    simple, fast = Simple_TimeSoftmaxWithLoss(), TimeSoftmaxWithLoss()
    loss = simple.forward(xs, ts)
    assert loss.dtype == dtype
    # The same loss but for the book's 1e-7 inside the log (about 1e-7 / p).
    assert loss == pytest.approx(fast.forward(xs, ts), rel=1e-5)
    y = softmax(xs.astype(np.float64))
    picked = np.take_along_axis(y, ids[..., None], axis=2)
    rtol = 1e-6 if dtype == np.float32 else 1e-13
    assert loss == pytest.approx(-np.mean(np.log(picked + 1e-7)), rel=rtol)
    # The same gradient: (y - t) * dout / (N * T).
    assert_close(simple.backward(1.5), fast.backward(1.5))
    x64 = xs.astype(np.float64)
    numeric = numeric_grad(lambda: 1.5 * Simple_TimeSoftmaxWithLoss().forward(x64, ts), x64)
    np.testing.assert_allclose(simple.backward(1.5), numeric,
                               **(LOSS_GRAD_TOL if dtype == np.float64
                                  else dict(rtol=1e-4, atol=1e-5)))
    with pytest.raises(ValueError, match="label -1"):
        simple.forward(xs, np.where(ids == ids[0, 0], -1, ids))


# --- Dropout ------------------------------------------------------------------------


@pytest.mark.parametrize("ratio", [0.0, 0.3, 0.5, 0.9])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_draws_the_books_mask_under_one_seed(rng, ratio, dtype):
    x = rng.standard_normal((3, 4, 5)).astype(dtype)
    dout = rng.standard_normal((3, 4, 5)).astype(dtype)
    layer = Dropout(ratio)
    np.random.seed(7)
    out = layer.forward(x)
    after = np.random.rand()
    np.random.seed(7)
    mask = np.random.rand(*x.shape) > ratio
    assert after == np.random.rand()  # the generator is where the book leaves it
    np.testing.assert_array_equal(layer.mask, mask)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, x * mask)  # kept elements unscaled, as the book's
    np.testing.assert_array_equal(layer.backward(dout), dout * mask)
    # Default train_flg is True; train_flg as the book passes it, positionally.
    np.random.seed(7)
    np.testing.assert_array_equal(Dropout(ratio).forward(x, True), out)


def test_dropout_at_test_time_scales_by_the_kept_fraction(rng):
    # The book's per-step Dropout (common/layers.py) is the original, not
    # inverted, form: at test time it returns x * (1 - ratio), its training
    # output's expectation (TimeDropout is the inverted one: identity).
    x = rng.standard_normal((4, 3)).astype(np.float32)
    layer = Dropout(0.25)
    state = np.random.get_state()[1].copy()
    out = layer.forward(x, train_flg=False)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # no draws
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, x * np.float32(0.75))
    np.testing.assert_array_equal(layer.backward(x), x * np.float32(0.75))
    identity = Dropout(0.0)
    np.testing.assert_array_equal(identity.forward(x, train_flg=False), x)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"dropout_ratio must be in \[0, 1\]"):
            Dropout(bad)
    for bad in (True, "0.5"):  # the same check as TimeDropout's, but 1 is allowed
        with pytest.raises(TypeError, match=r"dropout_ratio must be a real number in \[0, 1\]"):
            Dropout(bad)


# --- the contract: grads in place, dtypes, backward before forward --------------------


def _param_layers(rng, dtype):
    """(layer, forward input, backward dout) for each layer with params."""
    W, b = rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal(4).astype(dtype)
    E = rng.standard_normal((6, 3)).astype(dtype)
    x, xs, d, ds = (rng.standard_normal(s) for s in ((2, 3), (2, 5, 3), (2, 4), (2, 5, 4)))
    ids = np.array([1, 5, 1])
    return [(MatMul(W.copy()), x, d), (Affine(W.copy(), b.copy()), x, d),
            (Simple_TimeAffine(W.copy(), b.copy()), xs, ds),
            (Embedding(E.copy()), ids, rng.standard_normal((3, 3)))]


def test_grads_are_overwritten_in_place(rng):
    for layer, x, dout in _param_layers(rng, np.float64):
        grads = list(layer.grads)
        layer.forward(x)
        layer.backward(dout)
        first = [g.copy() for g in grads]
        for g in grads:
            g[...] = np.nan  # a trainer may scale or add to them in between
        layer.forward(x)
        layer.backward(dout)
        assert all(a is b for a, b in zip(layer.grads, grads)), type(layer).__name__
        for g, f in zip(grads, first):
            np.testing.assert_array_equal(g, f, err_msg=type(layer).__name__)
        assert any(np.abs(g).sum() > 0 for g in grads)


def test_float32_in_gives_float32_out(rng):
    for layer, x, dout in _param_layers(rng, np.float32):
        # float64 inputs are cast to the params' dtype.
        out = layer.forward(x)
        dx = layer.backward(dout)
        name = type(layer).__name__
        assert out.dtype == np.float32, name
        assert dx is None or dx.dtype == np.float32, name
        assert all(g.dtype == np.float32 for g in layer.grads), name
    x32 = rng.standard_normal((3, 4)).astype(np.float32)
    t = np.array([0, 3, 1])
    for layer in (Softmax(), Sigmoid(), Dropout(0.5)):
        assert layer.forward(x32).dtype == np.float32
        assert layer.backward(np.ones((3, 4))).dtype == np.float32
    for layer, target in ((SoftmaxWithLoss(), t), (SigmoidWithLoss(), (x32 > 0).astype(int)),
                          (TimeSigmoidWithLoss(), (x32 > 0).astype(int))):
        assert layer.forward(x32, target).dtype == np.float32
        assert layer.backward().dtype == np.float32
    xs32 = rng.standard_normal((2, 3, 4)).astype(np.float32)
    loss = Simple_TimeSoftmaxWithLoss()
    assert loss.forward(xs32, np.zeros((2, 3), dtype=int)).dtype == np.float32
    assert loss.backward().dtype == np.float32
    for f in (sigmoid, softmax):
        assert f(x32).dtype == np.float32
    # The book's chapter 3 feeds integer one-hot contexts to MatMul.
    W32 = rng.standard_normal((4, 2)).astype(np.float32)
    assert MatMul(W32).forward(np.eye(4, dtype=np.int32)[[1, 2]]).dtype == np.float32


@pytest.mark.parametrize("layer", [MatMul(np.ones((2, 2))), Affine(np.ones((2, 2)), np.ones(2)),
                                   Softmax(), SoftmaxWithLoss(), Sigmoid(), SigmoidWithLoss(),
                                   Dropout(), Embedding(np.ones((2, 2))), TimeSigmoidWithLoss(),
                                   Simple_TimeAffine(np.ones((2, 2)), np.ones(2)),
                                   Simple_TimeSoftmaxWithLoss()],
                         ids=lambda layer: type(layer).__name__)
def test_backward_before_forward_raises(layer):
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((2, 2)))


def test_params_are_the_arrays_passed_and_checked():
    W, b = np.ones((3, 2), dtype=np.float32), np.zeros(2, dtype=np.float32)
    assert Affine(W, b).params[0] is W and Affine(W, b).params[1] is b
    assert MatMul(W.T).params[0].base is W  # a tied, transposed weight stays a view
    with pytest.raises(ValueError, match="b must have shape"):
        Affine(W, np.zeros(3, dtype=np.float32))
    with pytest.raises(TypeError, match="W must have dtype float32 or float64, got int64"):
        MatMul(np.ones((2, 2), dtype=int))
    with pytest.raises(ValueError, match="2-D"):
        Embedding(np.ones(3))


# --- the facade: what the book's `from common.time_layers import *` gives -------------

BOOK_NAMES = ["RNN", "TimeRNN", "LSTM", "TimeLSTM", "GRU", "TimeGRU", "TimeBiLSTM",
              "TimeDropout", "TimeSigmoidWithLoss", "Simple_TimeAffine",
              "Simple_TimeSoftmaxWithLoss", "MatMul", "Affine", "Softmax", "SoftmaxWithLoss",
              "Sigmoid", "SigmoidWithLoss", "Dropout", "Embedding", "sigmoid", "softmax",
              "cross_entropy_error", "np", "TimeEmbedding", "TimeAffine", "TimeSoftmaxWithLoss"]


def _star_import() -> dict:
    namespace: dict = {}
    exec("from fastrnn.time_layers import *", namespace)
    return namespace


@pytest.mark.parametrize("name", BOOK_NAMES)
def test_star_import_gives_every_name_the_books_chapters_use(name):
    assert name in _star_import()


def test_star_import_gives_numpy_and_the_functions():
    namespace = _star_import()
    assert namespace["np"] is np
    assert namespace["softmax"] is softmax and namespace["sigmoid"] is sigmoid
    assert namespace["cross_entropy_error"] is cross_entropy_error
    assert namespace["MatMul"] is MatMul and namespace["Simple_TimeAffine"] is Simple_TimeAffine


# A model written as the book writes its models: `np` and every layer come
# from the star import alone.
BOOK_STYLE_MODEL = """
class TinyLstmLm:
    def __init__(self, vocab_size=7, wordvec_size=4, hidden_size=5):
        V, D, H = vocab_size, wordvec_size, hidden_size
        rn = np.random.randn
        embed_W = (rn(V, D) / 100).astype('f')
        lstm_Wx = (rn(D, 4 * H) / np.sqrt(D)).astype('f')
        lstm_Wh = (rn(H, 4 * H) / np.sqrt(H)).astype('f')
        lstm_b = np.zeros(4 * H).astype('f')
        affine_W = (rn(H, V) / np.sqrt(H)).astype('f')
        affine_b = np.zeros(V).astype('f')

        self.layers = [
            EMBEDDING(embed_W),
            TimeLSTM(lstm_Wx, lstm_Wh, lstm_b, stateful=True),
            TimeDropout(0.5),
            AFFINE(affine_W, affine_b),
        ]
        self.loss_layer = LOSS()
        self.params, self.grads = [], []
        for layer in self.layers:
            self.params += layer.params
            self.grads += layer.grads

    def predict(self, xs):
        for layer in self.layers:
            xs = layer.forward(xs)
        return xs

    def forward(self, xs, ts):
        return self.loss_layer.forward(self.predict(xs), ts)

    def backward(self, dout=1):
        dout = self.loss_layer.backward(dout)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def next_word_probs(self, xs):
        return softmax(self.predict(xs)[:, -1, :])
"""


@pytest.mark.parametrize("layers", [
    dict(EMBEDDING="Embedding", AFFINE="Simple_TimeAffine", LOSS="Simple_TimeSoftmaxWithLoss"),
    dict(EMBEDDING="TimeEmbedding", AFFINE="TimeAffine", LOSS="TimeSoftmaxWithLoss"),
], ids=["simple", "rnnlm"])
def test_a_book_style_model_runs_on_the_star_import_alone(layers):
    source = BOOK_STYLE_MODEL
    for placeholder, name in layers.items():
        source = source.replace(placeholder, name)
    namespace = _star_import()
    exec(compile(source, "book_style_model.py", "exec"), namespace)
    np.random.seed(0)
    model = namespace["TinyLstmLm"]()
    xs = np.random.randint(0, 7, (2, 3))
    ts = np.random.randint(0, 7, (2, 3))
    loss = model.forward(xs, ts)
    # Tiny embeddings give near-uniform predictions: a loss of about log V.
    assert abs(loss - math.log(7)) < 0.05
    model.backward()
    assert [g.shape for g in model.grads] == [p.shape for p in model.params]
    assert all(g.dtype == np.float32 and np.isfinite(g).all() and np.abs(g).sum() > 0
               for g in model.grads)
    probs = model.next_word_probs(xs)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
