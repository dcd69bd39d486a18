"""A vectorisable logistic sigmoid, computed in the precision of its argument.

sigmoid(x) = 1 / (1 + e^-x). With e = exp(-|x|) <= 1 (``exp_nonpositive``,
so no overflow and no libm call), it is 1 / (1 + e) for x >= 0 and
e / (1 + e) for x < 0: one exp, one add, one division, a select; no
cancellation anywhere. sigmoid(+inf) = 1, sigmoid(-inf) = 0, NaN -> NaN.

Measured error bound (``tests/test_sigmoid.py`` checks it): ``ULP_BOUND``.
"""

from ._jit import inline_kernel, kernel
from .exp import exp_nonpositive
from .scalars import one

# Largest error, in units in the last place of the result's dtype, that the
# tests allow: exp's bound, one rounding of 1 + e, one of the division.
ULP_BOUND = {"float32": 3, "float64": 3}


@inline_kernel
def sigmoid(x):
    """1 / (1 + exp(-x)) of a float32 or float64 scalar, in its precision."""
    u = one(x)
    e = exp_nonpositive(-abs(x))
    num = e
    if x >= 0:
        num = u
    return num / (u + e)


@kernel
def sigmoid_array(x, out):
    """Elementwise ``out[i] = sigmoid(x[i])`` over 1-D arrays (for tests)."""
    for i in range(x.shape[0]):
        out[i] = sigmoid(x[i])
