"""Measuring for ``fastrnn bench`` and the benchmarks: a layer of
``fastrnn.registry`` against its numpy reference on one shape, the machine's
GEMM peak and the start-up costs.

fastrnn and the reference run in the same process, alternating round by
round, so that drifting machine load hits both alike. A layer is known by
its ``fastrnn bench --layer`` key (``Shape.layer``; see ``shapes.kind``).
"""

from __future__ import annotations

import gc
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .shapes import Shape, kind

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

Inputs = tuple[np.ndarray, ...]


@dataclass
class Result:
    """The measurements of one shape.

    Attributes
    ----------
    shape : the problem size.
    reference_s, fastrnn_s : best seconds per call (forward+backward, or
        forward alone).
    diff_hs : max |hs_fastrnn - hs_reference|.
    diff_grads : the same, max over dxs, dh, dWx, dWh and db.
    peak_bytes : the most memory numpy held during one fastrnn call beyond
        its inputs (tracemalloc).
    needed_bytes : what must exist at that moment (``needed_bytes``).
    torch_s : best seconds per call of PyTorch's layer, or None.
    forward_only : True if forward alone was timed (``--forward``, or a
        stateful row).
    """

    shape: Shape
    reference_s: float
    fastrnn_s: float
    diff_hs: float
    diff_grads: float
    peak_bytes: int
    needed_bytes: int
    torch_s: float | None = None
    forward_only: bool = False

    @property
    def speedup(self) -> float:
        """Reference time over fastrnn time."""
        return self.reference_s / self.fastrnn_s

    @property
    def speedup_vs_torch(self) -> float | None:
        """PyTorch time over fastrnn time, or None without PyTorch."""
        return None if self.torch_s is None else self.torch_s / self.fastrnn_s


def make_inputs(shape: Shape, dtype: np.dtype | str, seed: int) -> Inputs:
    """Return ``(Wx, Wh, b, xs, dhs)`` for ``shape``, initialised as the book does
    (``(Wx1, Wh1, b1, Wx2, Wh2, b2, xs, dhs)`` for a TimeBiLSTM).

    Parameters
    ----------
    shape : the problem size (N, T, D, H) and its layer.
    dtype : float32 or float64.
    seed : seed of the random generator; the same seed gives the same arrays.

    Returns
    -------
    Per direction, with G the layer's gate blocks (1, 4 or 3):
    Wx = randn(D, G*H)/sqrt(D), Wh = randn(H, G*H)/sqrt(H), b = zeros(G*H)
    (the book's ``Rnnlm`` init); then standard normal xs (N, T, D) and dhs
    (N, T, directions*H); all of ``dtype``. For a TimeRNN, the very arrays
    of before the other layers came.
    """
    rng = np.random.default_rng(seed)
    n, t, d, h = shape.N, shape.T, shape.D, shape.H
    directions = kind(shape.layer).directions
    width = shape.gates // directions * h
    params = []
    for _ in range(directions):
        params.append((rng.standard_normal((d, width)) / np.sqrt(d)).astype(dtype))
        params.append((rng.standard_normal((h, width)) / np.sqrt(h)).astype(dtype))
        params.append(np.zeros(width, dtype=dtype))
    xs = rng.standard_normal((n, t, d)).astype(dtype)
    dhs = rng.standard_normal((n, t, directions * h)).astype(dtype)
    return (*params, xs, dhs)


def make_layer(shape: Shape, params: Sequence[np.ndarray], implementation: str) -> Any:
    """Return ``shape``'s layer ("fastrnn" or "reference") on copies of ``params``,
    stateful if the shape is."""
    k = kind(shape.layer)
    cls = k.fastrnn if implementation == "fastrnn" else k.reference
    return cls(*[p.copy() for p in params], stateful=shape.stateful)


def _dh(layer: Any) -> list[np.ndarray]:
    """The gradients of the initial states a backward leaves: ``dh``, or the
    two directions' of a TimeBiLSTM."""
    if hasattr(layer, "forward_lstm"):
        return [np.array(layer.forward_lstm.dh), np.array(layer.backward_lstm.dh)]
    return [np.array(layer.dh)]


def forward_backward(layer: Any, xs: np.ndarray, dhs: np.ndarray) -> list[np.ndarray]:
    """Run one forward+backward of a time layer; return copies of its results.

    Returns
    -------
    [hs, dxs, dh (one per direction), *grads]
    """
    hs = np.array(layer.forward(xs))
    dxs = layer.backward(dhs)
    return [hs, dxs] + _dh(layer) + [g.copy() for g in layer.grads]


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


def peak_memory(func: Callable[[], object]) -> int:
    """Return the most bytes numpy (and Python) held at once during ``func()``
    beyond what was held before it (tracemalloc)."""
    gc.collect()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        func()
        return tracemalloc.get_traced_memory()[1] - start
    finally:
        if not was_tracing:
            tracemalloc.stop()


def needed_bytes(shape: Shape, dtype: np.dtype | str, forward_only: bool) -> int:
    """Bytes of the arrays a call must hold at once.

    Per direction, for every sample and step (N*T of each): hs (H); what
    the layer keeps for its backward beyond hs: the gate activations (G*H)
    when there is more than one gate block, and the cell's saved state (H):
    every c for an LSTM, every r * h_prev for a GRU, none for an RNN. Per
    sample, the last h (and the last c of an LSTM) the layer keeps.
    Forward+backward adds, per direction, the gradients of the gate inputs
    (G*H per sample and step; for an RNN the gradients before tanh), and dxs
    (D per sample and step, once). A TimeBiLSTM also returns its (N, T, 2H)
    output beside the two hs.

    So for a TimeLSTM (G = 4): forward 6H per sample and step (hs, the
    gates f, g, i, o, c) and 2H per sample (h, c); forward+backward adds
    4H + D per sample and step (the gate gradients and dxs).
    """
    k = kind(shape.layer)
    h, g = shape.H, k.cell.gates
    per_step = h + (g * h if g > 1 else 0) + k.cell.saved * h
    if not forward_only:
        per_step += g * h
    per_sample = (1 + k.cell.has_c) * h
    per_step *= k.directions
    per_sample *= k.directions
    if k.directions > 1:
        per_step += k.directions * h
    if not forward_only:
        per_step += shape.D
    return (shape.N * shape.T * per_step + shape.N * per_sample) * np.dtype(dtype).itemsize


def measure(shape: Shape, dtype: np.dtype | str, seed: int, budget: float,
            forward_only: bool = False) -> Result:
    """Compare and time the reference and fastrnn layer of ``shape.layer`` on one shape.

    Parameters
    ----------
    shape : the problem size and layer. A ``stateful`` shape times a
        stateful layer's forward alone, call after call (text generation).
    dtype : float32 or float64.
    seed : seed of the inputs (see ``make_inputs``).
    budget : seconds of timing for the two together.
    forward_only : time forward alone (inference) instead of forward+backward.

    Returns
    -------
    The best times, the largest differences (of the first forward+backward,
    from zero states) and fastrnn's peak memory (see ``Result``;
    ``torch_s`` is left None).
    """
    forward_only = forward_only or shape.stateful
    *params, xs, dhs = make_inputs(shape, dtype, seed)
    ref = make_layer(shape, params, "reference")
    fast = make_layer(shape, params, "fastrnn")
    # These first calls are also the warm-up (fastrnn compiles or loads its
    # Numba cache on its first call).
    ref_out = forward_backward(ref, xs, dhs)
    fast_out = forward_backward(fast, xs, dhs)
    diffs = [float(np.max(np.abs(f - r), initial=0.0)) for f, r in zip(fast_out, ref_out)]
    if forward_only:
        calls = [lambda: ref.forward(xs), lambda: fast.forward(xs)]
    else:
        calls = [lambda: (ref.forward(xs), ref.backward(dhs)),
                 lambda: (fast.forward(xs), fast.backward(dhs))]
    peak = peak_memory(calls[1])
    ref_s, fast_s = time_alternating(calls, budget)
    return Result(shape, ref_s, fast_s, diffs[0], max(diffs[1:]), peak,
                  needed_bytes(shape, dtype, forward_only), forward_only=forward_only)


# (N, T, H) of a first call on each time-loop path of a gated layer (see
# fastrnn.tuning.time_loop_path): one_row, small, large, and own (float32).
PATH_SIZES = ((1, 5, 4), (2, 5, 4), (1, 5, 300), (4, 16, 256))


def startup_times(layer: str = "rnn", dtype: str = "float32") -> dict:
    """Start-up costs, each in new processes (best of three where warm).

    Parameters
    ----------
    layer : a ``fastrnn bench --layer`` key ("rnn", "lstm", ...).
    dtype : for layers other than "rnn", the dtype whose kernels are compiled.

    Returns
    -------
    ``import_numba``: seconds of ``import numba``; ``warm``: ``import
    fastrnn`` plus the first forward+backward(s) below with the kernels in
    the cache; ``cold``: the same with an empty cache (compiling the kernels
    those calls use: Numba compiles each kernel on its first call).
    For "rnn": one small float32 TimeRNN (cold: float32 and float64). For
    the other layers: the layer in ``dtype`` at one shape per time-loop path
    (``PATH_SIZES``), so that cold compiles all of its kernels of one dtype.
    ``cold_cpu``: the CPU seconds (user + system) of the cold process, which
    other load on the machine changes less than its wall-clock time. Also
    ``layer`` and ``dtypes`` (of the cold run).
    """
    if layer == "rnn":
        first_call = ("import numpy as np, fastrnn\n"
                      "for dt in DTYPES:\n"
                      "    l = fastrnn.TimeRNN(np.ones((3, 4), dt), np.ones((4, 4), dt), "
                      "np.ones(4, dt))\n"
                      "    l.forward(np.ones((2, 5, 3), dt)); l.backward(np.ones((2, 5, 4), dt))\n")
        cold_dtypes, warm_dtypes = ("float32", "float64"), ("float32",)
    else:
        k = kind(layer)
        g, d = k.cell.gates, k.directions
        first_call = ("import numpy as np, fastrnn\n"
                      "for dt in DTYPES:\n"
                      f"    for n, t, h in {PATH_SIZES!r}:\n"
                      f"        p = (np.ones((3, {g} * h), dt) / 9, "
                      f"np.ones((h, {g} * h), dt) / h, np.ones({g} * h, dt))\n"
                      f"        l = fastrnn.{k.title}(*p * {d})\n"
                      "        l.forward(np.ones((n, t, 3), dt)); "
                      f"l.backward(np.ones((n, t, {d} * h), dt))\n")
        cold_dtypes = warm_dtypes = (np.dtype(dtype).name,)

    cpu: list[float] = []

    def run(code: str, env: dict) -> float:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], env=env, cwd=cache, timeout=600,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"the start-up measurement failed:\n{done.stderr[-2000:]}")
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        return seconds

    # cwd: the empty cache folder, not a source checkout, whose fastrnn/
    # (without kernels) would shadow the installed package.
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        cold = run(first_call.replace("DTYPES", repr(cold_dtypes)), env)
        warm = min(run(first_call.replace("DTYPES", repr(warm_dtypes)), env)
                   for _ in range(3))
        numba_s = min(run("import numba", env) for _ in range(3))
    return dict(import_numba=numba_s, warm=warm, cold=cold, cold_cpu=cpu[0], layer=layer,
                dtypes=list(cold_dtypes))


def gemm_peak(dtype: np.dtype | str, n: int = 1536, seconds: float = 1.0) -> float:
    """This machine's GEMM speed in flop/s: the fastest of the n x n products
    in ``dtype`` that numpy (all its BLAS threads) does in ``seconds``, and
    at least 5 (a single product can catch a moment of other load)."""
    a = np.ones((n, n), dtype=dtype)
    out = np.empty_like(a)
    np.matmul(a, a, out=out)
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 5 or time.perf_counter() - start < seconds:
        times.append(time_calls(lambda: np.matmul(a, a, out=out), 1))
    return 2.0 * n ** 3 / min(times)

