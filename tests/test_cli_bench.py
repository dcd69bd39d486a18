"""Tests of the ``fastrnn bench`` command."""

from __future__ import annotations

import ctypes
import json
import math
import os
import subprocess
import sys

import pytest

from fastrnn.cli import main
from fastrnn.bench.shapes import PHASE_FLOPS, QUICK, QUICK_SHAPES

# Gate blocks of H columns in each layer's weights, both directions of a
# TimeBiLSTM counted: the book's cells, as the roofline must count them.
GATES = {"rnn": 1, "lstm": 4, "gru": 3, "bilstm": 8}

TINY_BUDGET = ["--budget", "0.05"]  # hidden option: seconds of timing per shape


COLUMNS = ["reference ms", "fastrnn ms", "speed-up", "torch ms", "vs torch", "roofline",
           "mem", "max|dhs|", "max|dgrad|"]
NO_TORCH = ["--no-torch"]  # torch is optional: the tests never depend on it


def table_rows(output: str, count: int = len(QUICK_SHAPES)
               ) -> list[tuple[tuple[int, ...], dict[str, float]]]:
    """Return (N, T, D, H) and the numbers by column of the ``count`` rows
    under the table header (the roofline share as a fraction, "-" as NaN)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if "reference ms" in line) + 1
    rows = []
    for line in lines[start:start + count]:
        fields = line.split()
        numbers = [math.nan if f == "-" else
                   float(f.rstrip("%")) / (100 if f.endswith("%") else 1)
                   for f in fields[-len(COLUMNS):]]
        rows.append((tuple(int(f) for f in fields[:4]), dict(zip(COLUMNS, numbers))))
    return rows


def run_bench(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


def check_table(output: str, tolerance: float, shapes=QUICK_SHAPES) -> None:
    rows = table_rows(output, len(shapes))
    assert [shape for shape, _ in rows] == [tuple(s[:4]) for s in shapes]
    for _, row in rows:
        assert row["reference ms"] > 0 and row["fastrnn ms"] > 0
        # The table rounds times to 0.001 ms and ratios to 0.01: allow for that
        # (a fixed relative tolerance fails on times of a few hundredths of a ms).
        ref, fast, h = row["reference ms"], row["fastrnn ms"], 0.0005
        rounding = max((ref + h) / (fast - h) - ref / fast,
                       ref / fast - (ref - h) / (fast + h)) + 0.005
        assert row["speed-up"] == pytest.approx(ref / fast, abs=rounding + 1e-9)
        assert math.isnan(row["torch ms"]) and math.isnan(row["vs torch"])
        # A share of the GEMM peak measured in the same run, in whole percent:
        # a busy machine can print 0% or, with a depressed peak, over 100%
        # (the JSON test checks how it is computed).
        assert 0 <= row["roofline"] < math.inf
        # Peak memory: at least the arrays a call returns, and no copy of them more
        # (the small work arrays, a copy of Wh and the grads stay under that).
        assert 1 <= row["mem"] < 3
        assert 0 <= row["max|dhs|"] < tolerance
        assert 0 <= row["max|dgrad|"] < tolerance


def test_quick_float32(capsys: pytest.CaptureFixture[str]) -> None:
    output = run_bench(capsys, ["bench", "--quick"] + NO_TORCH + TINY_BUDGET)
    check_table(output, 1e-3)
    for word in ("float32", "numpy", "numba", "CPUs", "BLAS", "GEMM peak",
                 "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "malloc: "):
        assert word in output


def test_quick_float64(capsys: pytest.CaptureFixture[str]) -> None:
    output = run_bench(capsys, ["bench", "--quick", "--dtype", "float64", "--seed", "3"]
                       + NO_TORCH + TINY_BUDGET)
    assert "float64, seed 3" in output
    check_table(output, 1e-9)


def test_forward_only(capsys: pytest.CaptureFixture[str]) -> None:
    output = run_bench(capsys, ["bench", "--quick", "--forward"] + NO_TORCH + TINY_BUDGET)
    assert "TimeRNN forward, float32" in output and "2*N*T*(D+H)*H" in output
    check_table(output, 1e-3)


def test_json_file_holds_the_table(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "report.json"
    output = run_bench(capsys, ["bench", "--quick", "--json", str(path)] + NO_TORCH
                       + TINY_BUDGET)
    report = json.loads(path.read_text())
    assert report["header"] == output.splitlines()[:len(report["header"])]
    assert report["torch"] is None and report["startup"] is None
    assert report["gemm_peak_flops"] > 1e8
    for got, (shape, row), spec in zip(report["results"], table_rows(output), QUICK_SHAPES,
                                       strict=True):
        assert tuple(got["shape"][k] for k in "NTDH") == shape
        assert got["reference_s"] * 1e3 == pytest.approx(row["reference ms"], abs=1e-3)
        assert got["fastrnn_s"] * 1e3 == pytest.approx(row["fastrnn ms"], abs=1e-3)
        assert got["speedup"] == pytest.approx(got["reference_s"] / got["fastrnn_s"])
        assert got["roofline"] == pytest.approx(
            spec.flops() / got["fastrnn_s"] / report["gemm_peak_flops"])
        assert got["peak_bytes"] >= got["needed_bytes"] > 0
        assert got["torch_s"] is None and got["speedup_vs_torch"] is None


def test_json_to_stdout_and_table_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick", "--json", "-"] + NO_TORCH + TINY_BUDGET) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)  # nothing else on stdout
    assert len(report["results"]) == len(table_rows(captured.err)) == len(QUICK_SHAPES)


def test_plot_writes_a_png(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "speedups.png"
    run_bench(capsys, ["bench", "--quick", "--plot", str(path)] + NO_TORCH + TINY_BUDGET)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("option", ["--json", "--plot"])
def test_unwritable_output_is_refused_before_measuring(option, tmp_path, capsys) -> None:
    assert main(["bench", "--quick", option, str(tmp_path / "no" / "f")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing measured
    assert captured.err.startswith("fastrnn bench: error: ") and "does not exist" in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_a_failing_pytorch_process_leaves_its_column_empty(monkeypatch, tmp_path, capsys):
    """Whatever goes wrong with PyTorch (here: every child fails), the rest of
    the report is measured, printed and written, with one warning per shape."""
    from fastrnn.bench import torch_child as bench_torch

    def fail(*args, **kwargs):
        raise RuntimeError("the PyTorch process failed: boom")
    monkeypatch.setattr(bench_torch, "torch_available", lambda: True)
    monkeypatch.setattr(bench_torch, "measure_torch", fail)
    path = tmp_path / "r.json"
    assert main(["bench", "--quick", "--json", str(path)] + TINY_BUDGET) == 0
    out = capsys.readouterr().out
    assert out.count("warning: no PyTorch time for") == len(QUICK_SHAPES)
    assert "boom" in out
    rows = [line for line in out.splitlines() if not line.startswith("warning")]
    check_table("\n".join(rows), 1e-3)
    report = json.loads(path.read_text())
    assert report["torch"] is None and all(r["torch_s"] is None for r in report["results"])


def test_plot_with_pytorch_missing_for_one_shape(monkeypatch, tmp_path, capsys):
    """PyTorch timed for some shapes only (one child failed): the chart is
    still drawn, with no PyTorch bar for that shape."""
    from fastrnn.bench import torch_child as bench_torch

    def torch_fails_on_the_first(shape, *args, **kwargs):
        if shape == QUICK_SHAPES[0]:
            raise RuntimeError("the PyTorch process failed: boom")
        return dict(seconds=1e-3, version="0.test", threads=2)
    monkeypatch.setattr(bench_torch, "torch_available", lambda: True)
    monkeypatch.setattr(bench_torch, "measure_torch", torch_fails_on_the_first)
    path, report_path = tmp_path / "speedups.png", tmp_path / "r.json"
    assert main(["bench", "--quick", "--plot", str(path), "--json", str(report_path)]
                + TINY_BUDGET) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    torch_s = [r["torch_s"] for r in json.loads(report_path.read_text())["results"]]
    assert torch_s == [None] + [1e-3] * (len(QUICK_SHAPES) - 1)


def test_ctrl_c_ends_with_one_line(monkeypatch, capsys) -> None:
    from fastrnn import bench

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(bench, "run_bench", interrupt)
    assert main(["bench", "--quick"]) == 130
    assert capsys.readouterr().err == "fastrnn bench: interrupted\n"


def test_startup_times() -> None:
    """Start-up costs from new processes are measured (their order is the
    benchmark's to report, not a test's to assert: the machine is shared)."""
    from fastrnn.bench import startup_times

    t = startup_times()
    for key in ("import_numba", "warm", "cold", "cold_cpu"):
        assert 0 < t[key] < math.inf, key


@pytest.mark.parametrize("argv", [
    ["bench", "--dtype", "float16"],
    ["bench", "--no-such-option"],
    ["bench", "--seed", "x"],
    ["bench", "--budget", "0"],
    ["no-such-command"],
    [],
])
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "error:" in err and "--help" in err


# In a new process, with or without fastrnn.bench.fix_malloc() first: the
# bytes glibc holds in mmap-ed blocks while 32 arrays of 2 MB are alive, and
# the bytes it still holds (heap and mmap-ed) once they are freed.
MALLOC_PROBE = """
import ctypes, sys, numpy as np

class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks",
                "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

mallinfo2 = ctypes.CDLL("libc.so.6").mallinfo2
mallinfo2.restype = Mallinfo2
if sys.argv[1] == "fixed":  # imported only here: an import could move glibc's threshold
    from fastrnn import bench
    assert bench.fix_malloc().startswith("malloc: glibc's, thresholds fixed")
start = mallinfo2()
arrays = [np.ones(1 << 19, dtype=np.float32) for _ in range(32)]
mapped = mallinfo2().hblkhd - start.hblkhd
del arrays
end = mallinfo2()
print(mapped, end.arena + end.hblkhd - start.arena - start.hblkhd)
"""


def _malloc_probe(mode: str, cwd) -> tuple[int, int]:
    # cwd: not the checkout, whose fastrnn/ (no kernels) would shadow the
    # install; env: glibc's defaults, whatever this process was started with.
    env = {k: v for k, v in os.environ.items()
           if k not in ("GLIBC_TUNABLES", "LD_PRELOAD") and not k.startswith("MALLOC_")}
    done = subprocess.run([sys.executable, "-c", MALLOC_PROBE, mode], capture_output=True,
                          text=True, check=True, cwd=cwd, env=env)
    mapped, kept = map(int, done.stdout.split())
    return mapped, kept


def _has_mallinfo2() -> bool:
    try:
        ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return False
    return True


@pytest.mark.skipif(not _has_mallinfo2() or sys.maxsize < 2**32,
                    reason="needs 64-bit glibc >= 2.33 (mallinfo2)")
def test_fix_malloc_reuses_freed_memory(tmp_path) -> None:
    """glibc's default maps fresh 2 MB blocks and returns them when freed (so
    each new one page-faults); after fix_malloc the heap serves and keeps them."""
    mapped, kept = _malloc_probe("default", tmp_path)
    assert mapped >= 32 * (2 << 20) and kept < 8 << 20
    mapped, kept = _malloc_probe("fixed", tmp_path)
    assert mapped == 0 and kept >= 30 * (2 << 20)


@pytest.mark.parametrize("layer", ["lstm", "gru"])
def test_layer_table_has_its_rows(layer, capsys: pytest.CaptureFixture[str]) -> None:
    """--layer lstm|gru: the layer's quick rows (for lstm also a TimeBiLSTM
    and a stateful one-step row), each labelled, and a header naming it."""
    output = run_bench(capsys, ["bench", "--quick", "--layer", layer] + NO_TORCH + TINY_BUDGET)
    shapes = QUICK[layer]
    check_table(output, 1e-3, shapes)
    title = {"lstm": "TimeLSTM", "gru": "TimeGRU"}[layer]
    assert f"fastrnn bench: {title} forward+backward, float32" in output
    assert f"6*N*T*(D+H)*{GATES[layer]}H" in output
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if "reference ms" in line) + 1
    for line, shape in zip(lines[start:], shapes):
        assert shape.label in line
    if layer == "lstm":
        assert any(s.layer == "bilstm" for s in shapes) and any(s.stateful for s in shapes)
        assert "TimeBiLSTM rows" in output and "stateful rows" in output


@pytest.mark.parametrize("layer", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("forward", [False, True])
def test_json_records_the_layer_and_its_gate_count(layer, forward, tmp_path, capsys) -> None:
    """The JSON says which layer; each row's roofline is the flops with the
    row's gate count (1, 4, 3; 8 for the TimeBiLSTM row) and phase (forward
    alone for --forward and stateful rows) over fastrnn's time and the peak."""
    path = tmp_path / "r.json"
    run_bench(capsys, ["bench", "--quick", "--layer", layer, "--json", str(path)]
              + (["--forward"] if forward else []) + NO_TORCH + TINY_BUDGET)
    report = json.loads(path.read_text())
    assert report["layer"] == layer
    results = report["results"]
    assert [tuple(r["shape"][k] for k in "NTDH") for r in results] == \
        [tuple(s[:4]) for s in QUICK[layer]]
    for got, shape in zip(results, QUICK[layer], strict=True):
        assert got["shape"]["layer"] == shape.layer and got["shape"]["stateful"] == shape.stateful
        alone = forward or shape.stateful
        assert got["forward_only"] == alone
        flops = (PHASE_FLOPS["forward" if alone else "fwd+bwd"] * shape.N * shape.T
                 * (shape.D + shape.H) * GATES[shape.layer] * shape.H)
        assert got["roofline"] == pytest.approx(
            flops / got["fastrnn_s"] / report["gemm_peak_flops"])
        assert got["peak_bytes"] > 0 and got["needed_bytes"] > 0


def test_needed_bytes_of_an_lstm() -> None:
    """What must exist, counted by hand for N=2, T=3, D=5, H=7, float32."""
    from fastrnn.bench import needed_bytes
    from fastrnn.bench.shapes import Shape

    n, t, d, h = 2, 3, 5, 7
    lstm = Shape(n, t, d, h, "", "lstm")
    # forward: hs, the 4H gates and c of every step; the last h and c.
    assert needed_bytes(lstm, "float32", True) == 4 * (n * t * 6 * h + n * 2 * h)
    # forward+backward: also the 4H gate gradients and dxs.
    assert needed_bytes(lstm, "float32", False) == 4 * (n * t * (10 * h + d) + n * 2 * h)
    # TimeBiLSTM: two LSTMs' worth, one dxs, and the (N, T, 2H) output.
    bi = lstm._replace(layer="bilstm")
    assert needed_bytes(bi, "float64", False) == 8 * (n * t * (22 * h + d) + n * 4 * h)


def test_bad_layer_exits_2(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--layer", "peephole"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice" in err
    for layer in ("rnn", "lstm", "gru", "bilstm"):  # the registry's benchmarked layers
        assert f"'{layer}'" in err
