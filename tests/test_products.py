"""fastrnn's own small-batch product (``kernels/products.py``) against
numpy's product in float64."""

from __future__ import annotations

import numpy as np
import pytest

from fastrnn_kernels.products import times_transposed, transposed

# Row and column counts around the 4 x 4 blocks (whole blocks, partial
# ones, fewer than one); dot lengths from 1 to past a few SIMD vectors.
ROWS = [1, 2, 3, 4, 5, 7, 20]
COLS = [1, 3, 4, 5, 13, 64]
DOTS = [1, 3, 17, 128]


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 2e-6), (np.float64, 1e-14)])
@pytest.mark.parametrize("k", DOTS)
@pytest.mark.parametrize("m", ROWS)
def test_times_transposed_matches_numpy(m, k, dtype, rtol):
    rng = np.random.default_rng(m * 1000 + k)
    for n in COLS:
        a = rng.standard_normal((m, k)).astype(dtype)
        bt = rng.standard_normal((n, k)).astype(dtype)
        out = np.full((m, n), np.nan, dtype)
        times_transposed(a, bt, out)
        exact = a.astype(np.float64) @ bt.astype(np.float64).T
        # Each element is a sum of k products: its error is bounded by the
        # sum of their magnitudes, not by the (possibly cancelled) result.
        bound = rtol * k * (np.abs(a).astype(np.float64) @ np.abs(bt).astype(np.float64).T)
        assert np.all(np.abs(out - exact) <= bound), (m, n, k)


@pytest.mark.parametrize("m, k, n", [(0, 3, 4), (3, 0, 4), (3, 4, 0), (0, 0, 0)])
def test_times_transposed_of_empty_operands_is_numpys(m, k, n):
    a, bt = np.ones((m, k), np.float32), np.ones((n, k), np.float32)
    out = np.full((m, n), np.nan, np.float32)
    times_transposed(a, bt, out)
    np.testing.assert_array_equal(out, a @ bt.T)


def test_times_transposed_spreads_nan_and_inf_like_numpy():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((6, 9)).astype(np.float32)
    bt = rng.standard_normal((7, 9)).astype(np.float32)
    a[1, 4] = np.nan
    a[5, 0] = np.inf
    bt[2, 8] = -np.inf
    out = np.empty((6, 7), np.float32)
    times_transposed(a, bt, out)
    with np.errstate(invalid="ignore"):
        expected = a.astype(np.float64) @ bt.astype(np.float64).T
    np.testing.assert_array_equal(np.isnan(out), np.isnan(expected))
    np.testing.assert_array_equal(np.isinf(out), np.isinf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(out[finite], expected[finite], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(1, 1), (3, 17), (16, 16), (33, 130), (100, 400)])
def test_transposed_is_a_contiguous_copy_of_the_transpose(shape):
    a = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    t = transposed(a)
    assert t.flags.c_contiguous and not np.shares_memory(t, a)
    np.testing.assert_array_equal(t, a.T)
