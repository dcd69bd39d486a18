"""The vectorisable tanh: error bound in ulp over the whole float range."""

import numpy as np
import pytest

from fastrnn_kernels.tanh import ULP_BOUND, tanh_array


def _ulp_errors(x):
    assert np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant + 8, \
        "the oracle needs an extended-precision long double"
    out = np.empty_like(x)
    tanh_array(x, out)
    exact = np.tanh(x.astype(np.longdouble))
    ulp = np.spacing(np.abs(exact.astype(x.dtype))).astype(np.longdouble)
    return np.abs(out.astype(np.longdouble) - exact) / ulp


def _sample(dtype, rng):
    """Finite values spread over every exponent, plus dense samples where
    tanh bends (|x| < 20) and near zero."""
    if dtype == np.float32:
        # every 509th bit pattern: all exponents, both signs
        x = np.arange(0, 2**32, 509, dtype=np.uint64).astype(np.uint32).view(np.float32)
    else:
        x = rng.integers(0, 2**64, size=4_000_000, dtype=np.uint64).view(np.float64)
    x = x[np.isfinite(x)]
    dense = np.concatenate([rng.uniform(-21, 21, 2_000_000),
                            rng.uniform(-1, 1, 1_000_000),
                            rng.standard_normal(500_000) * 1e-4])
    return np.concatenate([x, dense.astype(dtype)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tanh_error_bound_over_whole_range(dtype):
    rng = np.random.default_rng(7)
    err = _ulp_errors(_sample(dtype, rng))
    assert err.max() <= ULP_BOUND[np.dtype(dtype).name]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tanh_special_values(dtype):
    info = np.finfo(dtype)
    x = np.array([np.inf, -np.inf, 0.0, -0.0, np.nan, info.max, -info.max,
                  info.tiny, -info.tiny, info.smallest_subnormal], dtype=dtype)
    out = np.empty_like(x)
    tanh_array(x, out)
    np.testing.assert_array_equal(out[:4], np.array([1, -1, 0, -0.0], dtype))
    assert np.signbit(out[3]) and not np.signbit(out[2])
    assert np.isnan(out[4])
    np.testing.assert_array_equal(out[5:], np.tanh(x[5:]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tanh_is_odd_and_bounded_on_a_grid(dtype):
    x = np.linspace(0, 25, 200_001).astype(dtype)
    out, neg = np.empty_like(x), np.empty_like(x)
    tanh_array(x, out)
    tanh_array(-x, neg)
    np.testing.assert_array_equal(neg, -out)
    assert np.all(np.abs(out) <= 1.0) and out[-1] == 1.0


def test_float32_tanh_is_monotone_across_its_two_methods():
    """Every float32 in [0.45, 0.65]: the polynomial below 0.55 and the
    exp-based formula above it join without a step down."""
    lo, hi = np.array([0.45, 0.65], np.float32).view(np.uint32)
    x = np.arange(lo, hi + 1, dtype=np.uint32).view(np.float32)
    out = np.empty_like(x)
    tanh_array(x, out)
    assert np.all(np.diff(out) >= 0)
