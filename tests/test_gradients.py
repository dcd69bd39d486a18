"""float64 gradient check by central differences, and the stateful contract."""

import numpy as np
import pytest

import fastrnn
from fastrnn import reference
from conftest import assert_close, make_params, numeric_grad

N, T, D, H = 3, 6, 4, 5


def _loss(layer, xs, h0, g):
    """A scalar loss sum(hs * g) of one stateful block started from h0."""
    layer.set_state(h0)
    return float(np.sum(layer.forward(xs) * g))




def test_gradients_match_central_differences(rng):
    Wx, Wh, b = make_params(rng, D, H, np.float64)
    Wh *= 1.5  # a less contractive recurrence: gradients reach far back
    xs = rng.standard_normal((N, T, D))
    h0 = 0.5 * rng.standard_normal((N, H))
    g = rng.standard_normal((N, T, H))
    layer = fastrnn.TimeRNN(Wx, Wh, b, stateful=True)
    _loss(layer, xs, h0, g)
    dxs = layer.backward(g)
    analytic = {"Wx": layer.grads[0].copy(), "Wh": layer.grads[1].copy(),
                "b": layer.grads[2].copy(), "xs": dxs, "h0": layer.dh}
    probe = fastrnn.TimeRNN(Wx, Wh, b, stateful=True)  # reads the same arrays
    for name, arr in {"Wx": Wx, "Wh": Wh, "b": b, "xs": xs, "h0": h0}.items():
        numeric = numeric_grad(lambda: _loss(probe, xs, h0, g), arr)
        np.testing.assert_allclose(analytic[name], numeric, rtol=1e-6, atol=1e-8,
                                   err_msg=name)


def test_rnn_step_gradients_match_central_differences(rng):
    Wx, Wh, b = make_params(rng, D, H, np.float64)
    x, h_prev = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    g = rng.standard_normal((N, H))
    layer = fastrnn.RNN(Wx, Wh, b)
    layer.forward(x, h_prev)
    dx, dh_prev = layer.backward(g)
    f = lambda: float(np.sum(fastrnn.RNN(Wx, Wh, b).forward(x, h_prev) * g))
    for arr, analytic in [(Wx, layer.grads[0]), (Wh, layer.grads[1]), (b, layer.grads[2]),
                          (x, dx), (h_prev, dh_prev)]:
        np.testing.assert_allclose(analytic, numeric_grad(f, arr), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_three_stateful_blocks_equal_one_long_block(rng, dtype):
    params = make_params(rng, D, H, dtype)
    xs = rng.standard_normal((N, 3 * T, D)).astype(dtype)
    whole = fastrnn.TimeRNN(*params).forward(xs)
    layer = fastrnn.TimeRNN(*params, stateful=True)
    blocks = [layer.forward(xs[:, i * T:(i + 1) * T]) for i in range(3)]
    assert_close(np.concatenate(blocks, axis=1), whole, "hs")
    assert_close(layer.h, whole[:, -1], "h")
    ref = reference.TimeRNN(*params, stateful=True)
    ref_blocks = [ref.forward(xs[:, i * T:(i + 1) * T]) for i in range(3)]
    assert_close(np.concatenate(blocks, axis=1), np.concatenate(ref_blocks, axis=1))


def test_dh_is_the_gradient_of_the_next_blocks_initial_state(rng):
    """Truncated BPTT: the second block's dh, fed into the first block's last
    step, gives the full-sequence gradient of the first block's outputs."""
    params = make_params(rng, D, H, np.float64)
    xs = rng.standard_normal((N, 2 * T, D))
    dhs = rng.standard_normal((N, 2 * T, H))
    whole = fastrnn.TimeRNN(*params)
    whole.forward(xs)
    dxs_whole = whole.backward(dhs)
    layer = fastrnn.TimeRNN(*params, stateful=True)
    layer.forward(xs[:, :T])
    second = fastrnn.TimeRNN(*params, stateful=True)
    second.set_state(layer.h)
    second.forward(xs[:, T:])
    dxs2 = second.backward(dhs[:, T:])
    carried = dhs[:, :T].copy()
    carried[:, -1] += second.dh
    dxs1 = layer.backward(carried)
    assert_close(np.concatenate([dxs1, dxs2], axis=1), dxs_whole, "dxs")
    assert_close(layer.dh, whole.dh, "dh")


def test_set_state_with_a_strided_view_and_reset_state(rng):
    params = make_params(rng, D, H, np.float32)
    xs = rng.standard_normal((N, T, D)).astype(np.float32)
    hs_prev = rng.standard_normal((N, T, H)).astype(np.float32)
    view = hs_prev[:, -1, :]  # not contiguous, as the book's ch07 passes it
    assert not view.flags.c_contiguous
    fast = fastrnn.TimeRNN(*params, stateful=True)
    ref = reference.TimeRNN(*params, stateful=True)
    fast.set_state(view)
    ref.set_state(view.copy())
    assert_close(fast.forward(xs), ref.forward(xs))
    hs_prev[:] = 0  # the layer kept a copy: later writes to the view do not leak
    assert_close(fast.forward(xs), ref.forward(xs))
    fast.reset_state()
    assert fast.h is None
    assert_close(fast.forward(xs), fastrnn.TimeRNN(*params).forward(xs), "after reset")


def test_not_stateful_starts_from_zeros_every_time(rng):
    params = make_params(rng, D, H, np.float64)
    xs = rng.standard_normal((N, T, D))
    layer = fastrnn.TimeRNN(*params)
    first = layer.forward(xs)
    layer.set_state(np.ones((N, H)))  # ignored without stateful, as in the book
    assert_close(layer.forward(xs), first)
