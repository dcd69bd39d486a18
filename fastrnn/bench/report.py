"""The report of ``fastrnn bench``: header lines that record the machine and
its BLAS, a table of times, speed-ups, the share of the GEMM roofline, peak
memory and the largest differences; the same as plain data (``--json``) and
as a bar chart (``--plot``).

PyTorch runs in a child process per shape, right after fastrnn and the
reference (``fastrnn.bench.torch_child``): its OpenMP threads and OpenBLAS's
spinning threads would slow each other in one process.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import platform
import sys
from typing import Sequence, TextIO

import numba
import numpy as np
import scipy
import scipy.linalg.cython_blas  # noqa: F401  (loads the BLAS Numba's np.dot uses)
import threadpoolctl

from ..files import write_replacing
from . import torch_child
from .malloc import fix_malloc
from .measure import (BLAS_ENV, DEFAULT_BUDGET, MIN_ROUNDS, PAUSE, Result,
                      gemm_peak, kind, measure, startup_times)
from .shapes import PHASE_FLOPS, Shape


def torch_note(layer: str) -> str:
    """How the weights are given to PyTorch's module of ``layer``, in words."""
    t = kind(layer).torch
    if t is None:
        return "PyTorch has no such layer"
    if not t.same_formula:
        return (f"torch's {t.module} formula differs from the book's, so speed only: "
                "weights of the same shapes, hs not compared")
    order = "" if t.gate_order == tuple(range(len(t.gate_order))) else \
        "gate blocks reordered to torch's order, "
    return (("bidirectional; " if t.bidirectional else "") + order
            + "weights transposed, b_hh = 0; torch's hs checked against the reference's")


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
        f"fastrnn bench: {kind(layer).title} {phase}, {np.dtype(dtype).name}, seed {seed}",
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
    cell = kind(layer).cell
    if cell.gates == 1:
        return "hs" + ("" if forward_only else ", pre-tanh gradients, dxs")
    kept = f"the {cell.gates}H gates" + (f" and {cell.saved} more H" if cell.saved else "")
    return (f"hs, {kept} per step, the last states"
            + ("" if forward_only else ", the gate-input gradients, dxs"))


TABLE_HEADER = (f"{'N':>4} {'T':>5} {'D':>4} {'H':>4}  {'label':<28}"
                f"{'reference ms':>13}{'fastrnn ms':>12}{'speed-up':>10}"
                f"{'torch ms':>10}{'vs torch':>10}"
                f"{'roofline':>10}{'mem':>6}{'max|dhs|':>10}{'max|dgrad|':>12}")


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
    shapes : the problem sizes, e.g. ``fastrnn.bench.shapes.SHAPES["lstm"]``; each
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
    k = kind(layer)
    measure(Shape(1, 1, 1, 1, "warm-up", layer), dtype, seed, budget=0.0)
    peak = gemm_peak(dtype)
    header = header_lines(dtype, seed, budget, forward_only, layer) + [malloc_line]
    gates = "" if k.gates == 1 else f"{k.gates}"
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
    use_torch = torch and k.torch is not None and torch_child.torch_available()
    header.append(f"PyTorch {'nn.' + k.torch.module if k.torch else ''}: "
                  + (f"timed in a child process per shape; {torch_note(layer)}" if use_torch
                     else "not installed (pip install torch to compare)"
                     if torch else "not measured"))
    report = dict(layer=layer, header=header, gemm_peak_flops=peak, torch=None, startup=None,
                  results=[])
    if startup:
        report["startup"] = st = startup_times(layer, dtype)
        compiled = ("for both dtypes" if layer == "rnn" else
                    f"for {st['dtypes'][0]} on every time-loop path")
        header.append(f"start-up, new processes: import numba {st['import_numba']:.2f} s; "
                      f"import fastrnn + first forward+backward {st['warm']:.2f} s with the "
                      f"kernels cached (+{st['warm'] - st['import_numba']:.2f} s), "
                      f"{st['cold']:.1f} s ({st['cold_cpu']:.1f} s of CPU) compiling its "
                      f"{k.title} kernels {compiled}")
    for line in header:
        print(line, file=out)
    print(file=out)
    print(TABLE_HEADER, file=out, flush=True)
    for shape in shapes:
        result = measure(shape, dtype, seed, budget, forward_only)
        if use_torch:
            try:
                child = torch_child.measure_torch(shape, dtype, seed, budget, forward_only)
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
    """Save a bar chart of the speed-ups in ``report`` (``run_bench``'s) to
    ``path``, its format from the extension, beside it and then renamed over
    it (``fastrnn.files.write_replacing``). No pyplot: the caller's backend
    is left alone."""
    from matplotlib.figure import Figure

    results = report["results"]
    labels = [f"{r['shape']['N']}x{r['shape']['T']}x{r['shape']['D']}x{r['shape']['H']}\n"
              f"{r['shape']['label']}" for r in results]
    x = np.arange(len(results))
    bars = [("over the numpy reference", [r["speedup"] for r in results])]
    if report["torch"]:
        module = kind(report.get("layer", "rnn")).torch.module
        bars.append((f"over PyTorch nn.{module}", [r["speedup_vs_torch"] for r in results]))
    width = 0.8 / len(bars)
    fig = Figure(figsize=(1.8 * len(results) + 2, 4.5))
    ax = fig.subplots()
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
    extension = os.path.splitext(path)[1]
    write_replacing(path, lambda f: fig.savefig(f, format=extension[1:].lower()),
                    suffix=extension)
