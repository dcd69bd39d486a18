"""Smoke test of ``own_product.py`` (a benchmark script, run by hand)."""

import pytest

import own_product


def test_own_product_prints_a_row_per_shape_with_a_small_error(capsys):
    assert own_product.main(["--quick", "--budget", "0.01"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in lines[2:]]
    assert [(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows] == list(
        own_product.shapes(quick=True))
    for r in rows:
        blas, own = float(r[4]), float(r[5])
        assert blas > 0 and own > 0
        assert float(r[7]) == pytest.approx(own / blas, rel=0.02, abs=0.01)
        assert float(r[9]) < 1e-6  # relative to the sum of |a| |w|: float32 rounding
