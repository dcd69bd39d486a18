"""The one place that holds the jit options of every fastrnn kernel."""

import numba

# The safe fastmath subset: contraction to FMA, reassociation (lets LLVM
# vectorise reductions), no signed zeros, reciprocal approximations of
# division. Deliberately *not* ``nnan``/``ninf``: NaN and inf must
# propagate exactly as in numpy.
FASTMATH = {"contract", "reassoc", "nsz", "arcp"}

JIT_OPTIONS = dict(
    nopython=True,
    nogil=True,          # kernels release the GIL
    cache=True,          # compile once per machine, not per process
    fastmath=FASTMATH,
    error_model="numpy",  # no zero-division checks: they block vectorisation
)


def kernel(func):
    """Compile ``func`` with fastrnn's jit options (see ``JIT_OPTIONS``)."""
    return numba.jit(**JIT_OPTIONS)(func)


def inline_kernel(func):
    """Like ``kernel``, but inlined into its callers at Numba-IR level.

    For small scalar helpers called inside hot loops: LLVM does not inline a
    Numba function call reliably, and a loop that still contains a call is
    not vectorised.
    """
    return numba.jit(inline="always", **JIT_OPTIONS)(func)
