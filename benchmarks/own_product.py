"""fastrnn's own small-batch product against OpenBLAS (and PyTorch) alone.

Times, side by side in one run, the per-step products of a recurrent
layer's time loops at the shapes of issue #20: forward ``h @ Wh``, an
(M, H) state by H x G*H weights, and backward ``da @ Wh.T``, an (M, G*H)
gradient by their transpose; M in {1, 20, 64, 128}, G = 4 (LSTM) and 3
(GRU), H in {100, 128, 256, 512, 650}. Each product is timed as
``np.dot`` (numpy's OpenBLAS, all its threads; backward on the transposed
view, as the time loops call it over a few steps), as fastrnn's
``times_transposed`` (one core; forward on the packed Wh.T the loop makes
once per call, backward on Wh itself), and, if PyTorch is installed, as
``torch.matmul`` (after all numpy timings, so that its threads do not spin
beside them). Each column gives GFLOP/s; "share" is the own kernel's share
of this machine's GEMM speed (``gemm_peak``: numpy, all threads, large
square products), and "own/blas" the speed-up over OpenBLAS. The last
column is the time-loop path ``fastrnn.tuning`` picks for such a TimeLSTM
(G = 4) or TimeGRU (G = 3, which has no own loops) over 35 steps.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/own_product.py
        [--quick] [--dtype float64] [--budget SECONDS]
"""

from __future__ import annotations

import argparse
import sys
from typing import Iterator

import numpy as np

from fastrnn.bench import time_alternating
from fastrnn.bench.measure import gemm_peak
from fastrnn.tuning import time_loop_path
from fastrnn_kernels.products import times_transposed, transposed

ROWS = (1, 20, 64, 128)
GATES = (4, 3)
HIDDEN = (100, 128, 256, 512, 650)


def shapes(quick: bool) -> Iterator[tuple[str, int, int, int]]:
    """(direction, M, G, H) of every row."""
    for h in (HIDDEN[:1] if quick else HIDDEN):
        for g in (GATES[:1] if quick else GATES):
            for m in ((1, 20) if quick else ROWS):
                for direction in ("forward", "backward"):
                    yield direction, m, g, h


def operands(direction: str, m: int, g: int, h: int, dtype: str, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(a, w for np.dot, bt for times_transposed, out) of one product."""
    wh = rng.standard_normal((h, g * h)).astype(dtype)
    if direction == "forward":  # h @ Wh
        return rng.standard_normal((m, h)).astype(dtype), wh, transposed(wh), \
            np.empty((m, g * h), dtype)
    return rng.standard_normal((m, g * h)).astype(dtype), wh.T, wh, np.empty((m, h), dtype)


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few shapes")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--budget", type=float, default=0.3,
                        help="seconds of timing per shape (default 0.3)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    peak = gemm_peak(args.dtype, n=256 if args.quick else 1536,
                     seconds=0.05 if args.quick else 1.0)
    rows = []
    for direction, m, g, h in shapes(args.quick):
        a, w, bt, out = operands(direction, m, g, h, args.dtype, rng)
        check = np.empty_like(out)
        np.dot(a, w, check)
        times_transposed(a, bt, out)
        scale = np.abs(a).astype(np.float64) @ np.abs(w).astype(np.float64)
        error = float(np.max(np.abs(out - check) / scale))
        blas_s, own_s = time_alternating([lambda: np.dot(a, w, check),
                                          lambda: times_transposed(a, bt, out)], args.budget)
        rows.append([direction, m, g, h, 2.0 * out.size * a.shape[1], blas_s, own_s, error,
                     (a, w, out)])
    torch = _torch()
    print(f"{args.dtype}; GEMM peak (numpy, all threads) {peak / 1e9:.0f} GFLOP/s; "
          f"GFLOP/s per product{'' if torch else '; PyTorch not installed'}")
    print(f"{'direction':9} {'M':>4} {'G':>2} {'H':>4} {'blas':>7} {'own':>7} {'torch':>7} "
          f"{'own/blas':>8} {'share':>6} {'error':>8}  tuning")
    for direction, m, g, h, flops, blas_s, own_s, error, (a, w, out) in rows:
        torch_gf = "-"
        if torch is not None:
            ta, tw = torch.from_numpy(a), torch.from_numpy(np.ascontiguousarray(w))
            to = torch.from_numpy(np.empty_like(out))
            torch.matmul(ta, tw, out=to)
            torch_s, = time_alternating([lambda: torch.matmul(ta, tw, out=to)], args.budget / 2)
            torch_gf = f"{flops / torch_s / 1e9:7.1f}"
        path = time_loop_path(m, h, g, backward=direction == "backward", own=g == 4,
                              n_steps=35, dtype=args.dtype)
        print(f"{direction:9} {m:4d} {g:2d} {h:4d} {flops / blas_s / 1e9:7.1f} "
              f"{flops / own_s / 1e9:7.1f} {torch_gf:>7} {blas_s / own_s:8.2f} "
              f"{flops / own_s / peak:6.1%} {error:8.1e}  "
              f"{path.value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
