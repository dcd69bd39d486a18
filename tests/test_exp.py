"""The vectorisable exp of the softmax: error bound in ulp over x <= 0."""

import numpy as np
import pytest

from fastrnn_kernels.exp import ULP_BOUND, exp_array


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_error_bound_over_the_nonpositive_range(dtype):
    rng = np.random.default_rng(3)
    x = np.concatenate([-rng.uniform(0, 746, 2_000_000), -rng.uniform(0, 30, 1_000_000),
                        -rng.uniform(0, 1e-3, 200_000), -np.exp(rng.uniform(-700, 6, 200_000)),
                        ]).astype(dtype)
    out = np.empty_like(x)
    exp_array(x, out)
    exact = np.exp(x.astype(np.longdouble))
    nonzero = exact.astype(dtype) != 0
    ulp = np.spacing(exact.astype(dtype)).astype(np.longdouble)
    err = np.abs(out.astype(np.longdouble) - exact) / ulp
    assert err[nonzero].max() <= ULP_BOUND[np.dtype(dtype).name]
    assert np.all(out[~nonzero] <= np.spacing(dtype(0)))  # underflow: 0 or the least subnormal


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_special_values(dtype):
    x = np.array([0.0, -0.0, -np.inf, np.nan, -1e30, -745.2, np.log(np.finfo(dtype).tiny)],
                 dtype=dtype)
    out = np.empty_like(x)
    exp_array(x, out)
    np.testing.assert_array_equal(out[:3], [1, 1, 0])
    assert np.isnan(out[3]) and out[4] == 0 and out[5] == 0
    np.testing.assert_allclose(out[6], np.exp(np.longdouble(x[6])), rtol=2 * np.finfo(dtype).eps)
