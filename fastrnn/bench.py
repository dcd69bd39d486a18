"""``fastrnn bench``: time fastrnn's ``TimeRNN`` against the numpy reference
(and PyTorch's CPU ``nn.RNN`` when torch is installed).

fastrnn and the reference run in the same process, alternating round by
round, so that drifting machine load hits both alike.
PyTorch runs in a child process per shape, right after: its OpenMP threads
and OpenBLAS's spinning threads would slow each other in one process. The
report is a table of times, speed-ups, the share of the GEMM roofline, peak
memory and the largest differences, under header lines that record the
machine and BLAS setup; optionally JSON and a bar chart.
"""

from __future__ import annotations

import dataclasses
import datetime
import gc
import importlib.util
import json
import math
import os
import platform
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

Inputs = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


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
    needed_bytes : what must exist at that moment: hs (forward); hs, the
        gradients before tanh and dxs (forward+backward).
    torch_s : best seconds per call of PyTorch's ``nn.RNN``, or None.
    """

    shape: Shape
    reference_s: float
    fastrnn_s: float
    diff_hs: float
    diff_grads: float
    peak_bytes: int
    needed_bytes: int
    torch_s: float | None = None

    @property
    def speedup(self) -> float:
        """Reference time over fastrnn time."""
        return self.reference_s / self.fastrnn_s

    @property
    def speedup_vs_torch(self) -> float | None:
        """PyTorch time over fastrnn time, or None without PyTorch."""
        return None if self.torch_s is None else self.torch_s / self.fastrnn_s


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
    """Bytes of the arrays a call must hold at once: hs (N, T, H) for forward;
    hs, the gradients before tanh (N, T, H) and dxs (N, T, D) for
    forward+backward."""
    per_step = shape.H if forward_only else 2 * shape.H + shape.D
    return shape.N * shape.T * per_step * np.dtype(dtype).itemsize


def measure(shape: Shape, dtype: np.dtype | str, seed: int, budget: float,
            forward_only: bool = False) -> Result:
    """Compare and time the reference and fastrnn ``TimeRNN`` on one shape.

    Parameters
    ----------
    shape : the problem size.
    dtype : float32 or float64.
    seed : seed of the inputs (see ``make_inputs``).
    budget : seconds of timing for the two together.
    forward_only : time forward alone (inference) instead of forward+backward.

    Returns
    -------
    The best times, the largest differences and fastrnn's peak memory (see
    ``Result``; ``torch_s`` is left None).
    """
    wx, wh, b, xs, dhs = make_inputs(shape, dtype, seed)
    ref = reference.TimeRNN(wx.copy(), wh.copy(), b.copy())
    fast = TimeRNN(wx.copy(), wh.copy(), b.copy())
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
                  needed_bytes(shape, dtype, forward_only))


def torch_available() -> bool:
    """Whether PyTorch can be imported (without importing it here)."""
    return importlib.util.find_spec("torch") is not None


def measure_torch(shape: Shape, dtype: np.dtype | str, seed: int, budget: float,
                  forward_only: bool = False) -> dict:
    """Time PyTorch's CPU ``nn.RNN`` on one shape in a child process.

    Returns
    -------
    The child's report: ``seconds`` (best per call), ``version`` and
    ``threads``. Raises ``RuntimeError`` if the child fails, times out, or
    its hs differ from the reference's (a wrong weight mapping).
    """
    args = [sys.executable, "-m", "fastrnn.bench", "--torch-child",
            json.dumps(dict(shape=list(shape), dtype=np.dtype(dtype).name, seed=seed,
                            budget=budget, forward_only=forward_only))]
    # cwd: a private empty folder. `python -m` imports from its working
    # folder first: a source checkout's fastrnn/ (without kernels) would
    # shadow the installed package, and the shared /tmp could hold anything.
    with tempfile.TemporaryDirectory() as cwd:
        try:
            done = subprocess.run(args, capture_output=True, text=True, cwd=cwd,
                                  timeout=600 + 10 * budget)
        except subprocess.TimeoutExpired:
            raise RuntimeError("the PyTorch process timed out") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"the PyTorch process failed: {last}")
    report = json.loads(done.stdout.splitlines()[-1])
    if not report["diff_hs"] < (1e-3 if np.dtype(dtype) == np.float32 else 1e-9):
        raise RuntimeError(f"PyTorch's hs differ from the reference's by "
                           f"{report['diff_hs']:.2g}")
    return report


def torch_rnn(torch: Any, wx: np.ndarray, wh: np.ndarray, b: np.ndarray) -> Any:
    """PyTorch's CPU ``nn.RNN`` computing what ``TimeRNN(wx, wh, b)`` does.

    ``nn.RNN(D, H, nonlinearity="tanh", batch_first=True)`` computes
    ``h_t = tanh(x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh)`` from
    h_0 = 0; so W_ih = wx.T, W_hh = wh.T, b_ih = b, b_hh = 0 (copies).

    Parameters
    ----------
    torch : the torch module (passed in: fastrnn never imports it itself).
    wx, wh, b : the weights, as for ``TimeRNN``.
    """
    rnn = torch.nn.RNN(wx.shape[0], wx.shape[1], nonlinearity="tanh", batch_first=True,
                       dtype=getattr(torch, wx.dtype.name))
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(wx.T)))
        rnn.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(wh.T)))
        rnn.bias_ih_l0.copy_(torch.from_numpy(b))
        rnn.bias_hh_l0.zero_()
    return rnn


def _torch_child(request: dict) -> dict:
    """In the child process: time ``torch.nn.RNN`` as ``measure`` times fastrnn."""
    import torch

    fix_malloc()  # as in the parent, for the same conditions
    shape = Shape(*request["shape"])
    dtype = request["dtype"]
    wx, wh, b, xs, dhs = make_inputs(shape, dtype, request["seed"])
    b = np.linspace(-0.5, 0.5, shape.H).astype(dtype)  # nonzero: the check below sees it
    rnn = torch_rnn(torch, wx, wh, b)
    x = torch.from_numpy(xs).requires_grad_(True)
    dout = torch.from_numpy(dhs)

    def forward():
        with torch.no_grad():
            return rnn(x)[0]

    def forward_backward():
        rnn.zero_grad(set_to_none=True)
        x.grad = None
        rnn(x)[0].backward(dout)

    hs = forward().numpy()
    diff = float(np.max(np.abs(hs - reference.TimeRNN(wx, wh, b).forward(xs)), initial=0.0))
    call = forward if request["forward_only"] else forward_backward
    call()  # warm-up
    (seconds,) = time_alternating([call], request["budget"] / 2)
    return dict(seconds=seconds, version=torch.__version__,
                threads=torch.get_num_threads(), diff_hs=diff)


def startup_times() -> dict:
    """Start-up costs, each in new processes (best of three where warm).

    Returns
    -------
    ``import_numba``: seconds of ``import numba``; ``warm``: ``import
    fastrnn`` plus the first float32 forward+backward of a small TimeRNN
    with its kernels in the cache; ``cold``: the same for float32 and
    float64 with an empty cache (compiling the kernels that call uses:
    Numba compiles each kernel on its first call).
    """
    first_call = ("import numpy as np, fastrnn\n"
                  "for dt in DTYPES:\n"
                  "    l = fastrnn.TimeRNN(np.ones((3, 4), dt), np.ones((4, 4), dt), np.ones(4, dt))\n"
                  "    l.forward(np.ones((2, 5, 3), dt)); l.backward(np.ones((2, 5, 4), dt))\n")

    def run(code: str, env: dict) -> float:
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], env=env, cwd=cache, timeout=600,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"the start-up measurement failed:\n{done.stderr[-2000:]}")
        return time.perf_counter() - start

    # cwd: the empty cache folder, not a source checkout, whose fastrnn/
    # (without kernels) would shadow the installed package.
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        cold = run(first_call.replace("DTYPES", "('float32', 'float64')"), env)
        warm = min(run(first_call.replace("DTYPES", "('float32',)"), env) for _ in range(3))
        numba_s = min(run("import numba", env) for _ in range(3))
    return dict(import_numba=numba_s, warm=warm, cold=cold)


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
                 forward_only: bool = False) -> list[str]:
    """Return the lines that describe the run, the machine and its BLAS."""
    phase = "forward" if forward_only else "forward+backward"
    lines = [
        f"fastrnn bench: TimeRNN {phase}, {np.dtype(dtype).name}, seed {seed}",
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
        "must exist (hs" + ("" if forward_only else ", pre-tanh gradients, dxs") + ")",
    ]
    return lines


TABLE_HEADER = (f"{'N':>4} {'T':>5} {'D':>4} {'H':>4}  {'label':<26}"
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
    """The share of the GEMM ``peak`` that fastrnn reaches on ``result``."""
    return result.shape.flops(_phase(forward_only)) / result.fastrnn_s / peak


def format_row(result: Result, peak: float, forward_only: bool = False) -> str:
    """Return one table row for ``result``, aligned with ``TABLE_HEADER``."""
    s = result.shape
    torch_ms = "-" if result.torch_s is None else f"{result.torch_s * 1e3:.3f}"
    vs_torch = "-" if result.torch_s is None else f"{result.speedup_vs_torch:.2f}"
    return (f"{s.N:>4} {s.T:>5} {s.D:>4} {s.H:>4}  {s.label:<26}"
            f"{result.reference_s * 1e3:>13.3f}{result.fastrnn_s * 1e3:>12.3f}"
            f"{result.speedup:>10.2f}{torch_ms:>10}{vs_torch:>10}"
            f"{roofline_share(result, peak, forward_only):>9.0%} "
            f"{result.peak_bytes / result.needed_bytes:>6.2f}"
            f"{result.diff_hs:>10.1e}{result.diff_grads:>12.1e}")


def run_bench(shapes: Sequence[Shape], dtype: np.dtype | str = "float32", seed: int = 0,
              budget: float = DEFAULT_BUDGET, forward_only: bool = False,
              torch: bool = True, startup: bool = False,
              out: TextIO | None = None) -> dict:
    """Measure every shape and print the header and table, row by row.

    Parameters
    ----------
    shapes : the problem sizes, e.g. ``fastrnn.shapes.BENCH_SHAPES``.
    dtype : float32 or float64.
    seed : seed of the inputs.
    budget : seconds of timing per shape.
    forward_only : time forward alone (inference) instead of forward+backward.
    torch : add PyTorch's ``nn.RNN`` (in child processes) if it is installed.
    startup : also measure the start-up costs (``startup_times``).
    out : where to print; ``sys.stdout`` if None.

    This process's malloc thresholds stay fixed afterwards (``fix_malloc``).

    Returns
    -------
    The report as plain data (what ``--json`` writes): ``header`` lines,
    ``gemm_peak_flops``, ``torch`` (version and threads, or None),
    ``startup`` (or None) and ``results``, one dict per shape.
    """
    out = sys.stdout if out is None else out
    malloc_line = fix_malloc()
    # Load fastrnn's kernels (and so every BLAS) before threadpoolctl looks.
    measure(Shape(1, 1, 1, 1, "warm-up"), dtype, seed, budget=0.0)
    peak = gemm_peak(dtype)
    header = header_lines(dtype, seed, budget, forward_only) + [malloc_line]
    header.append(f"GEMM peak ({np.dtype(dtype).name}, numpy, 1536^3, this run): "
                  f"{peak / 1e9:.0f} GFLOP/s; roofline: "
                  f"{PHASE_FLOPS[_phase(forward_only)]}*N*T*(D+H)*H flops at that "
                  "peak over fastrnn's time")
    use_torch = torch and torch_available()
    header.append("PyTorch nn.RNN: " + ("timed in a child process per shape" if use_torch
                                        else "not installed (pip install torch to compare)"
                                        if torch else "not measured"))
    report = dict(header=header, gemm_peak_flops=peak, torch=None, startup=None, results=[])
    if startup:
        report["startup"] = st = startup_times()
        header.append(f"start-up, new processes: import numba {st['import_numba']:.2f} s; "
                      f"import fastrnn + first forward+backward {st['warm']:.2f} s with the "
                      f"kernels cached (+{st['warm'] - st['import_numba']:.2f} s), "
                      f"{st['cold']:.1f} s compiling its kernels for both dtypes")
    for line in header:
        print(line, file=out)
    print(file=out)
    print(TABLE_HEADER, file=out, flush=True)
    for shape in shapes:
        result = measure(shape, dtype, seed, budget, forward_only)
        if use_torch:
            try:
                child = measure_torch(shape, dtype, seed, budget, forward_only)
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
        bars.append(("over PyTorch nn.RNN", [r["speedup_vs_torch"] for r in results]))
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


def _main(argv: list[str]) -> int:
    """``python -m fastrnn.bench --torch-child JSON``: the PyTorch child process."""
    if len(argv) != 2 or argv[0] != "--torch-child":
        print("usage: python -m fastrnn.bench --torch-child JSON (used by fastrnn bench)",
              file=sys.stderr)
        return 2
    print(json.dumps(_torch_child(json.loads(argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
