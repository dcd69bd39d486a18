"""A vectorisable exp of non-positive numbers, for the softmax and tanh.

Numba lowers ``np.exp`` on a scalar to a libm call that LLVM cannot
vectorise; ``exp_nonpositive`` below uses only + * and bit operations, in
the precision of its argument (float32 or float64). Method: the classic
range reduction x = n ln2 + r with |r| <= ln2/2 (Cody-Waite, ln2 split in
two parts), e^r by its Taylor series (to r^7 in float32, r^13 in float64),
and 2^n built from its bits in two halves (each a normal number <= 1, so
their product is right in any order of multiplication, fastmath ``reassoc``
included, and subnormal results come out right). Its callers only need
x <= 0 (the softmax's scores minus their maximum, tanh's -2|x|); positive
x are outside the contract.

Measured error bound (``tests/test_exp.py`` checks it): ``ULP_BOUND``.
"""

import numpy as np

from ._jit import inline_kernel, kernel

ULP_BOUND = {"float32": 1, "float64": 2}

_LOG2E = 1.4426950408889634
_LN2_HI = 0.693147180369123816490  # ln 2 with its low bits zero: n * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_LO = -745.1332191019412  # below: exp underflows to 0


@inline_kernel
def exp_nonpositive(x):
    """exp of a float32 or float64 scalar x <= 0, in its precision;
    NaN -> NaN, -inf -> 0."""
    if isinstance(x, np.float32):  # resolved when Numba compiles, per type
        return exp32(x)
    return exp64(x)


# fdlibm's float32 split of ln 2: _LN2_HI32 has 15 significant bits, so
# n * _LN2_HI32 is exact for the |n| <= 159 used here.
_LOG2E32 = np.float32(_LOG2E)
_LN2_HI32 = np.float32(0.693145751953125)
_LN2_LO32 = np.float32(1.4286068e-06)
_LO32 = np.float32(-110.0)  # exp underflows to 0 below -103.98; this gives exactly 0
_HALF32 = np.float32(0.5)
_ONE32 = np.float32(1.0)
_C3, _C4, _C5, _C6, _C7 = (np.float32(1 / 6), np.float32(1 / 24), np.float32(1 / 120),
                           np.float32(1 / 720), np.float32(1 / 5040))


@inline_kernel
def exp32(x):
    """``exp_nonpositive`` of a float32, in float32 arithmetic (callers that
    know their type call it directly: less for Numba to compile)."""
    c = x
    if not c >= _LO32:  # also NaN, so that none reaches the int conversion
        c = _LO32
    n = np.floor(c * _LOG2E32 + _HALF32)
    r = (c - n * _LN2_HI32) - n * _LN2_LO32
    p = _ONE32 + r * (_ONE32 + r * (_HALF32 + r * (_C3 + r * (_C4 + r * (
        _C5 + r * (_C6 + r * _C7))))))
    k = np.int32(n)
    k1 = k // np.int32(2)
    s1 = np.int32((k1 + np.int32(127)) << np.int32(23)).view(np.float32)
    s2 = np.int32((k - k1 + np.int32(127)) << np.int32(23)).view(np.float32)
    y = p * s1 * s2
    if x != x:  # NaN in, NaN out
        y = x
    return y


@inline_kernel
def exp64(x):
    """``exp_nonpositive`` of a float64."""
    c = x
    if not c >= _LO:  # also NaN, so that none reaches the int conversion
        c = _LO
    n = np.floor(c * _LOG2E + 0.5)
    r = (c - n * _LN2_HI) - n * _LN2_LO
    p = 1.0 + r * (1.0 + r * (1.0 / 2 + r * (1.0 / 6 + r * (1.0 / 24 + r * (
        1.0 / 120 + r * (1.0 / 720 + r * (1.0 / 5040 + r * (1.0 / 40320 + r * (
            1.0 / 362880 + r * (1.0 / 3628800 + r * (1.0 / 39916800 + r * (
                1.0 / 479001600 + r * (1.0 / 6227020800)))))))))))))
    k = np.int64(n)
    k1 = k // 2
    s1 = np.int64((k1 + 1023) << 52).view(np.float64)
    s2 = np.int64((k - k1 + 1023) << 52).view(np.float64)
    y = p * s1 * s2
    if x != x:  # NaN in, NaN out
        y = x
    return y


@kernel
def exp_array(x, out):
    """Elementwise ``out[i] = exp(x[i])`` for x <= 0, over 1-D arrays (for tests)."""
    for i in range(x.shape[0]):
        out[i] = exp_nonpositive(x[i])
