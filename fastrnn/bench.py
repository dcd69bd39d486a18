"""``fastrnn bench``: time fastrnn's ``TimeRNN``, ``TimeLSTM``, ``TimeGRU``
(and ``TimeBiLSTM``) against the numpy reference (and PyTorch's CPU
``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` when torch is installed).

Each layer is described once (``LayerKind`` in ``KINDS``): its fastrnn and
reference classes, the torch module of the same computation, and whether
torch's formula matches the book's. ``measure``, ``needed_bytes``,
``make_inputs``, the torch child and the table work from that description
and from the shape's ``layer`` (``fastrnn.shapes``).

fastrnn and the reference run in the same process, alternating round by
round, so that drifting machine load hits both alike.
PyTorch runs in a child process per shape, right after (``fastrnn.bench_torch``):
its OpenMP threads and OpenBLAS's spinning threads would slow each other in
one process. The
report is a table of times, speed-ups, the share of the GEMM roofline, peak
memory and the largest differences, under header lines that record the
machine and BLAS setup; optionally JSON and a bar chart.
"""

from __future__ import annotations

import dataclasses
import datetime
import gc
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any, Callable, Sequence, TextIO

import numba
import numpy as np
import scipy
import scipy.linalg.cython_blas  # noqa: F401  (loads the BLAS Numba's np.dot uses)
import threadpoolctl

from . import reference
from ._malloc import fix_malloc
from .bilstm import TimeBiLSTM
from .gru import TimeGRU
from .lstm import TimeLSTM
from .rnn import TimeRNN
from .shapes import PHASE_FLOPS, Shape

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


@dataclass(frozen=True)
class LayerKind:
    """What the benchmark needs to know about one layer (a ``Shape.layer``).

    Attributes
    ----------
    title : the book's class name, for the report.
    fastrnn, reference : the two classes timed; both take ``(*params,
        stateful=False)``.
    directions : 1, or 2 for TimeBiLSTM (params are (Wx, Wh, b) per direction).
    torch_module : the ``torch.nn`` class of the same layer ("RNN", "LSTM",
        "GRU"); TimeBiLSTM is a bidirectional "LSTM".
    torch_matches : whether torch's formula is the book's: then the child
        checks torch's hs against the reference's; if not (GRU), the weights
        only have the same shapes and the comparison is of speed alone.
    torch_note : how the weights are mapped, for the report's header.
    """

    title: str
    fastrnn: type
    reference: type
    torch_module: str
    torch_matches: bool
    torch_note: str
    directions: int = 1


_LSTM_NOTE = ("gate blocks reordered from the book's f, g, i, o to torch's i, f, g, o, "
              "weights transposed, b_hh = 0; torch's hs checked against the reference's")
KINDS = {
    "rnn": LayerKind("TimeRNN", TimeRNN, reference.TimeRNN, "RNN", True,
                     "weights transposed, b_hh = 0; torch's hs checked against the "
                     "reference's"),
    "lstm": LayerKind("TimeLSTM", TimeLSTM, reference.TimeLSTM, "LSTM", True, _LSTM_NOTE),
    "gru": LayerKind("TimeGRU", TimeGRU, reference.TimeGRU, "GRU", False,
                     "torch's GRU formula differs from the book's (its reset gate "
                     "multiplies h @ W_hn after the product, and h' = (1-z)*n + z*h), so "
                     "speed only: weights of the same shapes, hs not compared"),
    "bilstm": LayerKind("TimeBiLSTM", TimeBiLSTM, reference.TimeBiLSTM, "LSTM", True,
                        "bidirectional nn.LSTM; " + _LSTM_NOTE, directions=2),
}


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
    directions = KINDS[shape.layer].directions
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
    kind = KINDS[shape.layer]
    cls = kind.fastrnn if implementation == "fastrnn" else kind.reference
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
    kind = KINDS[shape.layer]
    cell = (kind.fastrnn if kind.directions == 1 else TimeLSTM).cell
    h, g = shape.H, cell.gates
    per_step = h + (g * h if g > 1 else 0) + cell.saved * h
    if not forward_only:
        per_step += g * h
    per_sample = (1 + cell.has_c) * h
    per_step *= kind.directions
    per_sample *= kind.directions
    if kind.directions > 1:
        per_step += kind.directions * h
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


# (N, H) of a first call on each time-loop path of a gated layer (see
# fastrnn._tuning.time_loop_path): one_row, small, large.
PATH_SIZES = ((1, 4), (2, 4), (2, 300))


def startup_times(layer: str = "rnn", dtype: str = "float32") -> dict:
    """Start-up costs, each in new processes (best of three where warm).

    Parameters
    ----------
    layer : "rnn", or "lstm" or "gru".
    dtype : for "lstm" and "gru", the dtype whose kernels are compiled.

    Returns
    -------
    ``import_numba``: seconds of ``import numba``; ``warm``: ``import
    fastrnn`` plus the first forward+backward(s) below with the kernels in
    the cache; ``cold``: the same with an empty cache (compiling the kernels
    those calls use: Numba compiles each kernel on its first call).
    For "rnn": one small float32 TimeRNN (cold: float32 and float64). For
    "lstm" and "gru": the layer in ``dtype`` at one shape per time-loop path
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
        kind, g = KINDS[layer], Shape(1, 1, 1, 1, "", layer).gates
        first_call = ("import numpy as np, fastrnn\n"
                      "for dt in DTYPES:\n"
                      f"    for n, h in {PATH_SIZES!r}:\n"
                      f"        l = fastrnn.{kind.title}(np.ones((3, {g} * h), dt) / 9, "
                      f"np.ones((h, {g} * h), dt) / h, np.ones({g} * h, dt))\n"
                      "        l.forward(np.ones((n, 5, 3), dt)); "
                      "l.backward(np.ones((n, 5, h), dt))\n")
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


def _blas_line(info: dict) -> str:
    """One line about one BLAS library from ``threadpoolctl.threadpool_info()``."""
    path = info.get("filepath", "")
    owner = os.path.basename(os.path.dirname(path)).removesuffix(".libs") or "?"
    details = ", ".join(str(info[k]) for k in ("architecture", "threading_layer")
                        if info.get(k))
    return (f"BLAS ({owner}): {info.get('internal_api')} {info.get('version')}"
            f" [{details}], {info.get('num_threads')} threads,"
            f" {os.path.basename(path)}")


def header_lines(dtype: np.dtype | str, seed: int, budget: float,
                 forward_only: bool = False, layer: str = "rnn") -> list[str]:
    """Return the lines that describe the run, the machine and its BLAS."""
    phase = "forward" if forward_only else "forward+backward"
    lines = [
        f"fastrnn bench: {KINDS[layer].title} {phase}, {np.dtype(dtype).name}, seed {seed}",
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
        "mem: fastrnn's peak numpy memory during one call over the arrays that "
        "must exist (" + _needed_text(layer, forward_only) + ")",
    ]
    return lines


def _needed_text(layer: str, forward_only: bool) -> str:
    """The arrays ``needed_bytes`` counts, in words, for the header."""
    if layer == "rnn":
        return "hs" + ("" if forward_only else ", pre-tanh gradients, dxs")
    kept = "the 4H gates and c" if layer == "lstm" else "the 3H gates and r*h"
    return (f"hs, {kept} per step, the last states"
            + ("" if forward_only else ", the gate-input gradients, dxs"))


TABLE_HEADER = (f"{'N':>4} {'T':>5} {'D':>4} {'H':>4}  {'label':<28}"
                f"{'reference ms':>13}{'fastrnn ms':>12}{'speed-up':>10}"
                f"{'torch ms':>10}{'vs torch':>10}"
                f"{'roofline':>10}{'mem':>6}{'max|dhs|':>10}{'max|dgrad|':>12}")


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


def _phase(forward_only: bool) -> str:
    """The ``Shape.flops`` phase of a run."""
    return "forward" if forward_only else "fwd+bwd"


def roofline_share(result: Result, peak: float, forward_only: bool = False) -> float:
    """The share of the GEMM ``peak`` that fastrnn reaches on ``result``
    (counting the flops of forward alone if ``forward_only`` or the result's
    own ``forward_only``, as for a stateful row)."""
    phase = _phase(forward_only or result.forward_only)
    return result.shape.flops(phase) / result.fastrnn_s / peak


def format_row(result: Result, peak: float, forward_only: bool = False) -> str:
    """Return one table row for ``result``, aligned with ``TABLE_HEADER``."""
    s = result.shape
    torch_ms = "-" if result.torch_s is None else f"{result.torch_s * 1e3:.3f}"
    vs_torch = "-" if result.torch_s is None else f"{result.speedup_vs_torch:.2f}"
    return (f"{s.N:>4} {s.T:>5} {s.D:>4} {s.H:>4}  {s.label:<28}"
            f"{result.reference_s * 1e3:>13.3f}{result.fastrnn_s * 1e3:>12.3f}"
            f"{result.speedup:>10.2f}{torch_ms:>10}{vs_torch:>10}"
            f"{roofline_share(result, peak, forward_only):>9.0%} "
            f"{result.peak_bytes / result.needed_bytes:>6.2f}"
            f"{result.diff_hs:>10.1e}{result.diff_grads:>12.1e}")


def run_bench(shapes: Sequence[Shape], dtype: np.dtype | str = "float32", seed: int = 0,
              budget: float = DEFAULT_BUDGET, forward_only: bool = False,
              torch: bool = True, startup: bool = False,
              out: TextIO | None = None, layer: str = "rnn") -> dict:
    """Measure every shape and print the header and table, row by row.

    Parameters
    ----------
    shapes : the problem sizes, e.g. ``fastrnn.shapes.SHAPES["lstm"]``; each
        is timed on its own ``layer`` (a TimeBiLSTM row in the LSTM table).
    dtype : float32 or float64.
    seed : seed of the inputs.
    budget : seconds of timing per shape.
    forward_only : time forward alone (inference) instead of forward+backward.
    torch : add PyTorch's layer (in child processes) if it is installed.
    startup : also measure the start-up costs (``startup_times``).
    out : where to print; ``sys.stdout`` if None.
    layer : the layer the report is about ("rnn", "lstm", "gru"): its title,
        torch module and start-up measurement.

    This process's malloc thresholds stay fixed afterwards (``fix_malloc``).

    Returns
    -------
    The report as plain data (what ``--json`` writes): ``layer``, ``header``
    lines, ``gemm_peak_flops``, ``torch`` (version and threads, or None),
    ``startup`` (or None) and ``results``, one dict per shape.
    """
    out = sys.stdout if out is None else out
    malloc_line = fix_malloc()
    # Load fastrnn's kernels (and so every BLAS) before threadpoolctl looks.
    kind = KINDS[layer]
    measure(Shape(1, 1, 1, 1, "warm-up", layer), dtype, seed, budget=0.0)
    peak = gemm_peak(dtype)
    header = header_lines(dtype, seed, budget, forward_only, layer) + [malloc_line]
    gates = "" if layer == "rnn" else f"{Shape(1, 1, 1, 1, '', layer).gates}"
    header.append(f"GEMM peak ({np.dtype(dtype).name}, numpy, 1536^3, this run): "
                  f"{peak / 1e9:.0f} GFLOP/s; roofline: "
                  f"{PHASE_FLOPS[_phase(forward_only)]}*N*T*(D+H)*{gates}H flops at that "
                  "peak over fastrnn's time")
    if any(s.layer == "bilstm" for s in shapes):
        header.append("TimeBiLSTM rows: two TimeLSTMs, 2 x 4H in the flops; torch: a "
                      "bidirectional nn.LSTM")
    if any(s.stateful for s in shapes):
        header.append("stateful rows: a stateful layer's forward alone, call after call, "
                      "h and c carried over (text generation); torch under no_grad")
    from . import bench_torch  # it imports this module

    use_torch = torch and bench_torch.torch_available()
    header.append(f"PyTorch nn.{kind.torch_module}: "
                  + (f"timed in a child process per shape; {kind.torch_note}" if use_torch
                     else "not installed (pip install torch to compare)"
                     if torch else "not measured"))
    report = dict(layer=layer, header=header, gemm_peak_flops=peak, torch=None, startup=None,
                  results=[])
    if startup:
        report["startup"] = st = startup_times(layer, dtype)
        compiled = ("for both dtypes" if layer == "rnn" else
                    f"for {st['dtypes'][0]} on all {len(PATH_SIZES)} time-loop paths")
        header.append(f"start-up, new processes: import numba {st['import_numba']:.2f} s; "
                      f"import fastrnn + first forward+backward {st['warm']:.2f} s with the "
                      f"kernels cached (+{st['warm'] - st['import_numba']:.2f} s), "
                      f"{st['cold']:.1f} s ({st['cold_cpu']:.1f} s of CPU) compiling its "
                      f"{kind.title} kernels {compiled}")
    for line in header:
        print(line, file=out)
    print(file=out)
    print(TABLE_HEADER, file=out, flush=True)
    for shape in shapes:
        result = measure(shape, dtype, seed, budget, forward_only)
        if use_torch:
            try:
                child = bench_torch.measure_torch(shape, dtype, seed, budget, forward_only)
            except RuntimeError as e:  # the rest of the report stands
                print(f"warning: no PyTorch time for {shape.N}x{shape.T}x{shape.D}x"
                      f"{shape.H}: {e}", file=out)
            else:
                result.torch_s = child["seconds"]
                report["torch"] = dict(version=child["version"], threads=child["threads"])
        print(format_row(result, peak, forward_only), file=out, flush=True)
        report["results"].append(dict(
            dataclasses.asdict(result), shape=shape._asdict(), speedup=result.speedup,
            speedup_vs_torch=result.speedup_vs_torch,
            roofline=roofline_share(result, peak, forward_only)))
    if report["torch"]:
        print(f"PyTorch {report['torch']['version']}, {report['torch']['threads']} threads",
              file=out)
    return report


def plot_report(report: dict, path: str) -> None:
    """Save a bar chart of the speed-ups in ``report`` (``run_bench``'s) to ``path``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = report["results"]
    labels = [f"{r['shape']['N']}x{r['shape']['T']}x{r['shape']['D']}x{r['shape']['H']}\n"
              f"{r['shape']['label']}" for r in results]
    x = np.arange(len(results))
    bars = [("over the numpy reference", [r["speedup"] for r in results])]
    if report["torch"]:
        module = KINDS[report.get("layer", "rnn")].torch_module
        bars.append((f"over PyTorch nn.{module}", [r["speedup_vs_torch"] for r in results]))
    width = 0.8 / len(bars)
    fig, ax = plt.subplots(figsize=(1.8 * len(results) + 2, 4.5))
    for k, (name, values) in enumerate(bars):
        # None: no PyTorch time for that shape (its child failed): no bar.
        heights = [np.nan if v is None else v for v in values]
        drawn = ax.bar(x + (k - (len(bars) - 1) / 2) * width, heights, width,
                       label=f"fastrnn {name}")
        ax.bar_label(drawn, labels=["" if v is None else f"{v:.2g}x" for v in values],
                     fontsize=7)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylabel("speed-up (log scale; 1 = as fast)")
    ax.set_title(report["header"][0], fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
