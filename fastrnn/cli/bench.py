"""``fastrnn bench``: time a layer against the numpy reference (and PyTorch)
and print the report (``fastrnn.bench`` does the measuring)."""

from __future__ import annotations

import argparse
import json
import sys

from .. import bench
from ..files import write_replacing
from ..bench.shapes import shapes as layer_shapes
from .checks import (JSON_EXTENSIONS, PLOT_EXTENSIONS, STDOUT, check_files, check_interrupted,
                     check_plot_backend)


def _bench_outputs(args: argparse.Namespace) -> dict:
    return {"--json": (args.json, JSON_EXTENSIONS), "--plot": (args.plot, PLOT_EXTENSIONS)}


def run_bench(args: argparse.Namespace) -> int:
    """Run ``fastrnn bench`` with parsed ``args``; return the exit status."""
    check_files({}, _bench_outputs(args))
    check_plot_backend(args.plot)
    shapes = layer_shapes(args.layer, quick=args.quick)
    budget = args.budget
    if budget is None:
        budget = bench.QUICK_BUDGET if args.quick else bench.DEFAULT_BUDGET
    # With --json -, the JSON alone goes to stdout and the table to stderr.
    table_out = sys.stderr if args.json == STDOUT else sys.stdout
    report = bench.run_bench(shapes, dtype=args.dtype, seed=args.seed, budget=budget,
                             forward_only=args.forward, torch=not args.no_torch,
                             startup=not args.quick, out=table_out, layer=args.layer)
    check_files({}, _bench_outputs(args))  # again: they may have changed while timing
    if args.json == STDOUT:
        json.dump(report, sys.stdout, indent=1)
        print()
    elif args.json is not None:
        text = json.dumps(report, indent=1).encode()
        write_replacing(args.json, lambda f: f.write(text))
    if args.plot is not None:
        bench.plot_report(report, args.plot)
    check_interrupted()  # one swallowed while timing
    return 0
