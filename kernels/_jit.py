"""The one place that holds the jit options of every fastrnn kernel."""

import warnings

import numba

# The safe fastmath subset: contraction to FMA, no signed zeros, reciprocal
# approximations of division. Deliberately *not* ``nnan``/``ninf``: NaN and
# inf must propagate exactly as in numpy. Not ``reassoc`` either: it would
# let LLVM undo the exact range reduction of ``exp`` (see REDUCE_FASTMATH).
FASTMATH = {"contract", "nsz", "arcp"}

# For reductions whose order does not matter (row max and sum, the dot
# products of ``products.times_transposed``): ``reassoc`` lets LLVM
# vectorise them. Only ``reduction_kernel`` uses it; functions
# inlined into such a kernel inherit it, so it calls tanh/exp through a
# separate (non-inlined) ``kernel``, whose instructions keep FASTMATH.
REDUCE_FASTMATH = FASTMATH | {"reassoc"}

JIT_OPTIONS = dict(
    nopython=True,
    nogil=True,          # kernels release the GIL
    cache=True,          # compile once per machine, not per process
    error_model="numpy",  # no zero-division checks: they block vectorisation
)


_warned_no_cache = False


def _jit(func, **options):
    """``numba.jit`` with ``JIT_OPTIONS``; without the on-disk cache if no
    cache folder is writable.

    Numba caches in ``NUMBA_CACHE_DIR`` when set, else next to the source
    (``__pycache__``), else in the user's cache folder (~/.cache/numba);
    when none can be written (say a read-only install and HOME=/nonexistent)
    it refuses ``cache=True`` at decoration, so ``import fastrnn`` would
    fail. Then compile in every process instead, and say so once.
    """
    global _warned_no_cache
    try:
        return numba.jit(**options, **JIT_OPTIONS)(func)
    except RuntimeError as e:
        if "cannot cache function" not in str(e):
            raise
    if not _warned_no_cache:
        _warned_no_cache = True
        warnings.warn("fastrnn: no writable folder for Numba's cache (the install folder "
                      "and the user cache are read-only); the kernels are compiled in "
                      "every process. Set NUMBA_CACHE_DIR to a writable folder to cache "
                      "them.", RuntimeWarning, stacklevel=3)
    return numba.jit(**options, **{**JIT_OPTIONS, "cache": False})(func)


def kernel(func):
    """Compile ``func`` with fastrnn's jit options (see ``JIT_OPTIONS``)."""
    return _jit(func, fastmath=FASTMATH)


def inline_kernel(func):
    """Like ``kernel``, but inlined into its callers at Numba-IR level.

    For small scalar helpers called inside hot loops: LLVM does not inline a
    Numba function call reliably, and a loop that still contains a call is
    not vectorised. The inlined code takes the caller's fastmath flags.

    Numba's cache checks only the source file of the cached function, so
    after editing a helper in one file (say ``tanh.py``), delete the cache
    (``kernels/__pycache__`` or ``NUMBA_CACHE_DIR``) before trusting its
    callers elsewhere (``rnn.py``). An install replaces every file at once.
    """
    return _jit(func, fastmath=FASTMATH, inline="always")


def reduction_kernel(func):
    """Like ``kernel``, with ``reassoc`` so that row reductions vectorise."""
    return _jit(func, fastmath=REDUCE_FASTMATH)
