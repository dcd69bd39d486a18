"""Bad input: a clear error naming the argument, and nothing changed."""

import numpy as np
import pytest

import fastrnn
from conftest import assert_arrays_unchanged, snapshot_arrays

D, H, N, T = 4, 3, 2, 5


class FakeCupyArray:
    """Stands in for a GPU array: has __array__ and lives in module cupy."""

    __module__ = "cupy"

    def __array__(self, dtype=None, copy=None):
        raise AssertionError("fastrnn must not convert a device array silently")


def _layer(rng, stateful=True):
    params = [(rng.standard_normal(s)).astype(np.float32) for s in ((D, H), (H, H), (H,))]
    layer = fastrnn.TimeRNN(*params, stateful=stateful)
    layer.forward(rng.standard_normal((N, T, D)).astype(np.float32))
    layer.backward(rng.standard_normal((N, T, H)).astype(np.float32))
    return layer


BAD_FORWARD = [
    (np.zeros((N, D), np.float32), ValueError, r"xs must have shape \(\?, \?, 4\), got shape \(2, 4\)"),
    (np.zeros((N, T, D + 1), np.float32), ValueError, r"xs must have shape \(\?, \?, 4\), got shape \(2, 5, 5\)"),
    (np.zeros((N, T, D), np.int64), TypeError, "xs must be a floating-point array, got dtype int64"),
    (np.zeros((N, T, D), np.complex64), TypeError, "xs must be a floating-point array, got dtype complex64"),
    (np.zeros((N, T, D), bool), TypeError, "xs must be a floating-point array, got dtype bool"),
    (np.zeros((N, T, D), object), TypeError, "xs must be a floating-point array, got dtype object"),
    ([[[0.0] * D] * T] * N, TypeError, "xs must be a numpy.ndarray, got a builtins.list"),
    (FakeCupyArray(), TypeError, "xs must be a numpy.ndarray.*fastrnn runs on the CPU"),
    (np.zeros((N + 1, T, D), np.float32), ValueError,
     r"hidden state h of shape \(2, 3\).*batch size 3; call reset_state\(\)"),
]


@pytest.mark.parametrize("xs, exc, match", BAD_FORWARD)
def test_bad_forward_input_raises_and_changes_nothing(rng, xs, exc, match):
    layer = _layer(rng)
    snap = snapshot_arrays(layer)
    with pytest.raises(exc, match=match):
        layer.forward(xs)
    assert_arrays_unchanged(layer, snap)


BAD_BACKWARD = [
    (np.zeros((N, T, H + 1), np.float32), ValueError, r"dhs must have shape \(2, 5, 3\), got shape \(2, 5, 4\)"),
    (np.zeros((N, T + 1, H), np.float32), ValueError, r"dhs must have shape \(2, 5, 3\)"),
    (np.zeros((N, T, H), np.int32), TypeError, "dhs must be a floating-point array"),
    (None, TypeError, "dhs must be a numpy.ndarray, got None"),
]


@pytest.mark.parametrize("dhs, exc, match", BAD_BACKWARD)
def test_bad_backward_input_raises_and_changes_nothing(rng, dhs, exc, match):
    layer = _layer(rng)
    snap = snapshot_arrays(layer)
    with pytest.raises(exc, match=match):
        layer.backward(dhs)
    assert_arrays_unchanged(layer, snap)
    layer.backward(np.ones((N, T, H), np.float32))  # the forward cache survived


def test_backward_before_forward(rng):
    layer = fastrnn.TimeRNN(*_layer(rng).params)
    with pytest.raises(RuntimeError, match=r"TimeRNN.backward\(\) called before forward\(\)"):
        layer.backward(np.zeros((N, T, H), np.float32))
    assert layer.dh is None and not any(g.any() for g in layer.grads)
    step = fastrnn.RNN(*layer.params)
    with pytest.raises(RuntimeError, match=r"RNN.backward\(\) called before forward\(\)"):
        step.backward(np.zeros((N, H), np.float32))


BAD_PARAMS = [
    ((np.zeros((D, H)), np.zeros((H, H + 1)), np.zeros(H)), ValueError,
     r"Wh must be square \(H, H\) = \(3, 3\) to match Wx of shape \(4, 3\), got shape \(3, 4\)"),
    ((np.zeros((D, H)), np.zeros((H, H)), np.zeros(H + 1)), ValueError,
     r"b must have shape \(H,\) = \(3,\)"),
    ((np.zeros(D), np.zeros((H, H)), np.zeros(H)), ValueError, r"Wx must be 2-D \(D, H\)"),
    ((np.zeros((0, H)), np.zeros((H, H)), np.zeros(H)), ValueError, r"D, H >= 1"),
    ((np.zeros((D, H), np.float32), np.zeros((H, H)), np.zeros(H)), TypeError,
     r"Wh must have the dtype of Wx \(float32\), got float64"),
    ((np.zeros((D, H), np.int64), np.zeros((H, H), np.int64), np.zeros(H, np.int64)), TypeError,
     "Wx must have dtype float32 or float64, got int64"),
    ((np.zeros((D, H), np.float16),) * 3, TypeError, "Wx must have dtype float32 or float64"),
    (([[0.0] * H] * D, np.zeros((H, H)), np.zeros(H)), TypeError, "Wx must be a numpy.ndarray"),
]


@pytest.mark.parametrize("params, exc, match", BAD_PARAMS)
@pytest.mark.parametrize("cls", [fastrnn.TimeRNN, fastrnn.RNN])
def test_bad_params_are_rejected_by_the_constructor(params, exc, match, cls):
    with pytest.raises(exc, match=match):
        cls(*params)


def test_params_replaced_with_a_bad_array_are_caught_before_any_kernel(rng):
    layer = _layer(rng)
    snap = snapshot_arrays(layer)
    good = layer.params[1]
    layer.params[1] = np.zeros((H, H + 2), np.float32)
    with pytest.raises(ValueError, match="Wh must be square"):
        layer.forward(np.zeros((N, T, D), np.float32))
    with pytest.raises(ValueError, match=r"params changed since forward: Wh now has shape "
                                         r"\(3, 5\), forward ran with \(3, 3\)"):
        layer.backward(np.zeros((N, T, H), np.float32))
    layer.params[1] = good
    assert_arrays_unchanged(layer, snap)


def test_grads_replaced_with_a_bad_array_are_caught(rng):
    layer = _layer(rng)
    layer.grads[2] = np.zeros(H + 1, np.float32)
    with pytest.raises(ValueError, match=r"grads \(db\) must stay a writable C-contiguous"):
        layer.backward(np.zeros((N, T, H), np.float32))


@pytest.mark.parametrize("h, exc, match", [
    (np.zeros((N, H + 1), np.float32), ValueError, r"h must have shape \(\?, 3\), got shape \(2, 4\)"),
    (np.zeros(H, np.float32), ValueError, r"h must have shape \(\?, 3\), got shape \(3,\)"),
    (np.zeros((N, H), np.int8), TypeError, "h must be a floating-point array"),
])
def test_bad_set_state_changes_nothing(rng, h, exc, match):
    layer = _layer(rng)
    snap = snapshot_arrays(layer)
    with pytest.raises(exc, match=match):
        layer.set_state(h)
    assert_arrays_unchanged(layer, snap)


def test_bad_rnn_step_inputs(rng):
    params = [(rng.standard_normal(s)).astype(np.float64) for s in ((D, H), (H, H), (H,))]
    step = fastrnn.RNN(*params)
    with pytest.raises(ValueError, match=r"h_prev must have shape \(2, 3\), got shape \(3, 3\)"):
        step.forward(np.zeros((N, D)), np.zeros((N + 1, H)))
    with pytest.raises(ValueError, match=r"x must have shape \(\?, 4\)"):
        step.forward(np.zeros((N, D + 1)), np.zeros((N, H)))
    assert step.cache is None
    step.forward(np.zeros((N, D)), np.zeros((N, H)))
    with pytest.raises(ValueError, match=r"dh_next must have shape \(2, 3\)"):
        step.backward(np.zeros((N + 1, H)))
