"""What the book's models, optimizers and trainers rely on."""

import numpy as np
import pytest

import fastrnn
from fastrnn import reference
from conftest import assert_close, make_params


@pytest.mark.parametrize("cls", [fastrnn.TimeRNN, fastrnn.RNN])
def test_params_are_the_arrays_passed_in_and_grads_are_fixed(rng, cls):
    params = make_params(rng, 4, 3, np.float32)
    layer = cls(*params)
    assert all(p is q for p, q in zip(layer.params, params))
    grads = list(layer.grads)
    for g, p in zip(grads, params):
        assert g.shape == p.shape and g.dtype == p.dtype and not g.any()
    for _ in range(2):
        if cls is fastrnn.TimeRNN:
            layer.forward(rng.standard_normal((2, 3, 4)).astype(np.float32))
            layer.backward(rng.standard_normal((2, 3, 3)).astype(np.float32))
        else:
            layer.forward(rng.standard_normal((2, 4)), rng.standard_normal((2, 3)))
            layer.backward(rng.standard_normal((2, 3)))
        assert all(g is h for g, h in zip(layer.grads, grads))
        assert all(g.any() for g in grads)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("N, H", [(1, 3), (2, 3), (8, 256)],
                         ids=["one-row-loop", "numba-loop", "numpy-loop"])
def test_calls_never_write_to_params(rng, order, N, H):
    """Forward and backward only read Wx, Wh and b, whatever their memory
    order (backward uses a transposed copy of Wh as scratch: never Wh)."""
    params = [np.asarray(p, order=order) for p in make_params(rng, 5, H, np.float32)]
    before = [p.copy() for p in params]
    layer = fastrnn.TimeRNN(*params, stateful=True)
    for _ in range(2):
        layer.forward(rng.standard_normal((N, 4, 5)).astype(np.float32))
        layer.backward(rng.standard_normal((N, 4, H)).astype(np.float32))
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p, b)


def test_in_place_optimizer_updates_are_seen_by_the_next_call(rng):
    params = make_params(rng, 4, 3, np.float64)
    xs = rng.standard_normal((2, 5, 4))
    dhs = rng.standard_normal((2, 5, 3))
    layer = fastrnn.TimeRNN(*params)
    layer.forward(xs)
    layer.backward(dhs)
    for p, g in zip(layer.params, layer.grads):  # the book's SGD
        p -= 0.1 * g
    fresh = reference.TimeRNN(*[p.copy() for p in params])
    assert_close(layer.forward(xs), fresh.forward(xs), "hs after update")
    assert_close(layer.backward(dhs), fresh.backward(dhs), "dxs after update")


def test_trainer_changes_to_grads_do_not_leak_into_the_next_backward(rng):
    params = make_params(rng, 4, 3, np.float32)
    xs = rng.standard_normal((2, 5, 4)).astype(np.float32)
    dhs = rng.standard_normal((2, 5, 3)).astype(np.float32)
    layer = fastrnn.TimeRNN(*params)
    layer.forward(xs)
    layer.backward(dhs)
    expected = [g.copy() for g in layer.grads]
    layer.grads[0] *= 0.5  # gradient clipping
    layer.grads[1] += 1.0  # tied weights
    layer.grads[2][...] = np.nan
    layer.backward(dhs)
    for g, e in zip(layer.grads, expected):
        np.testing.assert_array_equal(g, e)


def test_output_dtype_is_the_params_dtype_and_inputs_are_cast(rng):
    for dtype in (np.float32, np.float64):
        layer = fastrnn.TimeRNN(*make_params(rng, 4, 3, dtype), stateful=True)
        hs = layer.forward(rng.standard_normal((2, 5, 4)).astype(np.float16))
        dxs = layer.backward(rng.standard_normal((2, 5, 3)))
        assert hs.dtype == dxs.dtype == layer.h.dtype == layer.dh.dtype == dtype


def test_empty_batch_and_empty_sequence(rng):
    """N = 0 and T = 0 give empty outputs, zero grads and (for T = 0) the
    state unchanged: the loss does not depend on the params then."""
    params = make_params(rng, 4, 3, np.float64)
    layer = fastrnn.TimeRNN(*params, stateful=True)
    layer.forward(rng.standard_normal((2, 5, 4)))
    layer.backward(rng.standard_normal((2, 5, 3)))
    h = layer.h.copy()
    hs = layer.forward(np.zeros((2, 0, 4)))
    assert hs.shape == (2, 0, 3)
    np.testing.assert_array_equal(layer.h, h)
    assert layer.backward(np.zeros((2, 0, 3))).shape == (2, 0, 4)
    assert not any(g.any() for g in layer.grads)
    np.testing.assert_array_equal(layer.dh, np.zeros((2, 3)))
    layer.reset_state()
    assert layer.forward(np.zeros((0, 5, 4))).shape == (0, 5, 3)
    assert layer.backward(np.zeros((0, 5, 3))).shape == (0, 5, 4)
    assert layer.h.shape == layer.dh.shape == (0, 3)
