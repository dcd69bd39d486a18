"""``fastrnn bench``: time fastrnn's ``TimeRNN`` against the numpy reference.

Both run forward+backward in the same process, alternating round by round,
so that drifting machine load hits both alike (DESIGN.md section 4). The
report is a table of times, speed-ups and the largest differences between
the two, under header lines that record the machine and BLAS setup.
"""

from __future__ import annotations

import datetime
import gc
import math
import os
import platform
import sys
import time
from dataclasses import dataclass
from typing import Callable, Sequence, TextIO

import numba
import numpy as np
import scipy
import scipy.linalg.cython_blas  # noqa: F401  (loads the BLAS Numba's np.dot uses)
import threadpoolctl

from . import reference
from .layers import TimeRNN
from .shapes import Shape

# Seconds of timing per shape: the full run stays well under a minute.
DEFAULT_BUDGET = 4.0
QUICK_BUDGET = 1.0
MIN_ROUNDS = 3
# Seconds of rest before each measurement. OpenBLAS threads spin for about
# 0.1 s after a call; numpy and scipy each have their own OpenBLAS, so without
# a rest each implementation shares the cores with the other's spinning
# threads (up to twice the time at the larger shapes on 2 cores).
PAUSE = 0.15
# Environment variables that slow OpenBLAS on these machines.
BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

Inputs = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@dataclass
class Result:
    """The measurements of one shape.

    Attributes
    ----------
    shape : the problem size.
    reference_s, fastrnn_s : best seconds per forward+backward.
    diff_hs : max |hs_fastrnn - hs_reference|.
    diff_grads : the same, max over dxs, dh, dWx, dWh and db.
    """

    shape: Shape
    reference_s: float
    fastrnn_s: float
    diff_hs: float
    diff_grads: float

    @property
    def speedup(self) -> float:
        """Reference time over fastrnn time."""
        return self.reference_s / self.fastrnn_s


def make_inputs(shape: Shape, dtype: np.dtype | str, seed: int) -> Inputs:
    """Return ``(Wx, Wh, b, xs, dhs)`` for ``shape``, initialised as the book does.

    Parameters
    ----------
    shape : the problem size (N, T, D, H).
    dtype : float32 or float64.
    seed : seed of the random generator; the same seed gives the same arrays.

    Returns
    -------
    Wx = randn(D, H)/sqrt(D), Wh = randn(H, H)/sqrt(H), b = zeros(H), and
    standard normal xs (N, T, D) and dhs (N, T, H), all of ``dtype``.
    """
    rng = np.random.default_rng(seed)
    n, t, d, h = shape.N, shape.T, shape.D, shape.H
    wx = (rng.standard_normal((d, h)) / np.sqrt(d)).astype(dtype)
    wh = (rng.standard_normal((h, h)) / np.sqrt(h)).astype(dtype)
    b = np.zeros(h, dtype=dtype)
    xs = rng.standard_normal((n, t, d)).astype(dtype)
    dhs = rng.standard_normal((n, t, h)).astype(dtype)
    return wx, wh, b, xs, dhs


def forward_backward(layer: TimeRNN | reference.TimeRNN, xs: np.ndarray,
                     dhs: np.ndarray) -> list[np.ndarray]:
    """Run one forward+backward of a ``TimeRNN``; return copies of its results.

    Returns
    -------
    [hs, dxs, dh, dWx, dWh, db]
    """
    hs = layer.forward(xs)
    dxs = layer.backward(dhs)
    return [hs, dxs, np.array(layer.dh)] + [g.copy() for g in layer.grads]


def time_calls(func: Callable[[], object], number: int) -> float:
    """Return the mean seconds of ``number`` calls of ``func``, with gc off."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            func()
        return (time.perf_counter() - start) / number
    finally:
        if gc_was_enabled:
            gc.enable()


def time_alternating(funcs: Sequence[Callable[[], object]], budget: float,
                     min_rounds: int = MIN_ROUNDS) -> list[float]:
    """Time several functions round by round; return the best time of each.

    Each round times every function once, in turn, over enough calls to
    last about ``budget / 20`` seconds (at most 20 ms), after a pause of
    ``budget / 8`` seconds (at most ``PAUSE``) that lets the BLAS threads
    of the previous function go idle. Rounds repeat until ``budget`` seconds
    have passed, and at least ``min_rounds`` times.

    Parameters
    ----------
    funcs : the functions, called without arguments; warm them up first.
    budget : seconds to spend in all.
    min_rounds : the fewest rounds.

    Returns
    -------
    The minimum over rounds of the mean seconds per call, one per function.
    """
    target = min(budget / 20, 0.02)
    pause = min(budget / 8, PAUSE)
    numbers = [max(1, int(target / max(time_calls(f, 1), 1e-9))) for f in funcs]
    best = [math.inf] * len(funcs)
    start = time.perf_counter()
    rounds = 0
    while rounds < min_rounds or time.perf_counter() - start < budget:
        for i, (func, number) in enumerate(zip(funcs, numbers)):
            time.sleep(pause)
            best[i] = min(best[i], time_calls(func, number))
        rounds += 1
    return best


def measure(shape: Shape, dtype: np.dtype | str, seed: int, budget: float) -> Result:
    """Compare and time the reference and fastrnn ``TimeRNN`` on one shape.

    Parameters
    ----------
    shape : the problem size.
    dtype : float32 or float64.
    seed : seed of the inputs (see ``make_inputs``).
    budget : seconds of timing for the two together.

    Returns
    -------
    The best times and the largest differences (see ``Result``).
    """
    wx, wh, b, xs, dhs = make_inputs(shape, dtype, seed)
    ref = reference.TimeRNN(wx.copy(), wh.copy(), b.copy())
    fast = TimeRNN(wx.copy(), wh.copy(), b.copy())
    # These first calls are also the warm-up (fastrnn compiles or loads its
    # Numba cache on its first call).
    ref_out = forward_backward(ref, xs, dhs)
    fast_out = forward_backward(fast, xs, dhs)
    diffs = [float(np.max(np.abs(f - r), initial=0.0)) for f, r in zip(fast_out, ref_out)]
    ref_s, fast_s = time_alternating(
        [lambda: (ref.forward(xs), ref.backward(dhs)),
         lambda: (fast.forward(xs), fast.backward(dhs))], budget)
    return Result(shape, ref_s, fast_s, diffs[0], max(diffs[1:]))


def _blas_line(info: dict) -> str:
    """One line about one BLAS library from ``threadpoolctl.threadpool_info()``."""
    path = info.get("filepath", "")
    owner = os.path.basename(os.path.dirname(path)).removesuffix(".libs") or "?"
    details = ", ".join(str(info[k]) for k in ("architecture", "threading_layer")
                        if info.get(k))
    return (f"BLAS ({owner}): {info.get('internal_api')} {info.get('version')}"
            f" [{details}], {info.get('num_threads')} threads,"
            f" {os.path.basename(path)}")


def header_lines(dtype: np.dtype | str, seed: int, budget: float) -> list[str]:
    """Return the lines that describe the run, the machine and its BLAS."""
    lines = [
        f"fastrnn bench: TimeRNN forward+backward, {np.dtype(dtype).name}, seed {seed}",
        f"date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, numba {numba.__version__}",
        f"CPUs: {os.cpu_count()}",
    ]
    blas = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    lines += [_blas_line(i) for i in blas] or ["BLAS: none found by threadpoolctl"]
    lines.append("(Numba's np.dot calls scipy's BLAS; the reference calls numpy's)")
    lines += [f"{name}: {os.environ.get(name, 'unset')}" for name in BLAS_ENV]
    lines += [
        f"timing: best of >= {MIN_ROUNDS} rounds, the two alternating, "
        f"about {budget:g} s per shape, a {min(budget / 8, PAUSE):g} s rest "
        "before each measurement (lets the other BLAS's threads go idle)",
        "max|dhs|: max |hs_fastrnn - hs_reference|; max|dgrad|: the same, "
        "max over dxs, dh, dWx, dWh, db (absolute differences)",
    ]
    return lines


TABLE_HEADER = (f"{'N':>4} {'T':>5} {'D':>4} {'H':>4}  {'label':<26}"
                f"{'reference ms':>13}{'fastrnn ms':>12}{'speed-up':>10}"
                f"{'roofline':>10}{'max|dhs|':>10}{'max|dgrad|':>12}")


def gemm_peak(dtype: np.dtype | str, n: int = 1536, repeats: int = 3) -> float:
    """This machine's GEMM speed in flop/s: the best of ``repeats`` n x n
    products in ``dtype`` with numpy (all its BLAS threads)."""
    a = np.ones((n, n), dtype=dtype)
    out = np.empty_like(a)
    np.matmul(a, a, out=out)
    best = min(time_calls(lambda: np.matmul(a, a, out=out), 1) for _ in range(repeats))
    return 2.0 * n ** 3 / best


def format_row(result: Result, peak: float) -> str:
    """Return one table row for ``result``, aligned with ``TABLE_HEADER``.

    The roofline column is the share of the GEMM ``peak`` that fastrnn
    reaches: 6*N*T*(D+H)*H flops over its time.
    """
    s = result.shape
    share = s.flops() / result.fastrnn_s / peak
    return (f"{s.N:>4} {s.T:>5} {s.D:>4} {s.H:>4}  {s.label:<26}"
            f"{result.reference_s * 1e3:>13.3f}{result.fastrnn_s * 1e3:>12.3f}"
            f"{result.speedup:>10.2f}{share:>9.0%} "
            f"{result.diff_hs:>10.1e}{result.diff_grads:>12.1e}")


def run_bench(shapes: Sequence[Shape], dtype: np.dtype | str = "float32", seed: int = 0,
              budget: float = DEFAULT_BUDGET, out: TextIO | None = None) -> list[Result]:
    """Measure every shape and print the header and table, row by row.

    Parameters
    ----------
    shapes : the problem sizes, e.g. ``fastrnn.shapes.BENCH_SHAPES``.
    dtype : float32 or float64.
    seed : seed of the inputs.
    budget : seconds of timing per shape.
    out : where to print; ``sys.stdout`` if None.

    Returns
    -------
    One ``Result`` per shape.
    """
    out = sys.stdout if out is None else out
    # Load fastrnn's kernels (and so every BLAS) before threadpoolctl looks.
    measure(Shape(1, 1, 1, 1, "warm-up"), dtype, seed, budget=0.0)
    peak = gemm_peak(dtype)
    for line in header_lines(dtype, seed, budget):
        print(line, file=out)
    print(f"GEMM peak ({np.dtype(dtype).name}, numpy, 1536^3, this run): "
          f"{peak / 1e9:.0f} GFLOP/s; roofline: 6*N*T*(D+H)*H flops at that peak "
          "over fastrnn's time", file=out)
    print(file=out)
    print(TABLE_HEADER, file=out, flush=True)
    results = []
    for shape in shapes:
        results.append(measure(shape, dtype, seed, budget))
        print(format_row(results[-1], peak), file=out, flush=True)
    return results
