"""Shared helpers: random problems and the tolerance policy (docs/api.md)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import settings

# "default": what CI runs (fuzz tests try 100 examples each). "fuzz": the
# long run of docs/reliability.md: pytest --hypothesis-profile=fuzz
settings.register_profile("default", deadline=None, print_blob=True)
settings.register_profile("fuzz", deadline=None, print_blob=True, max_examples=10_000)
settings.load_profile("default")

# Direct comparison with the reference of the same dtype:
# |actual - expected| <= RTOL * |expected| + ATOL * max(1, max|expected|)
TOLERANCE = {
    np.dtype(np.float32): (1e-4, 1e-5),
    np.dtype(np.float64): (1e-9, 1e-9),
}
# float32 against the exact result (the reference run in float64 on the same
# float32 inputs): fastrnn's error is at most EXACT_FACTOR times the float32
# reference's own error, or at most EXACT_FLOOR * max(1, the largest |exact|
# among all outputs of the call). This stays meaningful where rounding
# errors are amplified (e.g. H = 1 and |Wh| > 1 over hundreds of steps),
# where any fixed tolerance is either too tight or too loose.
EXACT_FACTOR = 4.0
EXACT_FLOOR = 5e-5


def outputs_scale(arrays):
    """The largest magnitude among ``arrays`` (at least 1)."""
    return max([1.0] + [_scale(a) for a in arrays])


def _scale(a):
    """max(1, the largest finite |a|)."""
    finite = np.abs(a[np.isfinite(a)])
    return max(1.0, float(finite.max())) if finite.size else 1.0


def assert_close(actual, expected, name="array", exact=None, scale=None):
    """Assert ``actual`` matches the reference's ``expected`` (see above).

    For float32 with ``exact`` given, use the error-against-exact criterion,
    with ``scale`` the largest |exact| among the call's outputs.
    """
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, (name, actual.shape, expected.shape)
    assert actual.dtype == expected.dtype, (name, actual.dtype, expected.dtype)
    if exact is not None and actual.dtype == np.float32 and actual.size:
        with np.errstate(invalid="ignore"):
            err = float(np.abs(actual - exact).max())
            err_ref = float(np.abs(expected - exact).max())
        bound = max(EXACT_FACTOR * err_ref, EXACT_FLOOR * max(1.0, scale or 0.0, _scale(exact)))
        assert err <= bound, (f"{name}: error {err:.3g} against the exact result; "
                              f"the reference's is {err_ref:.3g}, bound {bound:.3g}")
        return
    rtol, atol = TOLERANCE[np.dtype(actual.dtype)]
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * _scale(expected),
                               err_msg=name, equal_nan=True)


def make_params(rng, D, H, dtype=np.float32, contractive=False, gates=1):
    """Weights initialised as the book does (randn / sqrt(fan-in)), random b,
    for a cell of ``gates`` H-wide blocks (1 RNN, 4 LSTM, 3 GRU).

    With ``contractive``, Wh is scaled to spectral norm <= 0.95 so rounding
    errors are not amplified over time: a well-conditioned problem, on which
    two float32 implementations can be compared (on a chaotic one, even the
    float32 and float64 reference disagree in the first digit).
    """
    Wx = (rng.standard_normal((D, gates * H)) / np.sqrt(D)).astype(dtype)
    Wh = rng.standard_normal((H, gates * H)) / np.sqrt(H)
    if contractive:
        Wh *= min(1.0, 0.95 / np.linalg.norm(Wh, 2))
    Wh = Wh.astype(dtype)
    b = (0.1 * rng.standard_normal(gates * H)).astype(dtype)
    return Wx, Wh, b


def relayout(a, layout, other):
    """Return ``a``'s values in a differently laid out (or typed) array."""
    if layout == "F":
        return np.asfortranarray(a)
    if layout == "strided":
        big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
        big[..., ::2] = a
        return big[..., ::2]
    if layout == "time-major":  # a (N, T, .) view of a (T, N, .) array
        return np.ascontiguousarray(a.swapaxes(0, 1)).swapaxes(0, 1)
    if layout == "other-float-in":
        return a.astype(other)
    if layout == "float16-in":
        return a.astype(np.float16)
    return a


def layer_arrays(layer):
    """A layer's params and grads, and its state arrays (h, c, dh) where set."""
    arrays = [a for a in list(layer.params) + list(layer.grads) if a is not None]
    return arrays + [getattr(layer, name) for name in ("h", "c", "dh")
                     if getattr(layer, name, None) is not None]


def snapshot_arrays(layer):
    """Each of ``layer_arrays(layer)`` with a copy of its values."""
    return [(a, a.copy()) for a in layer_arrays(layer)]


def assert_arrays_unchanged(layer, snapshot):
    """``layer`` holds the very arrays of ``snapshot``, with the same values
    (what a refused call must leave)."""
    now = layer_arrays(layer)
    assert len(now) == len(snapshot)
    for a, (orig, values) in zip(now, snapshot):
        assert a is orig
        np.testing.assert_array_equal(a, values)


def numeric_grad(f, a, eps=1e-6):
    """Central differences of the scalar ``f()`` with respect to ``a`` (in place)."""
    grad = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        old = a[i]
        a[i] = old + eps
        up = f()
        a[i] = old - eps
        down = f()
        a[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def chain_text(path, words, lines, per_line=8, seed=0):
    """Write ``lines`` lines of ``per_line`` words to ``path``: a chain in
    which each word is followed by one of the next three of ``words`` (a
    text a small model learns to predict better than a uniform guess, as
    ``fastrnn train`` requires; uniformly random words allow no better)."""
    rng = np.random.default_rng(seed)
    i, text = 0, []
    for _ in range(lines):
        line = []
        for _ in range(per_line):
            i = (i + int(rng.integers(1, 4))) % len(words)
            line.append(words[i])
        text.append(" ".join(line))
    path.write_text("\n".join(text) + "\n")
    return path
