"""A vectorisable tanh.

Numba lowers ``np.tanh`` on a scalar to a libm call that LLVM cannot
vectorise. ``tanh`` below uses only + * / and comparisons, so a loop that
calls it compiles to SIMD code.

Method: clamp x to [-20, 20] (beyond that tanh rounds to +-1 even in
float64), evaluate sinh and cosh of u = x / 64 by their Taylor series
(|u| <= 0.3125, so 7 terms each reach float64 precision), then double the
argument six times with sinh(2u) = 2 sinh(u) cosh(u) and
cosh(2u) = sinh(u)^2 + cosh(u)^2, and return sinh / cosh. The doubling
step never amplifies relative error (its condition number is
(1 - t^2) / (1 + t^2) <= 1), so rounding errors stay a few ulp.
Everything is computed in float64; float32 callers round the result once.

Measured error bound (``tests/test_tanh.py`` checks it): see ``ULP_BOUND``.
"""

from ._jit import inline_kernel, kernel

# Largest error, in units in the last place of the result's dtype, that the
# tests allow (measured maxima are lower; see the README).
ULP_BOUND = {"float32": 1, "float64": 10}

_CLAMP = 20.0
_TINY = 2.0**-27  # below this tanh(x) == x to float64 precision


@inline_kernel
def tanh(x):
    """tanh of a float64 scalar; NaN -> NaN, +-inf -> +-1, -0.0 -> -0.0."""
    c = x
    if c > _CLAMP:
        c = _CLAMP
    if c < -_CLAMP:
        c = -_CLAMP
    u = c * (1.0 / 64.0)
    u2 = u * u
    s = u * (1.0 + u2 * (1.0 / 6.0 + u2 * (1.0 / 120.0 + u2 * (
        1.0 / 5040.0 + u2 * (1.0 / 362880.0 + u2 * (
            1.0 / 39916800.0 + u2 * (1.0 / 6227020800.0)))))))
    ch = 1.0 + u2 * (0.5 + u2 * (1.0 / 24.0 + u2 * (1.0 / 720.0 + u2 * (
        1.0 / 40320.0 + u2 * (1.0 / 3628800.0 + u2 * (1.0 / 479001600.0))))))
    for _ in range(6):
        s, ch = 2.0 * s * ch, s * s + ch * ch
    r = s / ch
    if r > 1.0:  # rounding can give 1 + ulp near saturation
        r = 1.0
    if r < -1.0:
        r = -1.0
    if abs(x) < _TINY:
        r = x
    return r


@kernel
def tanh_array(x, out):
    """Elementwise ``out[i] = tanh(x[i])`` over 1-D arrays (for tests)."""
    for i in range(x.shape[0]):
        out[i] = tanh(x[i])
