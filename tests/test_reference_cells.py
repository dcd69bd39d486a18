"""The numpy oracle of chapters 6-8 (``fastrnn.reference``) checked on its own:
float64 central-difference gradients of every LSTM/GRU/BiLSTM output, the
cell equations written out by hand, the gate order, and TimeDropout's draws.

Everything later compares fastrnn's layers with these, so they are checked
against independent sources: finite differences and hand-written formulas
(with SciPy's ``expit`` as the sigmoid), never against themselves.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from fastrnn import reference
from conftest import numeric_grad

N, T, D, H = 2, 3, 3, 2
GRAD_TOL = dict(rtol=1e-6, atol=1e-8)


def _gate_params(rng, n_blocks, d=D, h=H):
    """Random float64 (D, kH), (H, kH), (kH,) params, scaled so the gates
    stay away from saturation (where finite differences lose digits)."""
    Wx = rng.standard_normal((d, n_blocks * h)) / np.sqrt(d)
    Wh = rng.standard_normal((h, n_blocks * h)) / np.sqrt(h)
    b = 0.3 * rng.standard_normal(n_blocks * h)
    return Wx, Wh, b


def _check(analytic: dict, f, arrays: dict) -> None:
    """Each analytic gradient equals central differences of ``f``."""
    for name, arr in arrays.items():
        np.testing.assert_allclose(analytic[name], numeric_grad(f, arr), **GRAD_TOL,
                                   err_msg=name)


# --------------------------------------------------------------------------
# Gradients by central differences


def test_lstm_cell_gradients(rng):
    Wx, Wh, b = _gate_params(rng, 4)
    x, h_prev, c_prev = (rng.standard_normal((N, k)) for k in (D, H, H))
    gh, gc = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    cell = reference.LSTM(Wx, Wh, b)
    grads = cell.grads
    cell.forward(x, h_prev, c_prev)
    dx, dh_prev, dc_prev = cell.backward(gh, gc)
    assert all(g is h for g, h in zip(cell.grads, grads)), "grads are rebound"

    def loss():
        h, c = reference.LSTM(Wx, Wh, b).forward(x, h_prev, c_prev)
        return float(np.sum(h * gh) + np.sum(c * gc))

    _check({"Wx": cell.grads[0], "Wh": cell.grads[1], "b": cell.grads[2],
            "x": dx, "h_prev": dh_prev, "c_prev": dc_prev},
           loss, {"Wx": Wx, "Wh": Wh, "b": b, "x": x, "h_prev": h_prev, "c_prev": c_prev})


def _block_loss(layer, xs, g, h0, c0=None):
    """sum(hs * g) of one stateful block started from ``set_state``."""
    if c0 is None:
        layer.set_state(h0)
    else:
        layer.set_state(h0, c0)
    return float(np.sum(layer.forward(xs) * g))


@pytest.mark.parametrize("with_c", [False, True], ids=["c-none", "c-set"])
def test_time_lstm_gradients(rng, with_c):
    """All grads, dxs and dh of a stateful block started by set_state(h) (c
    None, so zeros) or set_state(h, c)."""
    Wx, Wh, b = _gate_params(rng, 4)
    xs, g = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, H))
    h0 = 0.5 * rng.standard_normal((N, H))
    c0 = rng.standard_normal((N, H)) if with_c else None
    layer = reference.TimeLSTM(Wx, Wh, b, stateful=True)
    grads = layer.grads
    _block_loss(layer, xs, g, h0, c0)
    dxs = layer.backward(g)
    assert all(a is b for a, b in zip(layer.grads, grads)), "grads are rebound"
    probe = reference.TimeLSTM(Wx, Wh, b, stateful=True)
    _check({"Wx": layer.grads[0], "Wh": layer.grads[1], "b": layer.grads[2],
            "xs": dxs, "h0": layer.dh},
           lambda: _block_loss(probe, xs, g, h0, c0),
           {"Wx": Wx, "Wh": Wh, "b": b, "xs": xs, "h0": h0})


def test_time_lstm_stateful_blocks_continue_h_and_c(rng):
    """Stateful blocks equal one long block (h and c both carry over), a
    non-stateful layer restarts from zeros, and set_state(h) starts from that
    h and a zero c."""
    params = _gate_params(rng, 4)
    xs = rng.standard_normal((N, 3 * T, D))
    whole = reference.TimeLSTM(*params).forward(xs)
    layer = reference.TimeLSTM(*params, stateful=True)
    blocks = [layer.forward(xs[:, k * T:(k + 1) * T]) for k in range(3)]
    np.testing.assert_allclose(np.concatenate(blocks, axis=1), whole, rtol=1e-13, atol=1e-14)

    fresh = reference.TimeLSTM(*params)
    fresh.forward(xs[:, :T])
    np.testing.assert_array_equal(fresh.forward(xs[:, T:2 * T]),
                                  reference.TimeLSTM(*params).forward(xs[:, T:2 * T]))

    h0 = rng.standard_normal((N, H))
    layer.set_state(h0)
    assert layer.c is None
    expected = reference.TimeLSTM(*params, stateful=True)
    expected.set_state(h0, np.zeros((N, H)))
    np.testing.assert_array_equal(layer.forward(xs[:, :T]), expected.forward(xs[:, :T]))
    layer.reset_state()
    assert layer.h is None and layer.c is None
    np.testing.assert_array_equal(layer.forward(xs[:, :T]), whole[:, :T])


def test_gru_cell_gradients(rng):
    Wx, Wh, b = _gate_params(rng, 3)
    x, h_prev = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    g = rng.standard_normal((N, H))
    cell = reference.GRU(Wx, Wh, b)
    grads = cell.grads
    cell.forward(x, h_prev)
    dx, dh_prev = cell.backward(g)
    assert all(a is b for a, b in zip(cell.grads, grads)), "grads are rebound"
    _check({"Wx": cell.grads[0], "Wh": cell.grads[1], "b": cell.grads[2],
            "x": dx, "h_prev": dh_prev},
           lambda: float(np.sum(reference.GRU(Wx, Wh, b).forward(x, h_prev) * g)),
           {"Wx": Wx, "Wh": Wh, "b": b, "x": x, "h_prev": h_prev})


def test_time_gru_gradients(rng):
    Wx, Wh, b = _gate_params(rng, 3)
    xs, g = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, H))
    h0 = 0.5 * rng.standard_normal((N, H))
    layer = reference.TimeGRU(Wx, Wh, b, stateful=True)
    grads = layer.grads
    _block_loss(layer, xs, g, h0)
    dxs = layer.backward(g)
    assert all(a is b for a, b in zip(layer.grads, grads)), "grads are rebound"
    probe = reference.TimeGRU(Wx, Wh, b, stateful=True)
    _check({"Wx": layer.grads[0], "Wh": layer.grads[1], "b": layer.grads[2],
            "xs": dxs, "h0": layer.dh},
           lambda: _block_loss(probe, xs, g, h0),
           {"Wx": Wx, "Wh": Wh, "b": b, "xs": xs, "h0": h0})


def test_time_gru_stateful_blocks_continue_h(rng):
    params = _gate_params(rng, 3)
    xs = rng.standard_normal((N, 2 * T, D))
    whole = reference.TimeGRU(*params).forward(xs)
    layer = reference.TimeGRU(*params, stateful=True)
    blocks = [layer.forward(xs[:, :T]), layer.forward(xs[:, T:])]
    np.testing.assert_allclose(np.concatenate(blocks, axis=1), whole, rtol=1e-13, atol=1e-14)
    layer.reset_state()
    assert layer.h is None
    np.testing.assert_array_equal(layer.forward(xs[:, :T]), whole[:, :T])


def test_time_bilstm_gradients(rng):
    """The six grads, dxs, and each direction's dh (set_state on the stateful
    sub-layers); params and grads are the sub-layers' very arrays."""
    p1, p2 = _gate_params(rng, 4), _gate_params(rng, 4)
    xs, g = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, 2 * H))
    h01, h02 = 0.5 * rng.standard_normal((N, H)), 0.5 * rng.standard_normal((N, H))

    def loss(layer):
        layer.forward_lstm.set_state(h01)
        layer.backward_lstm.set_state(h02)
        return float(np.sum(layer.forward(xs) * g))

    layer = reference.TimeBiLSTM(*p1, *p2, stateful=True)
    assert all(a is b for a, b in zip(layer.params, p1 + p2))
    assert all(a is b for a, b in zip(
        layer.grads, layer.forward_lstm.grads + layer.backward_lstm.grads))
    hs = layer.forward(xs)
    assert hs.shape == (N, T, 2 * H)
    loss(layer)
    dxs = layer.backward(g)
    probe = reference.TimeBiLSTM(*p1, *p2, stateful=True)
    names = ["Wx1", "Wh1", "b1", "Wx2", "Wh2", "b2"]
    analytic = dict(zip(names, layer.grads))
    analytic.update(xs=dxs, h01=layer.forward_lstm.dh, h02=layer.backward_lstm.dh)
    _check(analytic, lambda: loss(probe),
           {**dict(zip(names, p1 + p2)), "xs": xs, "h01": h01, "h02": h02})


def test_time_bilstm_directions(rng):
    """First half: a TimeLSTM over xs; second half: a TimeLSTM over xs
    reversed in time, put back in time order."""
    p1, p2 = _gate_params(rng, 4), _gate_params(rng, 4)
    xs = rng.standard_normal((N, T, D))
    hs = reference.TimeBiLSTM(*p1, *p2).forward(xs)
    np.testing.assert_array_equal(hs[:, :, :H], reference.TimeLSTM(*p1).forward(xs))
    reversed_hs = reference.TimeLSTM(*p2).forward(np.ascontiguousarray(xs[:, ::-1]))
    np.testing.assert_array_equal(hs[:, :, H:], reversed_hs[:, ::-1])
    # The backward direction's first output (t = 0) has read all of xs: it
    # changes when the last step changes; the forward direction's does not.
    xs2 = xs.copy()
    xs2[:, -1] += 1.0
    hs2 = reference.TimeBiLSTM(*p1, *p2).forward(xs2)
    np.testing.assert_array_equal(hs2[:, 0, :H], hs[:, 0, :H])
    assert np.all(hs2[:, 0, H:] != hs[:, 0, H:])


@pytest.mark.parametrize("name, n_blocks", [("TimeLSTM", 4), ("TimeGRU", 3)])
def test_float32_params_give_float32_outputs(rng, name, n_blocks):
    params = [p.astype(np.float32) for p in _gate_params(rng, n_blocks)]
    layer = getattr(reference, name)(*params)
    hs = layer.forward(rng.standard_normal((N, T, D)).astype(np.float32))
    dxs = layer.backward(np.ones_like(hs))
    assert hs.dtype == dxs.dtype == layer.dh.dtype == np.float32
    assert all(gr.dtype == np.float32 for gr in layer.grads)


# --------------------------------------------------------------------------
# The equations, written out by hand


def test_lstm_forward_is_the_books_equations(rng):
    Wx, Wh, b = _gate_params(rng, 4, d=5, h=3)
    h = 3
    x, h_prev, c_prev = (rng.standard_normal((4, k)) for k in (5, 3, 3))

    def block(k):  # pre-activation of gate block k
        cols = slice(k * h, (k + 1) * h)
        return x @ Wx[:, cols] + h_prev @ Wh[:, cols] + b[cols]

    f, g, i, o = expit(block(0)), np.tanh(block(1)), expit(block(2)), expit(block(3))
    c_expected = f * c_prev + g * i
    h_expected = o * np.tanh(c_expected)
    h_next, c_next = reference.LSTM(Wx, Wh, b).forward(x, h_prev, c_prev)
    np.testing.assert_allclose(c_next, c_expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(h_next, h_expected, rtol=1e-13, atol=1e-15)


BIG = 40.0  # sigmoid(40) = 1 and tanh(40) = 1 in float64 (to 1e-17)


@pytest.mark.parametrize("block, c_of, h_of", [
    # Only one block's pre-activation is large, the rest are 0: that gate is
    # 1, the other sigmoid gates 0.5 and g = tanh(0) = 0 (unless it is g).
    (0, lambda c: c, lambda c: 0.5 * np.tanh(c)),                    # f = 1
    (1, lambda c: 0.5 * c + 0.5, lambda c: 0.5 * np.tanh(0.5 * c + 0.5)),  # g = 1
    (2, lambda c: 0.5 * c, lambda c: 0.5 * np.tanh(0.5 * c)),        # i = 1 (g = 0)
    (3, lambda c: 0.5 * c, lambda c: np.tanh(0.5 * c)),              # o = 1
], ids=["f", "g", "i", "o"])
def test_lstm_gate_order_is_f_g_i_o(rng, block, c_of, h_of):
    b = np.zeros(4 * H)
    b[block * H:(block + 1) * H] = BIG
    cell = reference.LSTM(np.zeros((D, 4 * H)), np.zeros((H, 4 * H)), b)
    c_prev = rng.standard_normal((N, H))
    h_next, c_next = cell.forward(rng.standard_normal((N, D)),
                                  rng.standard_normal((N, H)), c_prev)
    np.testing.assert_allclose(c_next, c_of(c_prev), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(h_next, h_of(c_prev), rtol=1e-14, atol=1e-15)


def test_gru_forward_is_the_books_equations(rng):
    Wx, Wh, b = _gate_params(rng, 3, d=5, h=3)
    x, h_prev = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    Wxz, Wxr, Wxh = np.split(Wx, 3, axis=1)
    Whz, Whr, Whh = np.split(Wh, 3, axis=1)
    bz, br, bh = np.split(b, 3)
    z = expit(x @ Wxz + h_prev @ Whz + bz)
    r = expit(x @ Wxr + h_prev @ Whr + br)
    h_hat = np.tanh(x @ Wxh + (r * h_prev) @ Whh + bh)
    expected = (1 - z) * h_prev + z * h_hat
    actual = reference.GRU(Wx, Wh, b).forward(x, h_prev)
    np.testing.assert_allclose(actual, expected, rtol=1e-13, atol=1e-15)
    # PyTorch's variant, r * (h_prev @ Whh), is a different function: the
    # check above can tell them apart.
    torch_like = (1 - z) * h_prev + z * np.tanh(x @ Wxh + r * (h_prev @ Whh) + bh)
    assert np.abs(torch_like - expected).max() > 1e-3


def test_gru_gate_order_is_z_r_h(rng):
    Wx, Wh, _ = _gate_params(rng, 3)
    x, h_prev = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    Wxh, Whh = Wx[:, 2 * H:], Wh[:, 2 * H:]

    def run(bz, br):
        b = np.concatenate([np.full(H, bz), np.full(H, br), np.zeros(H)])
        Wx2, Wh2 = Wx.copy(), Wh.copy()
        Wx2[:, :2 * H] = 0  # z and r depend on their bias only
        Wh2[:, :2 * H] = 0
        return reference.GRU(Wx2, Wh2, b).forward(x, h_prev)

    # z = 0: h_next is h_prev; z = 1: h_next is h~.
    np.testing.assert_allclose(run(-BIG, 0.0), h_prev, rtol=1e-14, atol=1e-15)
    # r = 0: h~ ignores h_prev; r = 1: h~ sees all of h_prev @ Whh.
    np.testing.assert_allclose(run(BIG, -BIG), np.tanh(x @ Wxh), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(run(BIG, BIG), np.tanh(x @ Wxh + h_prev @ Whh),
                               rtol=1e-14, atol=1e-15)


# --------------------------------------------------------------------------
# TimeDropout


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ratio", [0.0, 0.3, 0.5, 0.9])
def test_dropout_draws_the_books_mask(rng, dtype, ratio):
    xs = rng.standard_normal((N, T, 5)).astype(dtype)
    layer = reference.TimeDropout(ratio)
    assert layer.params == [] and layer.grads == [] and layer.train_flg
    np.random.seed(7)
    out = layer.forward(xs)
    np.random.seed(7)
    expected_mask = (np.random.rand(*xs.shape) > ratio) * (1 / (1 - ratio))
    np.testing.assert_allclose(layer.mask, expected_mask.astype(dtype), rtol=0, atol=0)
    assert layer.mask.dtype == out.dtype == dtype
    np.testing.assert_array_equal(out, xs * expected_mask.astype(dtype))
    dout = rng.standard_normal(xs.shape).astype(dtype)
    np.testing.assert_array_equal(layer.backward(dout), dout * expected_mask.astype(dtype))


def test_dropout_drops_about_the_ratio(rng):
    layer = reference.TimeDropout(0.3)
    np.random.seed(0)
    layer.forward(np.ones((100, 100)))
    assert abs((layer.mask == 0).mean() - 0.3) < 0.02
    assert set(np.unique(layer.mask)) == {0.0, 1 / 0.7}


def test_dropout_is_the_identity_when_not_training(rng):
    layer = reference.TimeDropout(0.5)
    layer.train_flg = False
    xs = rng.standard_normal((N, T, D))
    np.random.seed(3)
    assert layer.forward(xs) is xs
    assert np.random.rand() == np.random.RandomState(3).rand()  # nothing drawn
    assert layer.mask is None
