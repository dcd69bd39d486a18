"""``fix_malloc``: glibc's malloc thresholds, fixed for timings and training."""

from __future__ import annotations

import ctypes
import os

# glibc's malloc adapts its thresholds to the blocks freed so far, so whether
# a large array allocated again on every call reuses freed memory or is
# mapped anew (and page-faulted in, page by page) depends on the process's
# history. The book's RNN allocates H x H gradient arrays at every step: the
# reference's forward at chapter 6's shape took 17 ms in one process and 62
# ms in another; a language-model step at vocabulary 10,000 (batch 20, time
# 35) allocates its scores and their exps, 28 MB each, anew. ``fix_malloc``
# fixes the thresholds for a run: ``fastrnn bench`` and the benchmarks call
# it for reproducible timings, ``fastrnn train`` for a speed that does not
# depend on the process's history. docs/performance.md, "Methodology".
_M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_MAX = 32 << 20  # the largest glibc accepts on 64-bit machines


def fix_malloc() -> str:
    """Fix glibc's malloc thresholds in this process.

    Blocks up to 32 MiB then come from the heap, and freed memory is kept for
    reuse instead of being returned to the system, so no implementation pays
    page faults for memory it allocates again on every call, whatever the
    process did before. Without glibc nothing changes.

    Returns
    -------
    A line that says what was done (for a report's header or a log).
    """
    if not _glibc():
        return "malloc: not glibc's, left as it is (times may depend on the process's history)"
    mallopt = ctypes.CDLL("libc.so.6").mallopt
    done = [mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX) == 1,
            mallopt(_M_TRIM_THRESHOLD, 2**31 - 1) == 1]
    if not all(done):
        refused = " and ".join(name for name, ok in zip(("mmap", "trim"), done) if not ok)
        return (f"malloc: glibc's; mallopt refused the {refused} threshold (times may "
                "depend on the process's history)")
    line = ("malloc: glibc's, thresholds fixed (blocks up to 32 MiB from the heap, "
            "freed memory kept): no page faults for memory allocated again every call")
    if os.environ.get("LD_PRELOAD"):
        line += " (LD_PRELOAD is set: if it loads another malloc, that one is unchanged)"
    return line


def _glibc() -> bool:
    """Whether this process runs on glibc (not musl, macOS or Windows)."""
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (AttributeError, ValueError, OSError):  # no confstr, or no such name
        return False
