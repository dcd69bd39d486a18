"""The vectorisable sigmoid: error bound in ulp over the whole float range."""

import numpy as np
import pytest

from fastrnn_kernels.sigmoid import ULP_BOUND, sigmoid_array


def _ulp_errors(x):
    assert np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant + 8, \
        "the oracle needs an extended-precision long double"
    out = np.empty_like(x)
    sigmoid_array(x, out)
    with np.errstate(over="ignore"):
        exact = 1 / (1 + np.exp(-x.astype(np.longdouble)))
    ulp = np.spacing(exact.astype(x.dtype)).astype(np.longdouble)
    # Below the smallest normal the result's ulp is the subnormal spacing.
    ulp = np.maximum(ulp, np.longdouble(np.finfo(x.dtype).smallest_subnormal))
    return np.abs(out.astype(np.longdouble) - exact) / ulp


def _sample(dtype, rng):
    """Finite values over every exponent, plus dense samples where the
    sigmoid bends (|x| < 120) and near zero."""
    if dtype == np.float32:
        x = np.arange(0, 2**32, 509, dtype=np.uint64).astype(np.uint32).view(np.float32)
    else:
        x = rng.integers(0, 2**64, size=4_000_000, dtype=np.uint64).view(np.float64)
    x = x[np.isfinite(x)]
    dense = np.concatenate([rng.uniform(-120, 120, 2_000_000),
                            rng.uniform(-8, 8, 1_000_000),
                            rng.standard_normal(500_000) * 1e-4])
    return np.concatenate([x, dense.astype(dtype)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_error_bound_over_whole_range(dtype):
    err = _ulp_errors(_sample(dtype, np.random.default_rng(8)))
    assert err.max() <= ULP_BOUND[np.dtype(dtype).name]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_special_values(dtype):
    x = np.array([np.inf, -np.inf, 0.0, -0.0, np.nan], dtype=dtype)
    out = np.empty_like(x)
    sigmoid_array(x, out)
    np.testing.assert_array_equal(out[:4], np.array([1, 0, 0.5, 0.5], dtype))
    assert np.isnan(out[4])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_symmetric_monotone_and_bounded_on_a_grid(dtype):
    x = np.linspace(0, 120, 400_001).astype(dtype)
    out, neg = np.empty_like(x), np.empty_like(x)
    sigmoid_array(x, out)
    sigmoid_array(-x, neg)
    # sigmoid(-x) = 1 - sigmoid(x), to the rounding of the subtraction
    np.testing.assert_allclose(neg + out, 1, rtol=0, atol=2 * np.finfo(dtype).eps)
    assert np.all(np.diff(out) >= 0) and np.all(np.diff(neg) <= 0)
    assert np.all((out >= 0.5) & (out <= 1)) and np.all((neg >= 0) & (neg <= 0.5))
