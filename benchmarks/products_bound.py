"""How fast TimeRNN (TimeLSTM, TimeGRU) could be if only its matrix products took time.

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

With ``--layer lstm`` or ``--layer gru``, the same for that layer's shapes
(``fastrnn.bench.shapes.SHAPES``, one direction, no stateful rows): the products
are G = 4 (or 3) times as wide, (N, H) @ (H, 4H) per step for an LSTM; a
GRU has two dependent products per step, h @ (H, 2H) and (r*h) @ (H, H),
and two back.

With ``--shape N,T,D,H`` (repeatable), the layer's bound at those shapes
instead of the registry's (e.g. the seq2seq LSTMs of chapters 7 and 8,
``--layer lstm --shape 128,29,16,256``).

With ``--lm``, the same for a training step of the language model: the
numpy and fastrnn backends, and the products of its RNN and output layer.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/products_bound.py
        [--layer rnn|lstm|gru] [--forward] [--dtype float64] [--lm] [--quick]
        [--shape N,T,D,H ...] [--budget SECONDS]
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Iterator

import numpy as np

from fastrnn.tuning import time_loop_path
from fastrnn.bench import (DEFAULT_BUDGET, fix_malloc, make_inputs, make_layer,
                           time_alternating)
from fastrnn_kernels._jit import kernel
from fastrnn.lm.train import TrainConfig
from fastrnn.bench.shapes import LM_SHAPES, QUICK, SHAPES, Shape

from bench_env import lm_trainer


@kernel
def _repeat_dot(a, w, out, times):
    # The per-step products of fastrnn's Numba time loops (forward_steps).
    for _ in range(times):
        np.dot(a, w, out)


def bound_shapes(layer: str, quick: bool) -> list[Shape]:
    """The registry's shapes of ``layer`` that the products model covers:
    one direction, forward+backward (no TimeBiLSTM or stateful rows)."""
    return [s for s in (QUICK if quick else SHAPES)[layer]
            if s.layer == layer and not s.stateful]


def products(shape: Shape, dtype: str, forward_only: bool) -> Callable[[], None]:
    """Return a function doing the matrix products that one fastrnn call
    leaves to OpenBLAS, alone (see the module's docstring)."""
    wx, wh, _, xs, dhs = make_inputs(shape, dtype, seed=0)
    n, t, d, h = shape.N, shape.T, shape.D, shape.H
    g = shape.gates
    flat_x = xs.reshape(-1, d)
    # Stands in for the gradients of the gate inputs (before tanh for an RNN).
    flat_da = (dhs.reshape(-1, h) if g == 1 else
               np.random.default_rng(1).standard_normal((n * t, g * h)).astype(dtype))
    gates = np.empty((n * t, g * h), dtype=dtype)
    hs = np.zeros((n * t, h), dtype=dtype)  # (for an RNN, the projection)
    dxs, dwx, dwh = np.empty_like(flat_x), np.empty_like(wx), np.empty_like(wh)
    # state stays zero (the backward's products write to back), so that
    # products repeated call after call cannot overflow.
    state, back = np.zeros((n, h), dtype=dtype), np.empty((n, h), dtype=dtype)
    wh_t = wh.T.copy()
    # Each step's products, forward and backward: (a, w, out).
    if shape.layer == "gru":
        wide, narrow = np.empty((n, 2 * h), dtype=dtype), np.empty((n, h), dtype=dtype)
        fwd = [(state, np.ascontiguousarray(wh[:, :2 * h]), wide),
               (state, np.ascontiguousarray(wh[:, 2 * h:]), narrow)]
        bwd = [(narrow, wh_t[2 * h:], back), (wide, wh_t[:2 * h], back)]
    else:
        work = np.empty((n, g * h), dtype=dtype)
        fwd, bwd = [(state, wh, work)], [(work, wh_t, back)]

    path = time_loop_path(n, h, g)

    def steps(pairs) -> None:
        if path == "one_row":
            return  # fastrnn's own loop: no OpenBLAS
        for a, w, out in pairs:
            if path == "small":
                _repeat_dot(a, w, out, t)
            else:
                for _ in range(t):
                    np.matmul(a, w, out=out)

    def run() -> None:
        np.matmul(flat_x, wx, out=gates if g > 1 else hs)
        steps(fwd)
        if forward_only:
            return
        steps(bwd)
        np.matmul(flat_da, wx.T, out=dxs)
        np.matmul(flat_x.T, flat_da, out=dwx)
        np.matmul(hs[:-1].T, flat_da[1:], out=dwh)

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


def _shape(text: str) -> tuple[int, int, int, int]:
    """``--shape``: N,T,D,H, four positive integers."""
    try:
        sizes = tuple(int(x) for x in text.split(","))
    except ValueError:
        sizes = ()
    if len(sizes) != 4 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected N,T,D,H (four positive integers), "
                                         f"got {text!r}")
    return sizes


def _timernn_rows(args: argparse.Namespace) -> Iterator[Row]:
    shapes = ([Shape(*sizes, "given", layer=args.layer) for sizes in args.shape]
              if args.shape else bound_shapes(args.layer, args.quick))
    for shape in shapes:
        *params, xs, dhs = make_inputs(shape, args.dtype, seed=0)
        calls = []
        for layer in (make_layer(shape, params, "reference"),
                      make_layer(shape, params, "fastrnn")):
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
    parser.add_argument("--layer", default="rnn", choices=("rnn", "lstm", "gru"),
                        help="the layer whose shapes to bound (default: %(default)s)")
    parser.add_argument("--forward", action="store_true", help="forward alone")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--lm", action="store_true",
                        help="a training step of the language model instead (float32)")
    parser.add_argument("--quick", action="store_true", help="the small stand-in shapes")
    parser.add_argument("--shape", type=_shape, action="append", metavar="N,T,D,H",
                        help="a shape to bound instead of the registry's (repeatable)")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET,
                        help="seconds of timing per shape (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.lm and (args.forward or args.dtype != "float32" or args.shape):
        parser.error("--lm times float32 training steps: no --forward, --dtype or --shape")
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
