"""Chapter 8's attention layers (fastrnn.layers.attention) against the numpy
reference (fastrnn.reference.attention), central differences and the
equations themselves: values, gradients, layouts, dtypes, empty shapes,
errors, state after a refusal, pickling and the attention weights."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fastrnn import attention_layer
from fastrnn.reference import attention as ref
from fastrnn.layers import attention as fast
from conftest import assert_close, numeric_grad, outputs_scale, relayout

DTYPES = [np.float32, np.float64]
# (N, Te, Td, H): ones in every position, the book's one-step generation
# (N = 1, Td = 1) and a training-like shape.
SHAPES = [(1, 1, 1, 1), (1, 1, 3, 2), (2, 3, 1, 1), (3, 5, 4, 7), (1, 29, 1, 256),
          (4, 29, 11, 32), (5, 9, 13, 3)]


def _problem(rng, N, Te, Td, H, dtype, scale=1.0):
    """hs_enc, hs_dec and a gradient dout, of dtype; scores have spread ~scale."""
    unit = scale / max(H, 1) ** 0.25  # scores s = dec . enc then have std ~scale
    hs_enc = (unit * rng.standard_normal((N, Te, H))).astype(dtype)
    hs_dec = (unit * rng.standard_normal((N, Td, H))).astype(dtype)
    dout = rng.standard_normal((N, Td, H)).astype(dtype)
    return hs_enc, hs_dec, dout


def _einsum_oracle(hs_enc, hs_dec, dout):
    """The equations of the module docstring as einsums, in float64: out,
    weights (N, Td, Te), dhs_enc and dhs_dec."""
    enc, dec, g = (np.asarray(x, dtype=np.float64) for x in (hs_enc, hs_dec, dout))
    s = np.einsum("ntk,njk->ntj", dec, enc)
    e = np.exp(s - s.max(axis=2, keepdims=True))
    a = e / e.sum(axis=2, keepdims=True)
    out = np.einsum("ntj,njk->ntk", a, enc)
    da = np.einsum("ntk,njk->ntj", g, enc)
    ds = a * (da - (a * da).sum(axis=2, keepdims=True))
    denc = np.einsum("ntj,ntk->njk", a, g) + np.einsum("ntj,ntk->njk", ds, dec)
    ddec = np.einsum("ntj,njk->ntk", ds, enc)
    return out, a, denc, ddec


def _run_time(layer, hs_enc, hs_dec, dout):
    out = layer.forward(hs_enc, hs_dec)
    weights = [w.copy() for w in layer.attention_weights]
    dhs_enc, dhs_dec = layer.backward(dout)
    return out, weights, dhs_enc, dhs_dec


# --- equivalence with the reference ----------------------------------------


def test_reference_follows_the_equations(rng):
    """The oracle itself: the reference's TimeAttention equals the equations
    written as einsums, in float64."""
    hs_enc, hs_dec, dout = _problem(rng, 3, 5, 4, 6, np.float64)
    out, weights, denc, ddec = _run_time(ref.TimeAttention(), hs_enc, hs_dec, dout)
    e_out, e_a, e_denc, e_ddec = _einsum_oracle(hs_enc, hs_dec, dout)
    np.testing.assert_allclose(out, e_out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.stack(weights, axis=1), e_a, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(denc, e_denc, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ddec, e_ddec, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N%d-Te%d-Td%d-H%d" % s)
def test_time_attention_matches_reference(rng, dtype, shape):
    hs_enc, hs_dec, dout = _problem(rng, *shape, dtype)
    got = _run_time(fast.TimeAttention(), hs_enc, hs_dec, dout)
    want = _run_time(ref.TimeAttention(), hs_enc, hs_dec, dout)
    for name, g, w in zip(("out", "weights", "dhs_enc", "dhs_dec"), got, want):
        if name == "weights":
            assert len(g) == len(w) == shape[2]
            for t, (gt, wt) in enumerate(zip(g, w)):
                assert_close(gt, wt, f"attention_weights[{t}]")
        else:
            assert_close(g, w, name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 1, 3), (3, 6, 5), (1, 29, 256), (16, 29, 64)],
                         ids=lambda s: "N%d-T%d-H%d" % s)
def test_per_step_layers_match_reference(rng, dtype, shape):
    N, T, H = shape
    hs = rng.standard_normal(shape).astype(dtype) / H ** 0.25
    h = rng.standard_normal((N, H)).astype(dtype) / H ** 0.25
    dc = rng.standard_normal((N, H)).astype(dtype)
    da = rng.standard_normal((N, T)).astype(dtype)
    a = ref.softmax(rng.standard_normal((N, T))).astype(dtype)

    f, r = fast.AttentionWeight(), ref.AttentionWeight()
    assert_close(f.forward(hs, h), r.forward(hs, h), "AttentionWeight a")
    for name, g, w in zip(("dhs", "dh"), f.backward(da), r.backward(da)):
        assert_close(g, w, f"AttentionWeight {name}")

    f, r = fast.WeightSum(), ref.WeightSum()
    assert_close(f.forward(hs, a), r.forward(hs, a), "WeightSum c")
    for name, g, w in zip(("dhs", "da"), f.backward(dc), r.backward(dc)):
        assert_close(g, w, f"WeightSum {name}")

    f, r = fast.Attention(), ref.Attention()
    assert_close(f.forward(hs, h), r.forward(hs, h), "Attention c")
    assert_close(f.attention_weight, r.attention_weight, "Attention attention_weight")
    for name, g, w in zip(("dhs", "dh"), f.backward(dc), r.backward(dc)):
        assert_close(g, w, f"Attention {name}")


@given(N=st.integers(0, 4), Te=st.integers(1, 9), Td=st.integers(0, 6), H=st.integers(0, 12),
       dtype=st.sampled_from(DTYPES), scale=st.sampled_from([0.01, 1.0, 5.0]),
       seed=st.integers(0, 2**32 - 1))
def test_time_attention_matches_reference_on_random_shapes(N, Te, Td, H, dtype, scale, seed):
    """float64 directly; float32 by the error-against-exact criterion of
    conftest, as peaked weights (scale 5) make the softmax gradient cancel:
    there the float32 reference is itself off in its third digit."""
    rng = np.random.default_rng(seed)
    hs_enc, hs_dec, dout = _problem(rng, N, Te, Td, H, dtype, scale)
    got = _run_time(fast.TimeAttention(), hs_enc, hs_dec, dout)
    want = _run_time(ref.TimeAttention(), hs_enc, hs_dec, dout)
    exact = _run_time(ref.TimeAttention(), *(x.astype(np.float64) for x in (hs_enc, hs_dec, dout)))
    assert len(got[1]) == Td
    runs = [[np.stack(x) if isinstance(x, list) and x else x for x in run]
            for run in (got, want, exact)]
    scale_out = outputs_scale([x for x in runs[2] if not isinstance(x, list)])
    for name, g, w, x in zip(("out", "weights", "dhs_enc", "dhs_dec"), *runs):
        if isinstance(g, list):  # no decoder steps: no weights
            assert g == w == []
            continue
        assert_close(g, w, name, exact=x, scale=scale_out)


def test_float32_is_within_tolerance_of_the_exact_result(rng):
    """float32 results against the reference in float64 on the same float32
    inputs, by conftest's error-against-exact criterion, at a book-like shape
    and with peaked weights (scores spread 5)."""
    for scale in (1.0, 5.0):
        hs_enc, hs_dec, dout = _problem(rng, 8, 29, 11, 64, np.float32, scale)
        got = _run_time(fast.TimeAttention(), hs_enc, hs_dec, dout)
        ref32 = _run_time(ref.TimeAttention(), hs_enc, hs_dec, dout)
        exact = _run_time(ref.TimeAttention(), *(x.astype(np.float64)
                                                 for x in (hs_enc, hs_dec, dout)))
        names = ("out", "weights", "dhs_enc", "dhs_dec")
        flat = [[np.stack(x) if isinstance(x, list) else x for x in run] for run in (got, ref32, exact)]
        scale_out = outputs_scale(flat[2])
        for name, g, r32, ex in zip(names, *flat):
            assert g.dtype == np.float32
            assert_close(g, r32, name, exact=ex, scale=scale_out)


# --- gradients by central differences (float64) -----------------------------


def _check_grads(loss, analytic, arrays):
    for name, a, arr in zip(("first", "second"), analytic, arrays):
        np.testing.assert_allclose(a, numeric_grad(loss, arr), rtol=1e-6, atol=1e-7,
                                   err_msg=f"gradient of the {name} input")


def test_gradients_of_time_attention(rng):
    hs_enc, hs_dec, dout = _problem(rng, 2, 4, 3, 5, np.float64, 2.0)
    layer = fast.TimeAttention()
    layer.forward(hs_enc, hs_dec)
    analytic = layer.backward(dout)
    _check_grads(lambda: float(np.sum(fast.TimeAttention().forward(hs_enc, hs_dec) * dout)),
                 analytic, (hs_enc, hs_dec))


def test_gradients_of_attention(rng):
    hs, h, dc = (rng.standard_normal(s) for s in ((3, 4, 5), (3, 5), (3, 5)))
    layer = fast.Attention()
    layer.forward(hs, h)
    analytic = layer.backward(dc)
    _check_grads(lambda: float(np.sum(fast.Attention().forward(hs, h) * dc)),
                 analytic, (hs, h))


def test_gradients_of_attention_weight(rng):
    hs, h, da = (rng.standard_normal(s) for s in ((3, 4, 5), (3, 5), (3, 4)))
    layer = fast.AttentionWeight()
    layer.forward(hs, h)
    analytic = layer.backward(da)
    _check_grads(lambda: float(np.sum(fast.AttentionWeight().forward(hs, h) * da)),
                 analytic, (hs, h))


def test_gradients_of_weight_sum(rng):
    hs, a, dc = (rng.standard_normal(s) for s in ((3, 4, 5), (3, 4), (3, 5)))
    layer = fast.WeightSum()
    layer.forward(hs, a)
    analytic = layer.backward(dc)
    _check_grads(lambda: float(np.sum(fast.WeightSum().forward(hs, a) * dc)),
                 analytic, (hs, a))


# --- layouts, dtypes, empty and extreme inputs --------------------------------


@pytest.mark.parametrize("layout", ["F", "strided", "time-major"])
def test_non_contiguous_inputs_give_the_contiguous_results(rng, layout):
    hs_enc, hs_dec, dout = _problem(rng, 3, 5, 4, 6, np.float32)
    want = _run_time(fast.TimeAttention(), hs_enc, hs_dec, dout)
    views = [relayout(x, layout, None) for x in (hs_enc, hs_dec, dout)]
    assert not any(v.flags.c_contiguous for v in views)
    before = [v.copy() for v in views]
    got = _run_time(fast.TimeAttention(), *views)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(np.stack(g) if isinstance(g, list) else g,
                                      np.stack(w) if isinstance(w, list) else w)
    for v, b in zip(views, before):
        np.testing.assert_array_equal(v, b)  # inputs are not written to
    # the per-step layers too, with a transposed h and a reversed hs
    hs, h = hs_enc[:, ::-1], np.ascontiguousarray(hs_dec[:, 0].T).T
    layer = fast.Attention()
    c = layer.forward(hs, h)
    np.testing.assert_array_equal(c, fast.Attention().forward(hs.copy(), h.copy()))


@pytest.mark.parametrize("first", DTYPES)
@pytest.mark.parametrize("other", [np.float16, np.float32, np.float64])
def test_other_inputs_are_cast_to_the_dtype_of_the_first(rng, first, other):
    hs_enc, hs_dec, dout = _problem(rng, 2, 3, 4, 5, first)
    as_other = [x.astype(other) for x in (hs_dec, dout)]
    cast = [x.astype(first) for x in as_other]  # what the layer computes on
    got = _run_time(fast.TimeAttention(), hs_enc, *as_other)
    want = _run_time(fast.TimeAttention(), hs_enc, *cast)
    for g, w in zip(got, want):
        for gi, wi in zip(g if isinstance(g, list) else [g], w if isinstance(w, list) else [w]):
            assert gi.dtype == first
            np.testing.assert_array_equal(gi, wi)
    hs, h, a = hs_enc, hs_dec[:, 0].astype(other), np.full((2, 3), 1 / 3, dtype=other)
    assert fast.Attention().forward(hs, h).dtype == first
    assert fast.AttentionWeight().forward(hs, h).dtype == first
    assert fast.WeightSum().forward(hs, a).dtype == first


@pytest.mark.parametrize("dtype", DTYPES)
def test_empty_batch_and_no_decoder_steps(rng, dtype):
    # N = 0: empty outputs of the right shapes and dtype, in every layer
    hs_enc, hs_dec, dout = _problem(rng, 0, 3, 2, 4, dtype)
    out, weights, denc, ddec = _run_time(fast.TimeAttention(), hs_enc, hs_dec, dout)
    assert (out.shape, denc.shape, ddec.shape) == ((0, 2, 4), (0, 3, 4), (0, 2, 4))
    assert [w.shape for w in weights] == [(0, 3), (0, 3)]
    assert {out.dtype, denc.dtype, ddec.dtype} == {np.dtype(dtype)}
    hs, h = hs_enc, np.zeros((0, 4), dtype)
    for layer, second, grad in [(fast.Attention(), h, h), (fast.AttentionWeight(), h, np.zeros((0, 3))),
                                (fast.WeightSum(), np.zeros((0, 3)), h)]:
        first = layer.forward(hs, second)
        assert first.shape == ((0, 3) if isinstance(layer, fast.AttentionWeight) else (0, 4))
        g1, g2 = layer.backward(grad)
        assert g1.shape == (0, 3, 4) and g1.dtype == dtype
    # Td = 0: no steps, no weights, and a zero gradient for hs_enc
    hs_enc, hs_dec, dout = _problem(rng, 2, 3, 0, 4, dtype)
    out, weights, denc, ddec = _run_time(fast.TimeAttention(), hs_enc, hs_dec, dout)
    assert out.shape == (2, 0, 4) and weights == [] and ddec.shape == (2, 0, 4)
    np.testing.assert_array_equal(denc, np.zeros((2, 3, 4), dtype))
    # WeightSum over T = 0 steps: c = 0 (the softmax layers refuse T = 0, below)
    layer = fast.WeightSum()
    np.testing.assert_array_equal(layer.forward(np.zeros((2, 0, 4), dtype), np.zeros((2, 0))),
                                  np.zeros((2, 4), dtype))
    dhs, da = layer.backward(np.ones((2, 4)))
    assert dhs.shape == (2, 0, 4) and da.shape == (2, 0)


def test_large_scores_do_not_overflow_and_nan_stays_in_its_row(rng):
    hs_enc, hs_dec, dout = _problem(rng, 3, 6, 2, 8, np.float32)
    hs_enc *= 1e3  # scores ~1e3: exp would overflow without the max subtracted
    out, weights, denc, ddec = _run_time(fast.TimeAttention(), hs_enc, hs_dec, dout)
    assert all(np.isfinite(x).all() for x in [out, denc, ddec] + weights)
    for w in weights:
        np.testing.assert_allclose(w.sum(axis=1), 1, rtol=1e-6)
    want = _run_time(ref.TimeAttention(), hs_enc, hs_dec, dout)
    assert_close(out, want[0], "out")
    hs_enc[1, 2, 3] = np.nan
    out = fast.TimeAttention().forward(hs_enc, hs_dec)
    assert np.isnan(out[1]).all()
    assert np.isfinite(out[[0, 2]]).all()


# --- errors and state after a refusal ------------------------------------------


def test_backward_before_forward_raises(rng):
    for layer, grad in [(fast.TimeAttention(), np.zeros((1, 1, 1))),
                        (fast.Attention(), np.zeros((1, 1))),
                        (fast.AttentionWeight(), np.zeros((1, 1))),
                        (fast.WeightSum(), np.zeros((1, 1)))]:
        name = type(layer).__name__
        with pytest.raises(RuntimeError, match=rf"{name}\.backward\(\) called before forward\(\)"):
            layer.backward(grad)
        assert layer.params == [] and layer.grads == []


def _time_refusals(hs_enc, hs_dec):
    N, Te, H = hs_enc.shape
    return [
        (lambda L: L.forward(hs_enc.astype(np.int64), hs_dec), TypeError,
         r"hs_enc must have dtype float32 or float64.*got int64"),
        (lambda L: L.forward(hs_enc.astype(np.float16), hs_dec), TypeError,
         r"hs_enc must have dtype float32 or float64.*got float16"),
        (lambda L: L.forward(hs_enc.tolist(), hs_dec), TypeError,
         r"hs_enc must be a numpy.ndarray, got a builtins.list"),
        (lambda L: L.forward(hs_enc[0], hs_dec), ValueError,
         rf"hs_enc must be 3-D \(N, T, H\), got shape \({Te}, {H}\)"),
        (lambda L: L.forward(hs_enc[:, :0], hs_dec), ValueError,
         rf"hs_enc must have at least one time step.*got shape \({N}, 0, {H}\)"),
        (lambda L: L.forward(hs_enc, hs_dec[:, :, :-1]), ValueError,
         rf"hs_dec must have shape \(N, Td, H\) = \({N}, \?, {H}\) to match hs_enc of shape "
         rf"\({N}, {Te}, {H}\), got shape \({N}, \d+, {H - 1}\)"),
        (lambda L: L.forward(hs_enc, hs_dec[:-1]), ValueError, r"hs_dec must have shape"),
        (lambda L: L.forward(hs_enc, hs_dec.astype(np.complex64)), TypeError,
         r"hs_dec must be a floating-point array, got dtype complex64"),
        (lambda L: L.backward(np.zeros((N, 7, H))), ValueError,
         rf"dout must have shape \(N, Td, H\) = \({N}, 2, {H}\), that of the last forward's "
         rf"output, got shape \({N}, 7, {H}\)"),
        (lambda L: L.backward(np.zeros((N, 2, H), np.int32)), TypeError,
         r"dout must be a floating-point array"),
    ]


def test_time_attention_refusals_name_the_argument_and_change_nothing(rng):
    hs_enc, hs_dec, dout = _problem(rng, 3, 5, 2, 4, np.float32)
    layer = fast.TimeAttention()
    out = layer.forward(hs_enc, hs_dec)
    weights = layer.attention_weights
    weights_before = [w.copy() for w in weights]
    for call, error, message in _time_refusals(hs_enc, hs_dec):
        with pytest.raises(error, match=message):
            call(layer)
        assert layer.attention_weights is weights
        for w, b in zip(weights, weights_before):
            np.testing.assert_array_equal(w, b)
    # the state is the first forward's: backward gives what a fresh layer gives
    fresh = fast.TimeAttention()
    np.testing.assert_array_equal(fresh.forward(hs_enc, hs_dec), out)
    for g, w in zip(layer.backward(dout), fresh.backward(dout)):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("cls", ["Attention", "AttentionWeight", "WeightSum"])
def test_per_step_refusals_name_the_argument_and_change_nothing(rng, cls):
    hs = rng.standard_normal((3, 5, 4)).astype(np.float32)
    second_name = "a" if cls == "WeightSum" else "h"
    second = np.full((3, 5), 0.2) if cls == "WeightSum" else rng.standard_normal((3, 4))
    grad_name, grad_shape = {"Attention": ("dc", (3, 4)), "AttentionWeight": ("da", (3, 5)),
                             "WeightSum": ("dc", (3, 4))}[cls]
    grad = rng.standard_normal(grad_shape)
    layer = getattr(fast, cls)()
    first = layer.forward(hs, second).copy()
    weight = getattr(layer, "attention_weight", None)
    refusals = [
        (lambda: layer.forward(hs.astype(np.float16), second), TypeError,
         r"hs must have dtype float32 or float64"),
        (lambda: layer.forward(hs[..., None], second), ValueError, r"hs must be 3-D \(N, T, H\)"),
        (lambda: layer.forward(hs, second[:2]), ValueError,
         rf"{second_name} must have shape \(N, [HT]\) = \(3, [45]\) to match hs of shape "
         rf"\(3, 5, 4\), got shape \(2, [45]\)"),
        (lambda: layer.forward(hs, second.astype(np.int8)), TypeError,
         rf"{second_name} must be a floating-point array"),
        (lambda: layer.forward(hs, None), TypeError, rf"{second_name} must be a numpy.ndarray, got None"),
        (lambda: layer.backward(grad[:, :-1]), ValueError,
         rf"{grad_name} must have shape .* that of the last forward's"),
    ]
    if cls != "WeightSum":
        refusals.append((lambda: layer.forward(hs[:, :0], second), ValueError,
                         r"hs must have at least one time step"))
    for call, error, message in refusals:
        with pytest.raises(error, match=message):
            call()
        if weight is not None:
            assert layer.attention_weight is weight
    fresh = getattr(fast, cls)()
    np.testing.assert_array_equal(fresh.forward(hs, second), first)
    for g, w in zip(layer.backward(grad), fresh.backward(grad)):
        np.testing.assert_array_equal(g, w)


# --- pickling, the weights the book reads, the module names --------------------


@pytest.mark.parametrize("cls", ["TimeAttention", "Attention", "AttentionWeight", "WeightSum"])
def test_pickling_keeps_the_forward_state(rng, cls):
    hs_enc, hs_dec, dout = _problem(rng, 2, 4, 3, 5, np.float32)
    layer = getattr(fast, cls)()
    clone = pickle.loads(pickle.dumps(layer))
    with pytest.raises(RuntimeError, match="called before forward"):
        clone.backward(dout)
    if cls == "TimeAttention":
        args, grad = (hs_enc, hs_dec), dout
    elif cls == "WeightSum":
        args, grad = (hs_enc, np.full((2, 4), 0.25, np.float32)), dout[:, 0]
    else:
        args, grad = (hs_enc, hs_dec[:, 0]), (dout[:, 0] if cls == "Attention" else dout[:, 0, :4])
    layer.forward(*args)
    clone = pickle.loads(pickle.dumps(layer))
    for g, w in zip(clone.backward(grad), layer.backward(grad)):
        np.testing.assert_array_equal(g, w)
    if cls == "TimeAttention":
        assert len(clone.attention_weights) == 3
        for c, w in zip(clone.attention_weights, layer.attention_weights):
            np.testing.assert_array_equal(c, w)
    if cls == "Attention":
        np.testing.assert_array_equal(clone.attention_weight, layer.attention_weight)
    clone.forward(*args)  # the clone has a lock of its own


def test_attention_weights_are_each_steps_softmax(rng):
    """One (N, Te) array per decoder step, C-contiguous, each the softmax of
    that step's scores (rows sum to 1); a new forward replaces the list, and
    backward leaves it as it is."""
    hs_enc, hs_dec, dout = _problem(rng, 3, 7, 5, 6, np.float64)
    layer = fast.TimeAttention()
    assert layer.attention_weights is None and layer.layers is None
    layer.forward(hs_enc, hs_dec)
    weights = layer.attention_weights
    _, expected, _, _ = _einsum_oracle(hs_enc, hs_dec, dout)
    assert isinstance(weights, list) and len(weights) == 5
    for t, w in enumerate(weights):
        assert w.shape == (3, 7) and w.dtype == np.float64 and w.flags.c_contiguous
        np.testing.assert_allclose(w, expected[:, t], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(w.sum(axis=1), 1, rtol=1e-12)
    kept = [w.copy() for w in weights]
    layer.backward(dout)
    for w, k in zip(layer.attention_weights, kept):
        np.testing.assert_array_equal(w, k)
    layer.forward(hs_enc, hs_dec[:, :2])
    assert len(layer.attention_weights) == 2
    for w, k in zip(weights, kept):  # the earlier list is not overwritten
        np.testing.assert_array_equal(w, k)
    assert layer.layers is None  # fastrnn keeps no per-step Attention objects
    # Attention keeps its last a, equal to AttentionWeight's
    attention = fast.Attention()
    assert attention.attention_weight is None
    attention.forward(hs_enc, hs_dec[:, 1])
    np.testing.assert_array_equal(attention.attention_weight,
                                  fast.AttentionWeight().forward(hs_enc, hs_dec[:, 1]))
    np.testing.assert_allclose(attention.attention_weight, expected[:, 1], rtol=1e-12, atol=1e-15)


def test_book_module_name_gives_the_four_layers():
    namespace = {}
    exec("from fastrnn.attention_layer import *", namespace)
    names = {"WeightSum", "AttentionWeight", "Attention", "TimeAttention"}
    assert set(attention_layer.__all__) == names
    assert names <= set(namespace)
    for name in names:
        assert namespace[name] is getattr(fast, name)
        layer = namespace[name]()
        assert layer.params == [] and layer.grads == []


def test_reference_imports_on_its_own_without_numba():
    code = ("import sys, fastrnn.reference.attention as r; "
            "assert 'numba' not in sys.modules, 'numba imported'; "
            "print(sorted(n for n in dir(r) if n[0].isupper()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(sorted(["Attention", "AttentionWeight", "TimeAttention",
                                             "WeightSum"]))
