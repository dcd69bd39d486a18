"""The one place that holds the jit options of every fastrnn kernel."""

import numba

# The safe fastmath subset: contraction to FMA, no signed zeros, reciprocal
# approximations of division. Deliberately *not* ``nnan``/``ninf``: NaN and
# inf must propagate exactly as in numpy. Not ``reassoc`` either: it would
# let LLVM undo the exact range reduction of ``exp`` (see REDUCE_FASTMATH).
FASTMATH = {"contract", "nsz", "arcp"}

# For row reductions (max, sum) whose order does not matter: ``reassoc``
# lets LLVM vectorise them. Only ``reduction_kernel`` uses it; functions
# inlined into such a kernel inherit it, so it calls tanh/exp through a
# separate (non-inlined) ``kernel``, whose instructions keep FASTMATH.
REDUCE_FASTMATH = FASTMATH | {"reassoc"}

JIT_OPTIONS = dict(
    nopython=True,
    nogil=True,          # kernels release the GIL
    cache=True,          # compile once per machine, not per process
    error_model="numpy",  # no zero-division checks: they block vectorisation
)


def kernel(func):
    """Compile ``func`` with fastrnn's jit options (see ``JIT_OPTIONS``)."""
    return numba.jit(fastmath=FASTMATH, **JIT_OPTIONS)(func)


def inline_kernel(func):
    """Like ``kernel``, but inlined into its callers at Numba-IR level.

    For small scalar helpers called inside hot loops: LLVM does not inline a
    Numba function call reliably, and a loop that still contains a call is
    not vectorised. The inlined code takes the caller's fastmath flags.
    """
    return numba.jit(fastmath=FASTMATH, inline="always", **JIT_OPTIONS)(func)


def reduction_kernel(func):
    """Like ``kernel``, with ``reassoc`` so that row reductions vectorise."""
    return numba.jit(fastmath=REDUCE_FASTMATH, **JIT_OPTIONS)(func)
