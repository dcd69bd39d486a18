"""How fast TimeRNN could be if only its matrix products took time.

For each benchmark shape this times, side by side in one run, the numpy
reference, fastrnn, and the matrix products alone that fastrnn's call leaves
to OpenBLAS: the input projection, dxs, dWx and dWh (numpy's), and the T
per-step (N, H) @ (H, H) products forward (and T backward), called as
fastrnn calls them: from a Numba loop (SciPy's OpenBLAS) where they are
small, else from Python on numpy's (about 1 us per call, under 1% of such a
product). For one sequence with H <= 64, fastrnn computes the per-step
products itself, so they are left out. The reference's time over the
products' time bounds the speed-up of any TimeRNN that leaves these
products to OpenBLAS: where a target is above it, reaching the target needs
faster products than OpenBLAS's, not less overhead around them.

With ``--lm``, the same for a training step of the language model: the
numpy and fastrnn backends, and the products of its RNN and output layer.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/products_bound.py
        [--forward] [--dtype float64] [--lm] [--quick] [--budget SECONDS]
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Iterator

import numpy as np

from fastrnn import TimeRNN, reference
from fastrnn._tuning import time_loop_path
from fastrnn.bench import DEFAULT_BUDGET, fix_malloc, make_inputs, time_alternating
from fastrnn_kernels._jit import kernel
from fastrnn.lm.train import TrainConfig
from fastrnn.shapes import BENCH_SHAPES, LM_SHAPES, QUICK_SHAPES, Shape

from bench_env import lm_trainer


@kernel
def _repeat_dot(a, w, out, times):
    # The per-step products of fastrnn's Numba time loops (forward_steps).
    for _ in range(times):
        np.dot(a, w, out)


def products(shape: Shape, dtype: str, forward_only: bool) -> Callable[[], None]:
    """Return a function doing the matrix products that one fastrnn call
    leaves to OpenBLAS, alone (see the module's docstring)."""
    wx, wh, _, xs, dhs = make_inputs(shape, dtype, seed=0)
    n, t, d, h = shape.N, shape.T, shape.D, shape.H
    flat_x = xs.reshape(-1, d)
    flat_dts = dhs.reshape(-1, h)  # stands in for the gradients before tanh
    hs = np.empty((n * t, h), dtype=dtype)
    state, work = np.zeros((n, h), dtype=dtype), np.empty((n, h), dtype=dtype)
    dxs, dwx, dwh = np.empty_like(flat_x), np.empty_like(wx), np.empty_like(wh)
    wh_t = wh.T.copy()

    path = time_loop_path(n, h, 1)

    def steps(a: np.ndarray, w: np.ndarray, out: np.ndarray) -> None:
        if path == "one_row":
            return  # fastrnn's own loop: no OpenBLAS
        if path == "small":
            _repeat_dot(a, w, out, t)
        else:
            for _ in range(t):
                np.matmul(a, w, out=out)

    def run() -> None:
        np.matmul(flat_x, wx, out=hs)
        steps(state, wh, work)
        if forward_only:
            return
        steps(work, wh_t, state)
        np.matmul(flat_dts, wx.T, out=dxs)
        np.matmul(flat_x.T, flat_dts, out=dwx)
        np.matmul(hs[:-1].T, flat_dts[1:], out=dwh)

    return run


# A table row: its size columns and the calls to time (reference, fastrnn,
# products alone).
Row = tuple[str, list[Callable[[], object]]]


def lm_products(vocab: int, batch: int, steps: int) -> Callable[[], None]:
    """Return a function doing the matrix products of one training step of the
    language model (``SimpleRnnlm``), alone: the RNN's, and the output
    layer's (N*T, H) @ (H, V) and its two gradients."""
    cfg = TrainConfig(batch_size=batch, time_size=steps)
    rnn = products(Shape(batch, steps, cfg.wordvec_size, cfg.hidden_size, "lm"), "float32",
                   forward_only=False)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch * steps, cfg.hidden_size)).astype(np.float32)
    w = rng.standard_normal((cfg.hidden_size, vocab)).astype(np.float32)
    dout = rng.standard_normal((batch * steps, vocab)).astype(np.float32)
    out, dw, dx = np.empty_like(dout), np.empty_like(w), np.empty_like(x)

    def run() -> None:
        rnn()
        np.matmul(x, w, out=out)
        np.matmul(x.T, dout, out=dw)
        np.matmul(dout, w.T, out=dx)

    return run


def _timernn_rows(args: argparse.Namespace) -> Iterator[Row]:
    for shape in QUICK_SHAPES if args.quick else BENCH_SHAPES:
        wx, wh, b, xs, dhs = make_inputs(shape, args.dtype, seed=0)
        calls = []
        for layer in (reference.TimeRNN(wx, wh, b), TimeRNN(wx, wh, b)):
            if args.forward:
                calls.append(lambda layer=layer: layer.forward(xs))
            else:
                calls.append(lambda layer=layer: (layer.forward(xs), layer.backward(dhs)))
        yield (f"{shape.N:4d} {shape.T:5d} {shape.D:4d} {shape.H:4d}",
               calls + [products(shape, args.dtype, args.forward)])


def _lm_rows(args: argparse.Namespace) -> Iterator[Row]:
    for vocab, batch, steps in LM_SHAPES[:1] if args.quick else LM_SHAPES:
        calls = [lm_trainer(vocab, batch, steps, backend).step
                 for backend in ("numpy", "fastrnn")]
        yield f"{vocab:6d} {batch:4d} {steps:5d}", calls + [lm_products(vocab, batch, steps)]


def main(argv: list[str] | None = None) -> int:
    """Print, per shape: reference, fastrnn and products-only ms, the
    speed-up, and its bound (reference over products)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--forward", action="store_true", help="forward alone")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--lm", action="store_true",
                        help="a training step of the language model instead (float32)")
    parser.add_argument("--quick", action="store_true", help="the small stand-in shapes")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET,
                        help="seconds of timing per shape (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.lm and (args.forward or args.dtype != "float32"):
        parser.error("--lm times float32 training steps: no --forward or --dtype")
    print(fix_malloc())
    size = f"{'V':>6} {'N':>4} {'T':>5}" if args.lm else f"{'N':>4} {'T':>5} {'D':>4} {'H':>4}"
    print(f"{size}  {'reference ms':>12} {'fastrnn ms':>10} {'products ms':>11} "
          f"{'speed-up':>8} {'bound':>6}")
    for label, calls in (_lm_rows if args.lm else _timernn_rows)(args):
        for call in calls:  # warm-up (and fastrnn's compile or cache load)
            call()
        ref_s, fast_s, prod_s = time_alternating(calls, args.budget)
        print(f"{label}  {ref_s * 1e3:12.3f} {fast_s * 1e3:10.3f} {prod_s * 1e3:11.3f} "
              f"{ref_s / fast_s:8.2f} {ref_s / prod_s:6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
