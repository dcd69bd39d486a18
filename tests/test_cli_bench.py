"""Tests of the ``fastrnn bench`` command."""

from __future__ import annotations

import pytest

from fastrnn.cli import main
from fastrnn.shapes import QUICK_SHAPES

TINY_BUDGET = ["--budget", "0.05"]  # hidden option: seconds of timing per shape


def table_rows(output: str) -> list[tuple[tuple[int, ...], list[float]]]:
    """Return (N, T, D, H) and the six numbers of every row under the table header
    (the roofline share as a fraction)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if "reference ms" in line) + 1
    rows = []
    for line in lines[start:]:
        fields = line.split()
        numbers = [float(f.rstrip("%")) / (100 if f.endswith("%") else 1) for f in fields[-6:]]
        rows.append((tuple(int(f) for f in fields[:4]), numbers))
    return rows


def run_bench(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


def check_table(output: str, tolerance: float) -> None:
    rows = table_rows(output)
    assert [shape for shape, _ in rows] == [tuple(s[:4]) for s in QUICK_SHAPES]
    for _, (ref_ms, fast_ms, speedup, roofline, diff_hs, diff_grads) in rows:
        assert ref_ms > 0 and fast_ms > 0 and speedup > 0
        assert 0 < roofline < 1.5  # a share of the measured GEMM peak
        assert 0 <= diff_hs < tolerance
        assert 0 <= diff_grads < tolerance


def test_quick_float32(capsys: pytest.CaptureFixture[str]) -> None:
    output = run_bench(capsys, ["bench", "--quick"] + TINY_BUDGET)
    check_table(output, 1e-3)
    for word in ("float32", "numpy", "numba", "CPUs", "BLAS", "GEMM peak",
                 "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        assert word in output


def test_quick_float64(capsys: pytest.CaptureFixture[str]) -> None:
    output = run_bench(capsys, ["bench", "--quick", "--dtype", "float64", "--seed", "3"]
                       + TINY_BUDGET)
    assert "float64, seed 3" in output
    check_table(output, 1e-9)


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
