"""The ``fastrnn`` console command.

Each subcommand has an ``_add_<name>`` function that declares its options
and sets ``func``, the function that runs it and returns the exit status.
To add one, write such a pair and call the ``_add_`` function in
``build_parser``.
"""

from __future__ import annotations

import argparse


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _run_bench(args: argparse.Namespace) -> int:
    from . import bench
    from .shapes import BENCH_SHAPES, QUICK_SHAPES

    shapes = QUICK_SHAPES if args.quick else BENCH_SHAPES
    budget = args.budget
    if budget is None:
        budget = bench.QUICK_BUDGET if args.quick else bench.DEFAULT_BUDGET
    bench.run_bench(shapes, dtype=args.dtype, seed=args.seed, budget=budget)
    return 0


def _add_bench(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="time fastrnn's TimeRNN against the numpy reference",
        description="Time forward+backward of fastrnn.TimeRNN and of the numpy "
                    "reference TimeRNN on the benchmark shapes, in one process, "
                    "and print times, speed-ups and the largest differences.")
    parser.add_argument("--quick", action="store_true",
                        help="small shapes and a short time budget (a few seconds)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                        help="dtype of weights and inputs (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the random weights and inputs (default: %(default)s)")
    # Hidden: seconds of timing per shape, for tests.
    parser.add_argument("--budget", type=_positive_float, default=None,
                        help=argparse.SUPPRESS)
    parser.set_defaults(func=_run_bench)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``fastrnn`` command and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="fastrnn", description="Tools for fastrnn, a fast drop-in TimeRNN.")
    subparsers = parser.add_subparsers(title="commands", dest="command",
                                       metavar="COMMAND", required=True)
    _add_bench(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``fastrnn`` command.

    Parameters
    ----------
    argv : the arguments after the program name; ``sys.argv[1:]`` if None.

    Returns
    -------
    The exit status. Bad arguments raise ``SystemExit(2)`` (argparse).
    """
    args = build_parser().parse_args(argv)
    return args.func(args)
