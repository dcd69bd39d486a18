"""Smoke test of ``products_bound.py`` (a profiling script, run by hand)."""

import pytest

import products_bound
from fastrnn.bench.shapes import LM_SHAPES, QUICK_SHAPES


def _sizes(layer):
    return [tuple(s[:4]) for s in products_bound.bound_shapes(layer, quick=True)]


@pytest.mark.parametrize("mode, sizes", [
    ([], [tuple(s[:4]) for s in QUICK_SHAPES]),
    (["--forward"], [tuple(s[:4]) for s in QUICK_SHAPES]),
    (["--lm"], [LM_SHAPES[0]]),
    (["--layer", "lstm"], _sizes("lstm")),
    (["--layer", "gru", "--forward"], _sizes("gru")),
    (["--layer", "lstm", "--shape", "3,2,4,5", "--shape", "1,3,2,8"], [(3, 2, 4, 5), (1, 3, 2, 8)]),
])
def test_products_bound_prints_a_row_per_shape(capsys, mode, sizes):
    assert products_bound.main(["--quick", "--budget", "0.01"] + mode) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("malloc:")
    rows = [line.split() for line in lines[2:]]
    n = len(sizes[0])
    assert [tuple(map(int, r[:n])) for r in rows] == sizes
    for r in rows:
        ref, fast, products, speedup, bound = map(float, r[n:])
        assert ref > 0 and fast > 0 and products > 0
        assert speedup == pytest.approx(ref / fast, abs=_rounding(ref, fast))
        assert bound == pytest.approx(ref / products, abs=_rounding(ref, products))


def test_lm_takes_no_forward_or_dtype(capsys):
    with pytest.raises(SystemExit):
        products_bound.main(["--lm", "--forward"])
    assert "--lm times float32 training steps" in capsys.readouterr().err


@pytest.mark.parametrize("shape", ["1,2,3", "1,2,3,0", "a,b,c,d"])
def test_a_shape_is_four_positive_integers(capsys, shape):
    with pytest.raises(SystemExit):
        products_bound.main(["--shape", shape])
    assert "expected N,T,D,H (four positive integers)" in capsys.readouterr().err


def _rounding(a, b):
    """How far a ratio printed to 0.01 can be from that of a and b printed to 0.001."""
    h = 0.0005
    return max((a + h) / (b - h) - a / b, a / b - (a - h) / (b + h)) + 0.005 + 1e-9
