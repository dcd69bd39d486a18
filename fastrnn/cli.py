"""The ``fastrnn`` console command.

Each subcommand has an ``_add_<name>`` function that declares its options
and sets ``func``, the function that runs it and returns the exit status.
To add one, write such a pair and call the ``_add_`` function in
``build_parser``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from typing import Callable

# Iterations per backend of the speed comparison that ends every `fastrnn
# train` run (here, not in fastrnn.lm.run, so that building the parser does
# not import the language-model modules).
FINAL_COMPARE_ITERS = 200
COMPARE_ITERS_WITH_FLAG = 500  # `--compare` given without a number


class UsageError(Exception):
    """A user error: reported in one line, exit status 2."""


def check_output_path(option: str, path: str | None) -> None:
    """Raise ``UsageError`` unless ``path`` (given for ``option``) can be written."""
    if path is None:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f"{option} {path}: is a folder, expected a file name")
    if not os.path.isdir(folder):
        raise UsageError(f"{option} {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"{option} {path}: folder {folder} is not writable")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise UsageError(f"{option} {path}: file is not writable")


def check_plot_path(path: str | None) -> None:
    """Raise ``UsageError`` unless ``--plot path`` can be written, with matplotlib."""
    check_output_path("--plot", path)
    if path is not None and importlib.util.find_spec("matplotlib") is None:
        raise UsageError("--plot needs matplotlib (pip install matplotlib)")


def _positive(kind: type) -> Callable[[str], int | float]:
    """An argparse type: ``kind(text)``, which must be > 0."""
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not value > 0:
            raise argparse.ArgumentTypeError(f"must be a positive {kind.__name__}, got {text}")
        return value
    return parse


def _run_bench(args: argparse.Namespace) -> int:
    from . import bench
    from .shapes import QUICK, SHAPES

    try:
        if args.json != "-":
            check_output_path("--json", args.json)
        check_plot_path(args.plot)
    except UsageError as e:
        print(f"fastrnn bench: error: {e}", file=sys.stderr)
        return 2
    shapes = (QUICK if args.quick else SHAPES)[args.layer]
    budget = args.budget
    if budget is None:
        budget = bench.QUICK_BUDGET if args.quick else bench.DEFAULT_BUDGET
    # With --json -, the JSON alone goes to stdout and the table to stderr.
    table_out = sys.stderr if args.json == "-" else sys.stdout
    try:
        report = bench.run_bench(shapes, dtype=args.dtype, seed=args.seed, budget=budget,
                                 forward_only=args.forward, torch=not args.no_torch,
                                 startup=not args.quick, out=table_out, layer=args.layer)
    except KeyboardInterrupt:
        print("fastrnn bench: interrupted", file=sys.stderr)
        return 130
    if args.json == "-":
        json.dump(report, sys.stdout, indent=1)
        print()
    elif args.json is not None:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    if args.plot is not None:
        bench.plot_report(report, args.plot)
    return 0


def _add_bench(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="time fastrnn's TimeRNN, TimeLSTM or TimeGRU against the numpy reference "
             "(and PyTorch)",
        description="Time forward+backward (or, with --forward, forward alone) of "
                    "fastrnn's layer (--layer: TimeRNN, TimeLSTM with a TimeBiLSTM row "
                    "and a stateful one-step row, or TimeGRU) and of the numpy "
                    "reference's on the benchmark shapes, in one process (and "
                    "PyTorch's nn.RNN, nn.LSTM or nn.GRU in a child process, if "
                    "installed; its GRU formula differs, so that column is speed only), "
                    "and print "
                    "times, speed-ups, the share of this machine's GEMM roofline, "
                    "peak memory and the largest differences.")
    parser.add_argument("--layer", choices=["rnn", "lstm", "gru"], default="rnn",
                        help="the layer to time (default: %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help="small shapes and a short time budget (a few seconds); "
                             "skips the start-up measurement")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                        help="dtype of weights and inputs (default: %(default)s)")
    parser.add_argument("--forward", action="store_true",
                        help="time forward alone (inference)")
    parser.add_argument("--no-torch", action="store_true",
                        help="leave out PyTorch even if it is installed")
    parser.add_argument("--json", metavar="FILE",
                        help="also write the report as JSON to FILE (- for stdout; the "
                             "table then goes to stderr)")
    parser.add_argument("--plot", metavar="FILE.png",
                        help="save a bar chart of the speed-ups (needs matplotlib)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the random weights and inputs (default: %(default)s)")
    # Hidden: seconds of timing per shape, for tests.
    parser.add_argument("--budget", type=_positive(float), default=None,
                        help=argparse.SUPPRESS)
    parser.set_defaults(func=_run_bench)


def _run_train(args: argparse.Namespace) -> int:
    from .lm.run import run_train

    return run_train(args)


def _add_train(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train the book's chapter-5 RNN language model",
        description="Train SimpleRnnlm (embedding, stateful TimeRNN, affine, softmax) "
                    "with truncated BPTT. With no options: the chapter-5 model on the "
                    "built-in corpus, whose best possible perplexity is known.")
    data = parser.add_argument_group("data")
    data.add_argument("--corpus", metavar="FILE",
                      help="training text (a newline is an <eos> token; words split on "
                           "white space); default: the built-in Markov corpus")
    data.add_argument("--valid", metavar="FILE", help="validation text (needs --corpus)")
    data.add_argument("--test", metavar="FILE", help="test text (needs --corpus)")
    data.add_argument("--corpus-size", type=_positive(int), metavar="N",
                      help="use the first N training tokens, as the book's corpus[:1000]")
    model = parser.add_argument_group("model and training")
    model.add_argument("--batch-size", type=_positive(int), default=10)
    model.add_argument("--time-size", type=_positive(int), default=5)
    model.add_argument("--wordvec", type=_positive(int), default=100, help="word vector size D")
    model.add_argument("--hidden", type=_positive(int), default=100, help="hidden size H")
    model.add_argument("--tied", action="store_true",
                       help="share the embedding with the output layer (needs D == H)")
    model.add_argument("--lr", type=_positive(float), default=0.1)
    model.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    model.add_argument("--max-grad", type=_positive(float), metavar="NORM",
                       help="clip the global gradient norm to NORM")
    model.add_argument("--epochs", type=_positive(int), default=10)
    model.add_argument("--seed", type=int, default=0,
                       help="seed of the weights (and of the built-in corpus)")
    model.add_argument("--backend", choices=["fastrnn", "numpy"], default="fastrnn",
                       help="fastrnn's layers or the book's numpy layers")
    out = parser.add_argument_group("output")
    out.add_argument("--compare", type=_positive(int), metavar="ITERS", nargs="?",
                     const=COMPARE_ITERS_WITH_FLAG,
                     help="iterations per backend of the closing speed comparison "
                          f"(default {COMPARE_ITERS_WITH_FLAG} with the flag, "
                          f"{FINAL_COMPARE_ITERS} without)")
    out.add_argument("--save", metavar="FILE.npz", help="save the params after every epoch")
    out.add_argument("--load", metavar="FILE.npz", help="start from saved params")
    out.add_argument("--plot", metavar="FILE.png",
                     help="plot perplexity per epoch (needs matplotlib)")
    out.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")
    parser.set_defaults(func=_run_train)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit status 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``fastrnn`` command and its subcommands."""
    parser = _Parser(
        prog="fastrnn", description="Tools for fastrnn, a fast drop-in TimeRNN.")
    subparsers = parser.add_subparsers(title="commands", dest="command",
                                       metavar="COMMAND", required=True)
    _add_bench(subparsers)
    _add_train(subparsers)
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
