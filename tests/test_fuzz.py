"""Property-based fuzzing of every public layer (the time layers: the registry).

For any input, a layer either gives the reference's result within tolerance
or raises the documented error, and a failed call changes nothing. Inputs
vary in shape (0 and 1 included), memory order (C, Fortran, reversed and
strided views), dtype (float16/32/64, integers, bool, complex, object),
values (NaN, inf, huge, tiny), writability, and type (lists, None, scalars).
The default profile tries 100 examples per test; ``--hypothesis-profile=fuzz``
tries 10,000.
"""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import fastrnn
from fastrnn import reference
from fastrnn.lm.layers import TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss
from conftest import assert_arrays_unchanged, assert_close, snapshot_arrays
from layer_registry import TIME_LAYERS

FLOATS = (np.float16, np.float32, np.float64)
NOT_FLOATS = (np.int8, np.int64, np.uint8, np.bool_, np.complex64, np.object_)
VALUES = ("normal", "nan", "inf", "huge", "tiny", "zero")


@st.composite
def arrays(draw, shape, dtypes=FLOATS + NOT_FLOATS):
    """An array of ``shape`` with a drawn dtype, values, layout and writability."""
    dtype = draw(st.sampled_from(dtypes))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    kind = draw(st.sampled_from(VALUES))
    if a.size and kind != "normal":
        idx = tuple(rng.integers(0, n) for n in shape)
        a[idx] = {"nan": np.nan, "inf": -np.inf, "huge": 1e30, "tiny": 1e-30, "zero": 0.0}[kind]
    with np.errstate(invalid="ignore", over="ignore"):
        a = a.astype(dtype)
    layout = draw(st.sampled_from(("C", "F", "reversed", "strided")))
    if layout == "F":
        a = np.asfortranarray(a)
    elif layout == "reversed" and a.ndim:
        a = np.ascontiguousarray(a[..., ::-1])[..., ::-1]
    elif layout == "strided" and a.ndim:
        big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
        big[..., ::2] = a
        a = big[..., ::2]
    if draw(st.booleans()):
        a.setflags(write=False)
    return a


def _not_an_array(draw):
    return draw(st.sampled_from([None, 1.5, [[1.0, 2.0]], "xs", {"a": 1}]))


def _assert_refused(call, name, layer, snap):
    """``call()`` raises TypeError or ValueError naming ``name``, and
    ``layer``'s arrays are as in ``snap``."""
    try:
        call()
    except (TypeError, ValueError) as e:
        assert name in str(e)
        assert_arrays_unchanged(layer, snap)
        return
    raise AssertionError(f"no error about {name}")


def _is_valid_float(a, shape):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.shape == shape


def _quiet():
    return np.errstate(all="ignore")  # numpy warns on inf - inf, as in the book


@given(data=st.data(), spec=st.sampled_from(TIME_LAYERS), N=st.integers(0, 5),
       T=st.integers(0, 6), D=st.integers(1, 5), H=st.integers(1, 5),
       dtype=st.sampled_from([np.float32, np.float64]),
       stateful=st.booleans(), wrong_shape=st.booleans(), not_array=st.booleans())
def test_fuzz_time_layers(data, spec, N, T, D, H, dtype, stateful, wrong_shape, not_array):
    rng = np.random.default_rng(N * 100 + T * 10 + D + H)
    params = spec.params(rng, D, H, dtype)
    layer = spec.fast(*params, stateful=stateful)
    ref = spec.ref(*params, stateful=stateful)
    shape = (N, T, D + 1) if wrong_shape else (N, T, D)
    xs = _not_an_array(data.draw) if not_array else data.draw(arrays(shape))
    snap = snapshot_arrays(layer)
    if not _is_valid_float(xs, (N, T, D)):
        _assert_refused(lambda: layer.forward(xs), "xs", layer, snap)
        assert layer.h is None
        return
    with _quiet():
        hs = layer.forward(xs)
        hs_ref = ref.forward(xs.astype(dtype))
    assert_close(hs, hs_ref, "hs")
    dhs = data.draw(arrays((N, T, H), FLOATS))
    with _quiet():
        dxs = layer.backward(dhs)
        dxs_ref = ref.backward(dhs.astype(dtype))
    outputs = [(dxs, dxs_ref, "dxs")] + [(g, r, "grads") for g, r in zip(layer.grads, ref.grads)]
    if T:  # with T = 0 the book leaves dh = 0 (a scalar); fastrnn gives zeros (N, H)
        outputs.append((layer.dh, ref.dh, "dh"))
    if np.isinf(xs).any() or np.isinf(dhs).any():
        # inf * 0 (e.g. an infinite input times the zero gradient of a saturated
        # tanh) is NaN or 0 depending on which BLAS kernel runs, in the book's
        # layer as in fastrnn: compare where both are finite.
        outputs = [(np.where(np.isfinite(a) & np.isfinite(r), a, 0),
                    np.where(np.isfinite(a) & np.isfinite(r), r, 0), name)
                   for a, r, name in outputs]
    for a, r, name in outputs:
        assert_close(a, r, name)


@given(data=st.data(), N=st.integers(0, 5), D=st.integers(1, 5), H=st.integers(1, 5),
       dtype=st.sampled_from([np.float32, np.float64]), bad=st.sampled_from(
           ["none", "x", "h_prev", "x-shape", "h-shape"]))
def test_fuzz_rnn_step(data, N, D, H, dtype, bad):
    rng = np.random.default_rng(N * 10 + D + H)
    params = [(rng.standard_normal(s) / 2).astype(dtype) for s in ((D, H), (H, H), (H,))]
    layer, ref = fastrnn.RNN(*params), reference.RNN(*params)
    x = data.draw(arrays((N, D + (bad == "x-shape")), FLOATS if bad != "x" else NOT_FLOATS))
    h = data.draw(arrays((N, H + (bad == "h-shape")), FLOATS if bad != "h_prev" else NOT_FLOATS))
    snap = snapshot_arrays(layer)
    if bad != "none":
        _assert_refused(lambda: layer.forward(x, h), "h_prev" if bad.startswith("h") else "x",
                        layer, snap)
        assert layer.cache is None
        return
    with _quiet():
        assert_close(layer.forward(x, h), ref.forward(x.astype(dtype), h.astype(dtype)))
        g = rng.standard_normal((N, H)).astype(dtype)
        dx, dh = layer.backward(g)
        dx_ref, dh_ref = ref.backward(g)
    assert_close(dx, dx_ref)
    assert_close(dh, dh_ref)


@given(data=st.data(), N=st.integers(0, 4), T=st.integers(0, 5), V=st.integers(1, 9),
       D=st.integers(1, 4), dtype=st.sampled_from([np.float32, np.float64]))
def test_fuzz_embedding(data, N, T, V, D, dtype):
    W = np.random.default_rng(V * 10 + D).standard_normal((V, D)).astype(dtype)
    layer, ref = TimeEmbedding(W), reference.TimeEmbedding(W)
    kind = data.draw(st.sampled_from(["ok", "ok", "high", "negative", "float", "bool", "1-D"]))
    ids = np.random.default_rng(N + T).integers(0, V, (N, T))
    if kind == "high" and ids.size:
        ids.flat[0] = V
    elif kind == "negative" and ids.size:
        ids.flat[-1] = -1
    elif kind == "float":
        ids = ids.astype(np.float64)
    elif kind == "bool":
        ids = ids.astype(bool)
    elif kind == "1-D":
        ids = ids.reshape(-1)
    if data.draw(st.booleans()):
        ids = np.asfortranarray(ids)
    snap = snapshot_arrays(layer)
    bad_values = kind in ("high", "negative") and ids.size
    if bad_values or kind in ("float", "bool", "1-D"):
        _assert_refused(lambda: layer.forward(ids), "xs", layer, snap)
        return
    assert_close(layer.forward(ids), ref.forward(ids))
    dout = data.draw(arrays((N, T, D), FLOATS))
    with _quiet():
        layer.backward(dout)
        ref.backward(dout.astype(dtype))
    assert_close(layer.grads[0], ref.grads[0])


@given(data=st.data(), N=st.integers(1, 4), T=st.integers(1, 5), D=st.integers(1, 4),
       V=st.integers(1, 8), dtype=st.sampled_from([np.float32, np.float64]))
def test_fuzz_affine_and_softmax(data, N, T, D, V, dtype):
    rng = np.random.default_rng(N + 10 * T + 100 * D + 1000 * V)
    W, b = rng.standard_normal((D, V)).astype(dtype), rng.standard_normal(V).astype(dtype)
    if data.draw(st.booleans()):  # a transposed view, as tied weights are
        W = np.ascontiguousarray(W.T).T
    aff, aff_ref = TimeAffine(W, b), reference.TimeAffine(W, b)
    x = data.draw(arrays((N, T, D + data.draw(st.sampled_from([0, 0, 0, 1])))))
    snap = snapshot_arrays(aff)
    if not _is_valid_float(x, (N, T, D)):
        _assert_refused(lambda: aff.forward(x), "x", aff, snap)
        return
    with _quiet():
        scores = aff.forward(x)
        assert_close(scores, aff_ref.forward(x.astype(dtype)))
    ts = rng.integers(0, V, (N, T))
    ts[rng.random((N, T)) < data.draw(st.sampled_from([0.0, 0.0, 0.2]))] = -1
    loss, loss_ref = TimeSoftmaxWithLoss(), reference.TimeSoftmaxWithLoss()
    finite = np.isfinite(scores).all()
    with _quiet():
        value, value_ref = loss.forward(scores, ts), loss_ref.forward(scores, ts)
        if finite and (ts >= 0).any() and not np.isfinite(value_ref):
            # the book takes the log of a probability that underflowed to 0
            # (even for an ignored target); fastrnn's log-sum-exp form stays exact
            assert np.isfinite(value) and value >= 0
        elif finite and (ts >= 0).any():
            np.testing.assert_allclose(value, value_ref, rtol=1e-4 if dtype == np.float32 else 1e-9,
                                       atol=1e-6)
            dscores, dscores_ref = loss.backward(), loss_ref.backward()  # the book's
            assert_close(dscores, dscores_ref)  # backward may run once: it edits its cache
            dx_ref = aff_ref.backward(dscores_ref)
            # and the same without forming dscores (SimpleRnnlm's backward)
            for backward in (lambda: aff.backward(dscores), lambda: aff.backward_through(loss),
                             lambda: aff.backward_through(loss)):  # its exps come back
                assert_close(backward(), dx_ref)
                for g, g_ref in zip(aff.grads, aff_ref.grads):
                    assert_close(g, g_ref)
