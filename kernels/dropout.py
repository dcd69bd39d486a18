"""Inverted dropout in one pass: the output and the mask from the uniform draws.

The book computes ``flg = draws > ratio``, ``mask = flg.astype(np.float32) *
scale`` and ``xs * mask``: three full-size temporaries and four passes over
memory. Here one loop reads each draw and input once and writes the mask and
the output, with the same float operations in the input's dtype: for
float32 inputs (the book's) the results are bit-identical to the book's; for
float64 the mask and scale are float64 (the book's float32 mask would round
the scale).

All arrays are flat (1-D) and C-contiguous, of equal length (checked by
``fastrnn.dropout`` before the call); outputs come last.
"""

from ._jit import kernel


@kernel
def dropout_forward(xs, draws, ratio, scale, out, mask):
    """``mask = (draws > ratio) * scale`` and ``out = xs * mask``.

    ``xs``, ``out`` and ``mask`` share one float dtype, that of ``scale``;
    ``draws`` and ``ratio`` are float64 (numpy's ``rand``). ``mask`` may be
    ``draws`` itself when both are float64: each draw is read before its
    mask element is written.
    """
    zero = scale - scale
    for k in range(xs.shape[0]):
        m = scale if draws[k] > ratio else zero
        mask[k] = m
        # The product even where m is 0, as the book's xs * mask: NaN and
        # inf inputs give NaN there, not 0.
        out[k] = xs[k] * m
