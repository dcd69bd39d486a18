"""A vectorisable tanh, computed in the precision of its argument.

Numba lowers ``np.tanh`` on a scalar to a libm call that LLVM cannot
vectorise. ``tanh`` below uses only arithmetic, comparisons and the
vectorisable ``exp32``, so a loop that calls it compiles to SIMD code. A
float32 argument takes the float32 method, in float32 arithmetic (twice the
SIMD lanes, and fewer terms); a float64 argument the float64 method.

float32 method: for |x| < 0.55, x + x^3 P(x^2) with P of degree 4 (a
least-squares fit on Chebyshev nodes, so near minimax: 0.07 ulp from the
truncation); above, (1 - e) / (1 + e) with e = exp(-2|x|) <= 1/3 from
``exp32`` (no cancellation); then the sign of x is copied back. It reaches
+-1 from |x| = 8.66, where 1 - e rounds to 1 (exp32 clamps its own
argument, so no clamp is needed here).

float64 method: clamp x to [-20, 20] (beyond that tanh rounds to +-1 even in
float64), evaluate sinh and cosh of u = x / 64 by their Taylor series
(|u| <= 0.3125, so 7 terms each reach float64 precision), then double the
argument six times with sinh(2u) = 2 sinh(u) cosh(u) and
cosh(2u) = sinh(u)^2 + cosh(u)^2, and return sinh / cosh. The doubling
step never amplifies relative error (its condition number is
(1 - t^2) / (1 + t^2) <= 1), so rounding errors stay a few ulp.

Measured error bound (``tests/test_tanh.py`` checks it): see ``ULP_BOUND``.
"""

import numpy as np

from ._jit import inline_kernel, kernel
from .exp import exp32

# Largest error, in units in the last place of the result's dtype, that the
# tests allow (measured maxima are lower; see docs/api.md, "Numerics").
ULP_BOUND = {"float32": 2, "float64": 10}


@inline_kernel
def tanh(x):
    """tanh of a float32 or float64 scalar, in its precision; NaN -> NaN,
    +-inf -> +-1, -0.0 -> -0.0."""
    # Resolved when Numba compiles, per type; the other branch is pruned,
    # though only after it has been inlined (compile time, not run time).
    if isinstance(x, np.float32):
        return _tanh32(x)
    return _tanh64(x)


_F32_SMALL = np.float32(0.55)  # below: the polynomial; above: from exp
_P0 = np.float32(-0.3333333)
_P1 = np.float32(0.13333118)
_P2 = np.float32(-0.053910036)
_P3 = np.float32(0.021312607)
_P4 = np.float32(-0.0066155535)
_ONE32 = np.float32(1.0)
_MINUS_TWO32 = np.float32(-2.0)


@inline_kernel
def _tanh32(x):
    a = abs(x)
    u = a  # the polynomial's argument, kept <= 0.55 (NaN stays NaN)
    if u > _F32_SMALL:
        u = _F32_SMALL
    y = u * u
    r = u + u * y * (_P0 + y * (_P1 + y * (_P2 + y * (_P3 + y * _P4))))
    e = exp32(_MINUS_TWO32 * a)
    if a >= _F32_SMALL:
        r = (_ONE32 - e) / (_ONE32 + e)
    return np.copysign(r, x)


_CLAMP = 20.0
_TINY = 2.0**-27  # below this tanh(x) == x to float64 precision


@inline_kernel
def _tanh64(x):
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
