"""Shared helpers: random problems and the tolerance policy (see README)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import settings

settings.register_profile("default", deadline=None, print_blob=True)
settings.load_profile("default")

# |actual - expected| <= RTOL * |expected| + ATOL * max(1, max|expected|)
TOLERANCE = {
    np.dtype(np.float32): (1e-4, 1e-5),
    np.dtype(np.float64): (1e-10, 1e-12),
}


def assert_close(actual, expected, name="array"):
    """Assert ``actual`` matches ``expected`` within the dtype's tolerance."""
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, (name, actual.shape, expected.shape)
    rtol, atol = TOLERANCE[np.dtype(actual.dtype)]
    scale = max(1.0, float(np.abs(expected).max())) if expected.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * scale,
                               err_msg=name, equal_nan=True)


def make_params(rng, D, H, dtype=np.float32):
    """Weights initialised as the book does (randn / sqrt(fan-in)), random b."""
    Wx = (rng.standard_normal((D, H)) / np.sqrt(D)).astype(dtype)
    Wh = (rng.standard_normal((H, H)) / np.sqrt(H)).astype(dtype)
    b = (0.1 * rng.standard_normal(H)).astype(dtype)
    return Wx, Wh, b


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
