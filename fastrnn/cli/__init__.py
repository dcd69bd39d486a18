"""The ``fastrnn`` console command: its parser and ``main``.

Each subcommand has an ``_add_<name>`` function here that declares its
options and sets ``func`` to the function that runs it, in the subcommand's
own module (``bench``, ``train``, ``models`` for generate and eval, ``run``),
imported only when the command runs: building the parser loads no layer and
no Numba. ``checks`` holds every path and value check. To add a subcommand,
write its ``_add_`` function, call it in ``build_parser``, and put its run
function in a module of its own.

The command line depends on the library, never the reverse.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Callable

from .. import __version__
from ..registry import bench_layers, book_modules
from ..lm.presets import ADAM_LR, TRAIN_PRESETS, train_preset
from .checks import (apply_presets, check_interrupted, failure_status, positive, ratio,
                     recording_interrupts, seed_int)

# Iterations per backend of the speed comparison that ends every `fastrnn
# train` run (the default of --compare: building the parser imports no
# language-model module).
FINAL_COMPARE_ITERS = 200
COMPARE_ITERS_WITH_FLAG = 500  # `--compare` given without a number

def _runner(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """The run function ``name`` of ``fastrnn.cli.<module>``, imported when
    the command runs (inside ``main``'s Ctrl-C handling)."""
    def run(args: argparse.Namespace) -> int:
        func = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        check_interrupted()  # a Ctrl-C swallowed during the imports
        return func(args)
    return run


def _preset_help(option: str) -> str:
    values = {model: preset.get(option) for model, preset in TRAIN_PRESETS.items()}
    return "default: " + ", ".join(f"{value:g} for {model}" if isinstance(value, float)
                                   else f"{value} for {model}"
                                   for model, value in values.items() if value is not None)


def _add_bench(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="time a layer of fastrnn (TimeRNN, TimeLSTM, TimeGRU, TimeBiLSTM) against "
             "the numpy reference (and PyTorch)",
        description="Time forward+backward (or, with --forward, forward alone) of "
                    "fastrnn's layer (--layer: TimeRNN, TimeLSTM with a TimeBiLSTM row "
                    "and a stateful one-step row, TimeGRU, or TimeBiLSTM) and of the numpy "
                    "reference's on the benchmark shapes, in one process (and "
                    "PyTorch's nn.RNN, nn.LSTM or nn.GRU in a child process, if "
                    "installed; its GRU formula differs, so that column is speed only), "
                    "and print "
                    "times, speed-ups, the share of this machine's GEMM roofline, "
                    "peak memory and the largest differences.")
    parser.add_argument("--layer", choices=list(bench_layers()), default="rnn",
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
    parser.add_argument("--seed", type=seed_int, default=0,
                        help="seed of the random weights and inputs (default: %(default)s)")
    # Hidden: seconds of timing per shape, for tests.
    parser.add_argument("--budget", type=positive(float), default=None,
                        help=argparse.SUPPRESS)
    parser.set_defaults(func=_runner("bench", "run_bench"))


def _add_train(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train the book's language models (chapters 5 and 6)",
        description="Train SimpleRnnlm (embedding, stateful TimeRNN, affine, softmax), "
                    "Rnnlm or BetterRnnlm (--model) with truncated BPTT, with the "
                    "validation perplexity (dropout off) after each epoch. With no options: "
                    "the chapter-5 model on the built-in corpus, whose best possible "
                    "perplexity is known.")
    data = parser.add_argument_group("data")
    data.add_argument("--corpus", metavar="FILE",
                      help="training text (a newline is an <eos> token; words split on "
                           "white space); default: the built-in Markov corpus")
    data.add_argument("--valid", metavar="FILE", help="validation text (needs --corpus)")
    data.add_argument("--test", metavar="FILE", help="test text (needs --corpus)")
    data.add_argument("--corpus-size", type=positive(int), metavar="N",
                      help="use the first N training tokens, as the book's corpus[:1000]")
    model = parser.add_argument_group(
        "model and training", "--model chooses the model and the book's values of the "
        "other options; each option given overrides its preset")
    model.add_argument("--model", choices=list(TRAIN_PRESETS), default="simple",
                       help="simple: chapter 5's SimpleRnnlm (RNN); lstm: chapter 6's "
                            "Rnnlm (one LSTM); better: chapter 6's BetterRnnlm (two LSTMs, "
                            "dropout, output tied to the embedding, lr divided by 4 after "
                            "each epoch whose validation perplexity does not improve; "
                            "--save keeps the best epoch's params) (default: %(default)s)")
    model.add_argument("--batch-size", type=positive(int), help=_preset_help("batch_size"))
    model.add_argument("--time-size", type=positive(int), help=_preset_help("time_size"))
    model.add_argument("--wordvec", type=positive(int),
                       help="word vector size D; " + _preset_help("wordvec"))
    model.add_argument("--hidden", type=positive(int),
                       help="hidden size H; " + _preset_help("hidden"))
    model.add_argument("--tied", action="store_true",
                       help="share the embedding with the output layer (needs D == H): "
                            "for simple; better is always tied (--tied changes nothing); "
                            "refused for lstm, the book's untied Rnnlm")
    model.add_argument("--dropout", type=ratio, metavar="RATIO",
                       help="dropout ratio of better's three dropout layers, in [0, 1) "
                            "(better only; default 0.5)")
    model.add_argument("--lr", type=positive(float),
                       help="learning rate (values no optimizer can train with are "
                            "refused); " + _preset_help("lr")
                            + f"; {ADAM_LR:g} with --optimizer adam")
    model.add_argument("--optimizer", choices=["sgd", "adam"],
                       help="default: sgd")
    model.add_argument("--max-grad", type=positive(float), metavar="NORM",
                       help="clip the global gradient norm to NORM; default: none for "
                            "simple, 0.25 for lstm and better")
    model.add_argument("--epochs", type=positive(int), help=_preset_help("epochs"))
    model.add_argument("--seed", type=seed_int, default=0,
                       help="seed of the weights (and of the built-in corpus)")
    model.add_argument("--backend", choices=["fastrnn", "numpy"], default="fastrnn",
                       help="fastrnn's layers or the book's numpy layers")
    out = parser.add_argument_group("output")
    out.add_argument("--compare", type=positive(int), metavar="ITERS", nargs="?",
                     const=COMPARE_ITERS_WITH_FLAG, default=FINAL_COMPARE_ITERS,
                     help="iterations per backend of the closing speed comparison "
                          f"(default {COMPARE_ITERS_WITH_FLAG} with the flag, "
                          f"{FINAL_COMPARE_ITERS} without)")
    out.add_argument("--save", metavar="FILE.npz",
                     help="save the params (with the vocabulary, model kind and sizes) after "
                          "an epoch; with a validation text, only an epoch whose validation "
                          "perplexity beats the checkpoint already there (from an earlier "
                          "epoch, an earlier run, or the --load file) is saved over it. An "
                          "existing file is replaced only if it is a fastrnn checkpoint of "
                          "this model, sizes and vocabulary (or the --load file, or "
                          "another model's with --overwrite), and never if it is read-only")
    out.add_argument("--overwrite", action="store_true",
                     help="let --save replace a fastrnn checkpoint of another model, sizes "
                          "or vocabulary, and one of this model from the first epoch on "
                          "(without it, only an epoch that beats its validation perplexity "
                          "replaces it); never a file that is not a fastrnn checkpoint, "
                          "nor a read-only one")
    out.add_argument("--load", metavar="FILE.npz",
                     help="start from saved params (of the same model and sizes)")
    out.add_argument("--plot", metavar="FILE.png",
                     help="plot the training perplexity against the iteration, the "
                          "validation perplexity of each epoch and the built-in "
                          "corpus's floor (needs matplotlib)")
    out.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")
    parser.set_defaults(func=_runner("train", "run_train"),
                        preset=lambda args: train_preset(args.model, args.optimizer))


def _add_generate(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="generate text with a trained model (chapter 7's sampling)",
        description="Load a checkpoint of fastrnn train --save, feed it the start word "
                    "and then each sampled word, one at a time (batch 1, 1 time step, "
                    "stateful), sampling each next word from the softmax of the scores "
                    "with np.random.choice; <unk> and N, where in the vocabulary, are "
                    "never sampled. Prints the words joined by spaces, <eos> as a new line, "
                    "each as soon as it is drawn (Ctrl-C keeps what was printed).")
    parser.add_argument("--load", metavar="MODEL.npz", required=True,
                        help="a checkpoint written by fastrnn train --save")
    parser.add_argument("--start", metavar="WORD",
                        help="the first word (default: 'you' if in the vocabulary, else "
                             "its first word that is not skipped)")
    parser.add_argument("--length", type=positive(int), default=100, metavar="N",
                        help="words to print, the start word included (default: "
                             "%(default)s)")
    parser.add_argument("--seed", type=seed_int, default=0,
                        help="seed of the sampling (default: %(default)s)")
    parser.set_defaults(func=_runner("models", "run_generate"))


def _add_eval(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="perplexity of a trained model on a text",
        description="Load a checkpoint of fastrnn train --save and print its perplexity "
                    "on a text (read as fastrnn train reads --test: a newline is <eos>; "
                    "words not in the checkpoint's vocabulary become <unk>, if it has "
                    "one), in batches with the state carried between blocks, dropout "
                    "off.")
    parser.add_argument("--load", metavar="MODEL.npz", required=True,
                        help="a checkpoint written by fastrnn train --save")
    parser.add_argument("--text", metavar="FILE", required=True, help="the text to score")
    parser.add_argument("--batch-size", type=positive(int), default=10,
                        help="rows read in parallel (default: %(default)s; fewer for a "
                             "short text)")
    parser.add_argument("--time-size", type=positive(int), default=35,
                        help="time steps per block (default: %(default)s)")
    parser.set_defaults(func=_runner("models", "run_eval"))


def _add_run(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a script of the book on fastrnn's layers",
        description="Run SCRIPT (a file, or a folder with a __main__.py) as 'python "
                    "SCRIPT ARGS' would, except that when it imports one of the book's "
                    "modules of layers (common.time_layers, chapter 8's attention_layer: "
                    "any module whose last dotted name is "
                    f"{' or '.join(book_modules())}), each of the "
                    "book's layers in it that fastrnn does faster is swapped for "
                    "fastrnn's right after that module has run. At the end, one line on "
                    "stderr says what was replaced in each module. fastrnn is "
                    "numpy-only: a script with the book's GPU = True is stopped (status "
                    "2). Everything after SCRIPT is the script's, as typed ('--' and "
                    "--help included).",
        script_args="args")
    parser.add_argument("script", metavar="SCRIPT",
                        help="the Python script (or folder with a __main__.py) to run")
    parser.add_argument("args", nargs="*", default=[], metavar="ARGS",
                        help="the script's arguments, passed on verbatim")
    parser.set_defaults(func=_runner("run", "run_script_command"))


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit status 2).

    ``script_args``: the name of the attribute that gets, verbatim, every
    argument after the parser's first positional one (``fastrnn run
    SCRIPT ...``: the script's, ``--`` and options included, as python
    passes them on). argparse would drop a ``--`` there.
    """

    def __init__(self, *args, script_args: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._script_args = script_args

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        """argparse's on the arguments up to the first positional one if
        ``script_args`` is set (the rest goes to that attribute as it is),
        then the presets of the chosen model (``fastrnn train --model``) for
        the options left unset."""
        rest_of_script = None
        if self._script_args is not None:
            args = sys.argv[1:] if args is None else list(args)
            end = _first_positional(args)
            if end is not None:
                args, rest_of_script = args[:end + 1], args[end + 1:]
        parsed, rest = super().parse_known_args(args, namespace)
        if rest_of_script is not None:
            setattr(parsed, self._script_args, rest_of_script)
        if getattr(parsed, "preset", None) is not None:
            apply_presets(parsed, parsed.preset(parsed))
        return parsed, rest


def _first_positional(args: list[str]) -> int | None:
    """The index of the first argument that is not an option (after a ``--``,
    the one that follows it), or None. Only for parsers whose options take no
    value (``run``'s: ``--help``)."""
    for i, arg in enumerate(args):
        if arg == "--":
            return i + 1 if i + 1 < len(args) else None
        if not arg.startswith("-") or arg == "-":
            return i
    return None


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``fastrnn`` command and its subcommands."""
    parser = _Parser(
        prog="fastrnn", description="Tools for fastrnn, fast drop-in time layers for "
                                    "'Deep Learning from Scratch 2'.")
    parser.add_argument("--version", action="version", version=f"fastrnn {__version__}")
    subparsers = parser.add_subparsers(title="commands", dest="command",
                                       metavar="COMMAND", required=True)
    _add_bench(subparsers)
    _add_train(subparsers)
    _add_generate(subparsers)
    _add_eval(subparsers)
    _add_run(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``fastrnn`` command.

    Parameters
    ----------
    argv : the arguments after the program name; ``sys.argv[1:]`` if None.

    Returns
    -------
    The exit status: 0; 1 if the system fails (e.g. a full disk); 2 for a
    usage error (bad arguments raise ``SystemExit(2)``, from argparse) or a
    diverging training; 130 after Ctrl-C.
    """
    command = "fastrnn"
    # Everything, the subcommand's imports and kernel compilation included,
    # runs inside this try: Ctrl-C or an exhausted memory at any moment
    # ends with one line, never a traceback.
    with recording_interrupts():
        try:
            args = build_parser().parse_args(argv)
            command = f"fastrnn {args.command}"
            return args.func(args)
        except KeyboardInterrupt:
            print(f"{command}: interrupted", file=sys.stderr)
            return 130
        except Exception as e:  # noqa: BLE001 - each reported in one line, or re-raised
            return failure_status(command, e)


def console() -> None:
    """The ``fastrnn`` console script (and ``python -m fastrnn``): ``main``,
    then exit with its status.

    After Ctrl-C the process ends at once, without the interpreter's
    clean-up: an interrupt that fell inside Numba's compiler can leave
    llvmlite objects half-built, whose finalizers then print tracebacks or
    crash at exit. Nothing is lost by it: every file is complete or removed
    by then, and the streams are flushed first.
    """
    status = main()
    if status == 130:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(status)
    sys.exit(status)
