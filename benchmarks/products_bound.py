"""How fast TimeRNN could be if only its matrix products took time.

For each benchmark shape this times, side by side in one run, the numpy
reference, fastrnn, and the matrix products alone that fastrnn's call does
with numpy's OpenBLAS: the input projection, the T per-step (N, H) @ (H, H)
products forward (and T backward), and dxs, dWx and dWh. The reference's
time over the products' time bounds the speed-up of any TimeRNN that leaves
these products to OpenBLAS: where a target is above it, reaching the target
needs faster products than OpenBLAS's, not less overhead around them.

The per-step products are called from a Python loop (about 1 us per call),
so the bound is loose where the steps are tiny (the first two shapes: call
overhead and latency limit those, and N = 1 does not use OpenBLAS for them).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/products_bound.py
        [--forward] [--dtype float64] [--quick] [--budget SECONDS]
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable

import numpy as np

from fastrnn import TimeRNN, reference
from fastrnn.bench import DEFAULT_BUDGET, fix_malloc, make_inputs, time_alternating
from fastrnn.shapes import BENCH_SHAPES, QUICK_SHAPES, Shape


def products(shape: Shape, dtype: str, forward_only: bool) -> Callable[[], None]:
    """Return a function doing the matrix products of one fastrnn call, alone."""
    wx, wh, _, xs, dhs = make_inputs(shape, dtype, seed=0)
    n, t, d, h = shape.N, shape.T, shape.D, shape.H
    flat_x = xs.reshape(-1, d)
    flat_dts = dhs.reshape(-1, h)  # stands in for the gradients before tanh
    hs = np.empty((n * t, h), dtype=dtype)
    state, work = np.zeros((n, h), dtype=dtype), np.empty((n, h), dtype=dtype)
    dxs, dwx, dwh = np.empty_like(flat_x), np.empty_like(wx), np.empty_like(wh)
    wh_t = wh.T.copy()

    def run() -> None:
        np.matmul(flat_x, wx, out=hs)
        for _ in range(t):
            np.matmul(state, wh, out=work)
        if forward_only:
            return
        for _ in range(t):
            np.matmul(work, wh_t, out=state)
        np.matmul(flat_dts, wx.T, out=dxs)
        np.matmul(flat_x.T, flat_dts, out=dwx)
        np.matmul(hs[:-1].T, flat_dts[1:], out=dwh)

    return run


def main(argv: list[str] | None = None) -> int:
    """Print, per shape: reference, fastrnn and products-only ms, the
    speed-up, and its bound (reference over products)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--forward", action="store_true", help="forward alone")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--quick", action="store_true", help="the small stand-in shapes")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET,
                        help="seconds of timing per shape (default: %(default)s)")
    args = parser.parse_args(argv)
    print(fix_malloc())
    print(f"{'N':>4} {'T':>5} {'D':>4} {'H':>4}  {'reference ms':>12} {'fastrnn ms':>10} "
          f"{'products ms':>11} {'speed-up':>8} {'bound':>6}")
    for shape in QUICK_SHAPES if args.quick else BENCH_SHAPES:
        wx, wh, b, xs, dhs = make_inputs(shape, args.dtype, seed=0)
        calls = []
        for layer in (reference.TimeRNN(wx, wh, b), TimeRNN(wx, wh, b)):
            if args.forward:
                calls.append(lambda layer=layer: layer.forward(xs))
            else:
                calls.append(lambda layer=layer: (layer.forward(xs), layer.backward(dhs)))
        calls.append(products(shape, args.dtype, args.forward))
        for call in calls:  # warm-up (and fastrnn's compile or cache load)
            call()
        ref_s, fast_s, prod_s = time_alternating(calls, args.budget)
        print(f"{shape.N:4d} {shape.T:5d} {shape.D:4d} {shape.H:4d}  {ref_s * 1e3:12.3f} "
              f"{fast_s * 1e3:10.3f} {prod_s * 1e3:11.3f} {ref_s / fast_s:8.2f} "
              f"{ref_s / prod_s:6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
