"""fastrnn against the numpy reference over many random shapes and layouts."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastrnn
from fastrnn import reference, tuning as _tuning
from fastrnn_kernels.products import aligned_copy
from conftest import assert_close, make_params, outputs_scale, relayout

LAYOUTS = ("C", "F", "strided", "time-major", "float16-in", "other-float-in")


@settings(max_examples=150)
@given(N=st.integers(1, 64), T=st.integers(1, 300), D=st.integers(1, 64),
       H=st.integers(1, 64), dtype=st.sampled_from([np.float32, np.float64]),
       layout=st.sampled_from(LAYOUTS), stateful=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_time_rnn_matches_reference(N, T, D, H, dtype, layout, stateful, seed):
    rng = np.random.default_rng(seed)
    params = make_params(rng, D, H, dtype, contractive=True)
    other = np.float64 if dtype == np.float32 else np.float32
    xs = rng.standard_normal((N, T, D)).astype(dtype)
    dhs = rng.standard_normal((N, T, H)).astype(dtype)
    if layout.endswith("-in"):  # both sides see the same rounded values
        narrow = np.float16 if layout == "float16-in" else np.float32
        xs, dhs = xs.astype(narrow).astype(dtype), dhs.astype(narrow).astype(dtype)
    h0 = (0.5 * rng.standard_normal((N, H))).astype(np.float16).astype(dtype)
    fast = fastrnn.TimeRNN(*params, stateful)
    if stateful:
        fast.set_state(relayout(h0, layout, other))
    hs = fast.forward(relayout(xs, layout, other))
    dxs = fast.backward(relayout(dhs, layout, other))
    assert hs.dtype == dxs.dtype == fast.dh.dtype == np.dtype(dtype)
    assert hs.flags.c_contiguous and dxs.flags.c_contiguous

    expected = _run_reference(params, xs, dhs, h0 if stateful else None)
    exact = _run_reference([p.astype(np.float64) for p in params], xs.astype(np.float64),
                           dhs.astype(np.float64), h0.astype(np.float64) if stateful else None)
    actual = [hs, fast.h, dxs, fast.dh] + fast.grads
    scale = outputs_scale(exact)
    for name, a, e, x in zip(OUTPUTS, actual, expected, exact):
        assert_close(a, e, name, exact=x, scale=scale)


OUTPUTS = ("hs", "h", "dxs", "dh", "dWx", "dWh", "db")


def _run_reference(params, xs, dhs, h0=None):
    """Forward+backward of the numpy reference; returns the OUTPUTS."""
    ref = reference.TimeRNN(*params, stateful=h0 is not None)
    if h0 is not None:
        ref.set_state(h0)
    hs = ref.forward(xs)
    dxs = ref.backward(dhs)
    return [hs, ref.h, dxs, ref.dh] + ref.grads


@settings(max_examples=60)
@given(N=st.integers(1, 32), D=st.integers(1, 48), H=st.integers(1, 48),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**32 - 1))
def test_rnn_step_matches_reference(N, D, H, dtype, seed):
    rng = np.random.default_rng(seed)
    params = make_params(rng, D, H, dtype)
    x = rng.standard_normal((N, D)).astype(dtype)
    h_prev = rng.standard_normal((N, H)).astype(dtype)
    dh_next = rng.standard_normal((N, H)).astype(dtype)
    fast, ref = fastrnn.RNN(*params), reference.RNN(*params)
    assert_close(fast.forward(x, h_prev[:, ::-1][:, ::-1]), ref.forward(x, h_prev), "h_next")
    dx, dh_prev = fast.backward(dh_next)
    dx_ref, dh_prev_ref = ref.backward(dh_next)
    assert_close(dx, dx_ref, "dx")
    assert_close(dh_prev, dh_prev_ref, "dh_prev")
    for name, g, g_ref in zip(("dWx", "dWh", "db"), fast.grads, ref.grads):
        assert_close(g, g_ref, name)


def test_long_sequence_and_wide_layer(rng):
    """T in the thousands, D != H, float32: still within tolerance."""
    params = make_params(rng, 40, 24, np.float32)
    xs = rng.standard_normal((3, 3000, 40)).astype(np.float32)
    dhs = rng.standard_normal((3, 3000, 24)).astype(np.float32)
    fast = fastrnn.TimeRNN(*params)
    actual = [fast.forward(xs), fast.h, fast.backward(dhs), fast.dh] + fast.grads
    expected = _run_reference(params, xs, dhs)
    exact = _run_reference([p.astype(np.float64) for p in params],
                           xs.astype(np.float64), dhs.astype(np.float64))
    scale = outputs_scale(exact)
    for name, a, e, x in zip(OUTPUTS, actual, expected, exact):
        assert_close(a, e, name, exact=x, scale=scale)


def test_nan_and_inf_propagate_as_in_reference(rng):
    params = make_params(rng, 6, 5, np.float64)
    xs = rng.standard_normal((4, 7, 6))
    xs[0, 2, 1] = np.nan
    xs[1, 4, 3] = np.inf
    xs[2, 0, 0] = -np.inf
    dhs = rng.standard_normal((4, 7, 5))
    dhs[3, 5, 2] = np.nan
    fast, ref = fastrnn.TimeRNN(*params), reference.TimeRNN(*params)
    with np.errstate(invalid="ignore"):  # numpy's matmul warns on inf * 0, in both
        hs, dxs = fast.forward(xs), fast.backward(dhs)
        hs_ref, dxs_ref = ref.forward(xs), ref.backward(dhs)
    for a, r in [(hs, hs_ref), (dxs, dxs_ref), (fast.dh, ref.dh)] + list(zip(fast.grads, ref.grads)):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(r))
        np.testing.assert_array_equal(np.isinf(a), np.isinf(r))
        assert_close(a, r)
    assert np.isnan(hs[0, 2:]).all() and not np.isnan(hs[0, :2]).any()
    assert np.abs(hs[1, 4]).max() == 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N, T, D, H", [(20, 7, 30, 128), (3, 4, 5, 300), (1, 3, 2, 600)])
def test_large_per_step_products_take_the_numpy_path(N, T, D, H, dtype):
    """Above N*H*H = 262144 the time loop runs in Python on numpy's BLAS."""
    assert N * H * H > _tuning.NUMBA_STEP_MAX_MACS
    _assert_stateful_call_matches(N, T, D, H, dtype, seed=N * T + H)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("H", [1, 7, 8, 9, 16, 63, 64, 65])
def test_one_sequence_matches_reference(H, dtype):
    """N = 1 and H <= 64 take the time loops' own one-row product (8 rows of
    Wh at a time, then the rest), H = 65 OpenBLAS's; NaN spreads alike."""
    assert (_tuning.time_loop_path(1, H, 1) == "one_row") == (H <= 64)
    _assert_stateful_call_matches(1, 50, 5, H, dtype, seed=H)
    rng = np.random.default_rng(H)
    params = make_params(rng, 5, H, dtype, contractive=True)
    xs = rng.standard_normal((1, 9, 5)).astype(dtype)
    dhs = rng.standard_normal((1, 9, H)).astype(dtype)
    xs[0, 3, 0] = np.nan
    dhs[0, 1, 0] = np.nan
    fast = fastrnn.TimeRNN(*params)
    hs, dxs = fast.forward(xs), fast.backward(dhs)
    hs_ref, dxs_ref = _run_reference(params, xs, dhs)[::2][:2]
    for a, r in [(hs, hs_ref), (dxs, dxs_ref)]:
        np.testing.assert_array_equal(np.isnan(a), np.isnan(r))
        assert_close(a, r)
    assert np.isnan(hs[0, 3:]).all() and not np.isnan(hs[0, :3]).any()
    assert np.isnan(dxs[0, :4]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_row_loops_work_on_a_64_bytealigned_copy(dtype):
    """Their matrix, copied to a 64-byte boundary (numpy only promises 16)."""
    for shape in [(7, 9), (64, 64), (1, 1)]:
        a = np.arange(np.prod(shape), dtype=dtype).reshape(shape)
        for _ in range(8):  # fresh buffers land at different offsets
            out = aligned_copy(a)
            assert out.ctypes.data % 64 == 0 and out.flags.c_contiguous
            assert out.dtype == dtype and not np.shares_memory(out, a)
            np.testing.assert_array_equal(out, a)


def _assert_stateful_call_matches(N, T, D, H, dtype, seed):
    """One stateful forward+backward from a random state, against the reference."""
    rng = np.random.default_rng(seed)
    params = make_params(rng, D, H, dtype, contractive=True)
    xs = rng.standard_normal((N, T, D)).astype(dtype)
    dhs = rng.standard_normal((N, T, H)).astype(dtype)
    h0 = (0.5 * rng.standard_normal((N, H))).astype(dtype)
    fast = fastrnn.TimeRNN(*params, stateful=True)
    fast.set_state(h0)
    actual = [fast.forward(xs), fast.h, fast.backward(dhs), fast.dh] + fast.grads
    expected = _run_reference(params, xs, dhs, h0)
    exact = _run_reference([p.astype(np.float64) for p in params], xs.astype(np.float64),
                           dhs.astype(np.float64), h0.astype(np.float64))
    scale = outputs_scale(exact)
    for name, a, e, x in zip(OUTPUTS, actual, expected, exact):
        assert_close(a, e, name, exact=x, scale=scale)
