"""fastrnn.TimeDropout against the book's (``fastrnn.reference.TimeDropout``).

Under the same seed the two must give bitwise the same outputs, masks and
gradients, and leave numpy's global generator in the same state: fastrnn
draws exactly the book's numbers and only computes the rest faster.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import fastrnn
from fastrnn import reference

DTYPES = [np.float32, np.float64]


def assert_bitwise(actual, expected, name="array"):
    """Same shape, dtype and bits (so -0.0 differs from 0.0, NaNs compare)."""
    assert actual.shape == expected.shape, (name, actual.shape, expected.shape)
    assert actual.dtype == expected.dtype, (name, actual.dtype, expected.dtype)
    uint = np.dtype(f"u{actual.dtype.itemsize}")
    np.testing.assert_array_equal(np.ascontiguousarray(actual).view(uint),
                                  np.ascontiguousarray(expected).view(uint), err_msg=name)


def run_both(xs, ratio, seed=11, dout=None):
    """Forward (and backward with ``dout``) of both layers under one seed."""
    results = []
    for cls in (fastrnn.TimeDropout, reference.TimeDropout):
        layer = cls(ratio)
        np.random.seed(seed)
        out = layer.forward(xs)
        after = np.random.rand()  # the generator must be where the book left it
        dx = None if dout is None else layer.backward(dout)
        results.append((layer, out, after, dx))
    return results


@pytest.mark.parametrize("dtype", DTYPES)
# Python floats, as the book's models pass: with a numpy float64 ratio the
# book's float32 mask would be float64 (NEP 50), fastrnn's stays float32.
@pytest.mark.parametrize("ratio", [0.0, 0.1, 0.5, 0.9, 0.999, float(np.nextafter(1.0, 0.0))])
def test_same_outputs_masks_and_gradients_as_the_reference(rng, dtype, ratio):
    """Bitwise equal to fastrnn.reference.TimeDropout: the book's layer for
    float32, with a float64 mask for float64 inputs."""
    xs = (3 * rng.standard_normal((4, 7, 9))).astype(dtype)
    dout = rng.standard_normal(xs.shape).astype(dtype)
    (fast, out, after, dx), (ref, ref_out, ref_after, ref_dx) = run_both(xs, ratio, dout=dout)
    assert after == ref_after
    assert_bitwise(out, ref_out, "out")
    assert_bitwise(fast.mask, ref.mask, "mask")
    assert_bitwise(dx, ref_dx, "dx")
    assert out is not xs


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_inputs(rng, dtype):
    base = rng.standard_normal((6, 10, 8)).astype(dtype)
    for xs in (base[:, ::2], base.transpose(1, 0, 2), base[..., 1::3], base[:, -1, :]):
        assert not xs.flags.c_contiguous
        dout = rng.standard_normal(xs.shape + (2,)).astype(dtype)[..., 0]  # strided too
        (fast, out, _, dx), (ref, ref_out, _, ref_dx) = run_both(xs, 0.4, dout=dout)
        assert_bitwise(out, ref_out, "out")
        assert_bitwise(fast.mask, ref.mask, "mask")
        assert_bitwise(dx, ref_dx, "dx")


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_draw_equal_to_the_ratio_is_dropped(dtype):
    """The book keeps an element only where its draw is strictly above the
    ratio: with the ratio set to one of the draws, that element is dropped."""
    np.random.seed(21)
    draws = np.random.rand(50)
    ratio = float(np.sort(draws)[20])
    xs = np.ones(50, dtype=dtype)
    (fast, out, _, _), (ref, ref_out, _, _) = run_both(xs, ratio, seed=21)
    assert fast.mask[draws == ratio] == 0 and (fast.mask > 0).sum() == 29
    assert_bitwise(fast.mask, ref.mask)
    assert_bitwise(out, ref_out)


@pytest.mark.parametrize("dtype", DTYPES)
def test_special_values_propagate_as_in_the_book(dtype):
    xs = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, -1.5, 1e30, 1e-40] * 8, dtype=dtype)
    with np.errstate(invalid="ignore"):  # the book's inf * 0 warns
        (fast, out, _, _), (ref, ref_out, _, _) = run_both(xs, 0.5, seed=3)
    assert (fast.mask == 0).any() and (fast.mask != 0).any()
    assert_bitwise(out, ref_out, "out")


@pytest.mark.parametrize("shape", [(0, 5, 3), (2, 0, 3), (0,)])
def test_empty_arrays(shape):
    xs = np.empty(shape, dtype=np.float32)
    (fast, out, after, _), (ref, ref_out, ref_after, _) = run_both(xs, 0.5)
    assert after == ref_after
    assert_bitwise(out, ref_out)
    assert_bitwise(fast.mask, ref.mask)
    assert_bitwise(fast.backward(xs), xs)


def test_ratio_zero_keeps_everything_unscaled(rng):
    xs = rng.standard_normal((3, 4, 5))
    layer = fastrnn.TimeDropout(0.0)
    assert_bitwise(layer.forward(xs), xs)
    assert np.all(layer.mask == 1.0)


def test_same_sequence_of_masks_over_many_calls(rng):
    """A seeded training loop stays in step with the book's, call after call."""
    xs = rng.standard_normal((3, 5, 4)).astype(np.float32)
    outs = {}
    for cls in (fastrnn.TimeDropout, reference.TimeDropout):
        layer = cls(0.5)
        np.random.seed(5)
        outs[cls] = [layer.forward(xs) for _ in range(4)]
    for a, b in zip(*outs.values()):
        assert_bitwise(a, b)
    assert not np.array_equal(outs[fastrnn.TimeDropout][0], outs[fastrnn.TimeDropout][1])


def test_attributes_of_the_books_layer():
    layer = fastrnn.TimeDropout()
    assert layer.params == [] and layer.grads == []
    assert layer.dropout_ratio == 0.5 and layer.train_flg is True and layer.mask is None
    assert "TimeDropout" in fastrnn.__all__


@pytest.mark.parametrize("dtype", DTYPES)
def test_identity_when_not_training(rng, dtype):
    layer = fastrnn.TimeDropout(0.5)
    layer.train_flg = False
    xs = rng.standard_normal((2, 3, 4)).astype(dtype)[:, ::-1]
    np.random.seed(3)
    assert layer.forward(xs) is xs
    assert np.random.rand() == np.random.RandomState(3).rand()  # nothing drawn
    assert layer.mask is None
    dout = rng.standard_normal(xs.shape).astype(dtype)
    assert layer.backward(dout) is dout  # the identity's gradient


def test_backward_after_an_evaluation_forward_ignores_the_old_mask(rng):
    layer = fastrnn.TimeDropout(0.5)
    xs = rng.standard_normal((2, 3, 4))
    layer.forward(xs)
    mask = layer.mask
    layer.train_flg = False
    layer.forward(xs)
    assert layer.mask is mask  # kept, as in the book
    dout = np.ones_like(xs)
    assert layer.backward(dout) is dout


def test_backward_casts_dout_to_the_forward_dtype(rng):
    layer = fastrnn.TimeDropout(0.3)
    xs = rng.standard_normal((2, 3, 4)).astype(np.float32)
    layer.forward(xs)
    dx = layer.backward(np.ones(xs.shape))  # float64
    assert dx.dtype == np.float32
    assert_bitwise(dx, np.ones(xs.shape, dtype=np.float32) * layer.mask)


# --------------------------------------------------------------------------
# Errors: raised before anything changes


@pytest.mark.parametrize("ratio, error", [
    (1.0, ValueError), (-0.1, ValueError), (float("nan"), ValueError), (2, ValueError),
    ("0.5", TypeError), (None, TypeError), (True, TypeError), (np.array([0.5]), TypeError),
])
def test_bad_ratio_is_refused_by_the_constructor(ratio, error):
    with pytest.raises(error, match="dropout_ratio"):
        fastrnn.TimeDropout(ratio)


def test_ratio_of_numpy_and_integer_types_is_accepted():
    assert fastrnn.TimeDropout(np.float32(0.25)).dropout_ratio == 0.25
    assert fastrnn.TimeDropout(0).dropout_ratio == 0.0


def _snapshot(layer):
    return dict(layer.__dict__), np.random.get_state()


def _assert_unchanged(layer, snapshot):
    state, rng_state = snapshot
    assert set(layer.__dict__) == set(state)
    for k, v in state.items():
        assert layer.__dict__[k] is v, k
    now = np.random.get_state()
    assert now[2] == rng_state[2]
    np.testing.assert_array_equal(now[1], rng_state[1])


@pytest.mark.parametrize("xs, error, match", [
    ([[1.0, 2.0]], TypeError, "xs must be a numpy.ndarray"),
    (np.ones((2, 3), dtype=np.int64), TypeError, "xs must have dtype float32 or float64"),
    (np.ones((2, 3), dtype=np.float16), TypeError, "xs must have dtype float32 or float64"),
    (np.float64(1.0), TypeError, "xs must be a numpy.ndarray"),
    (np.array(1.0), ValueError, "xs must have at least one dimension"),
])
def test_bad_input_leaves_everything_untouched(rng, xs, error, match):
    layer = fastrnn.TimeDropout(0.5)
    layer.forward(rng.standard_normal((2, 3)))
    snapshot = _snapshot(layer)
    with pytest.raises(error, match=match):
        layer.forward(xs)
    _assert_unchanged(layer, snapshot)


def test_ratio_changed_to_a_bad_value_is_refused_at_forward(rng):
    layer = fastrnn.TimeDropout(0.5)
    layer.dropout_ratio = 1.0
    snapshot = _snapshot(layer)
    with pytest.raises(ValueError, match="dropout_ratio"):
        layer.forward(rng.standard_normal((2, 3)))
    _assert_unchanged(layer, snapshot)


def test_backward_before_forward():
    layer = fastrnn.TimeDropout(0.5)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((2, 3)))
    assert layer.mask is None


@pytest.mark.parametrize("dout, error, match", [
    (np.ones((2, 4)), ValueError, r"dout must have shape \(2, 3\), got shape \(2, 4\)"),
    (np.ones((2, 3, 1)), ValueError, "dout must have shape"),
    (np.ones((2, 3), dtype=np.int32), TypeError, "dout must be a floating-point array"),
    ([[1.0] * 3] * 2, TypeError, "dout must be a numpy.ndarray"),
])
def test_bad_dout_leaves_everything_untouched(rng, dout, error, match):
    layer = fastrnn.TimeDropout(0.5)
    xs = rng.standard_normal((2, 3))
    layer.forward(xs)
    mask = layer.mask.copy()
    snapshot = _snapshot(layer)
    with pytest.raises(error, match=match):
        layer.backward(dout)
    _assert_unchanged(layer, snapshot)
    np.testing.assert_array_equal(layer.mask, mask)
    np.testing.assert_array_equal(layer.backward(np.ones((2, 3))), mask)


def test_refuses_a_call_while_another_thread_runs_one(rng):
    layer = fastrnn.TimeDropout(0.5)
    with layer._exclusive():
        with pytest.raises(RuntimeError, match="already running"):
            layer.forward(rng.standard_normal((2, 3)))


# --------------------------------------------------------------------------
# Pickling


@pytest.mark.parametrize("protocol", sorted({2, pickle.DEFAULT_PROTOCOL,
                                             pickle.HIGHEST_PROTOCOL}))
def test_pickle_round_trip(rng, protocol):
    layer = fastrnn.TimeDropout(0.3)
    xs = rng.standard_normal((2, 3, 4)).astype(np.float32)
    layer.forward(xs)
    with layer._exclusive():  # pickled while "in a call": the copy is unlocked
        copy = pickle.loads(pickle.dumps(layer, protocol=protocol))
    assert copy.dropout_ratio == 0.3 and copy.train_flg is True
    assert_bitwise(copy.mask, layer.mask)
    dout = rng.standard_normal(xs.shape).astype(np.float32)
    assert_bitwise(copy.backward(dout), layer.backward(dout))
    np.random.seed(9)
    out = copy.forward(xs)
    np.random.seed(9)
    assert_bitwise(out, layer.forward(xs))
