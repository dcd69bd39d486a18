"""What ``fastrnn train`` checks before it trains: the option values
together, every file (and what ``--save`` may replace), the memory the data
and the model will take, and the data itself (read here, so that a bad text
is refused before any model is built). Each refusal is a ``UsageError``:
one line, exit status 2, nothing written.
"""

from __future__ import annotations

import argparse
import os

from ..lm import data, markov
from ..lm.checkpoint import (ParamsFileError, checkpoint_meta, describe, differences,
                             param_count, read_params_file, vocab_difference)
from ..lm.train import EVAL_TIME_SIZE, MAX_LR
from .checks import (PLOT_EXTENSIONS, SAVE_EXTENSIONS, UsageError, check_files,
                     check_memory, check_plot_backend)


# Memory a corpus takes while it is made and encoded (measured with
# tracemalloc, rounded up), per token of the built-in corpus; a text file's
# is data.TEXT_BYTES_PER_BYTE.
BUILTIN_BYTES_PER_TOKEN = 50


BUILTIN_EVAL_TOKENS = 20_000  # its validation and test splits


# Models alive at once: the trained one, and during the closing comparison
# one per backend plus a warm-up copy.
MODELS_AT_ONCE = 4


def outputs(args: argparse.Namespace) -> dict:
    return {"--save": (args.save, SAVE_EXTENSIONS), "--plot": (args.plot, PLOT_EXTENSIONS)}


def check_train_files(args: argparse.Namespace) -> dict:
    """Check every file of the run; return the inputs' ``os.stat``, by option."""
    return check_files(
        inputs={"--corpus": args.corpus, "--valid": args.valid, "--test": args.test,
                "--load": args.load},
        outputs=outputs(args),
        # Resuming: the checkpoint is loaded before the first save replaces it.
        may_replace={"--save": "--load"})


def check_values(args: argparse.Namespace) -> None:
    """Refuse option values that cannot work together (the parser has
    checked each alone: sizes positive, floats finite)."""
    if args.corpus is None and (args.valid or args.test):
        raise UsageError("--valid and --test need --corpus (the built-in corpus has its own)")
    if args.tied and args.model == "lstm":
        raise UsageError("--tied: --model lstm is the book's Rnnlm, whose output layer is "
                         "not tied; use --model better (always tied) or --model simple "
                         "--tied")
    if args.tied and args.wordvec != args.hidden:
        raise UsageError(f"--tied needs --wordvec == --hidden, got {args.wordvec} "
                         f"and {args.hidden}")
    if args.model == "better" and args.wordvec != args.hidden:
        raise UsageError(f"--model better ties its output layer to the embedding: it needs "
                         f"--wordvec == --hidden, got {args.wordvec} and {args.hidden}")
    if args.overwrite and args.save is None:
        raise UsageError("--overwrite is for --save (it lets --save replace a checkpoint "
                         "of another model)")
    if args.dropout is not None and args.model != "better":
        raise UsageError(f"--dropout is for --model better (--model {args.model} has no "
                         "dropout layers)")
    bound = MAX_LR[args.optimizer]
    if args.lr > bound:
        raise UsageError(f"{given_as(args, 'lr')} {args.lr:g} is too large to train with "
                         f"{args.optimizer} (at most {bound:g}); give a smaller --lr")
    check_plot_backend(args.plot)


def given_as(args: argparse.Namespace, name: str) -> str:
    """How to name the option ``name`` ("lr", "max_grad") in a message:
    "--lr", or "the preset's --lr" if the user did not give it."""
    option = "--" + name.replace("_", "-")
    return f"the preset's {option}" if name in getattr(args, "from_preset", ()) else option


def check_data_memory(args: argparse.Namespace, stats: dict) -> None:
    """Refuse a corpus whose reading would not fit (see the constants above)."""
    if args.corpus is None:
        tokens = (args.corpus_size or markov.BUILTIN_TRAIN_TOKENS) + BUILTIN_EVAL_TOKENS
        check_memory(tokens * BUILTIN_BYTES_PER_TOKEN,
                     f"the built-in corpus of {tokens:,} tokens would")
    else:
        size = sum(stats[option].st_size for option in ("--corpus", "--valid", "--test")
                   if option in stats)
        check_memory(data.TEXT_BYTES_PER_BYTE * size, f"reading {size:,} bytes of text would")


# Floats per row (one word of a batch) a recurrent layer keeps for its
# backward: an RNN its input and h; an LSTM its input, h, c, tanh(c) and the
# four gates (4H), and their gradient.
RNN_FLOATS_PER_ROW = {"simple": lambda D, H: D + H, "lstm": lambda D, H: D + 2 * 4 * H + 3 * H}


def model_bytes(args: argparse.Namespace, vocab_size: int) -> int:
    """Bytes of float32 arrays training needs: per model its params, grads,
    the shared-grads sums and the optimizer's state; per step the embedded
    words, each recurrent layer's cache (an LSTM's 4H gates; two LSTMs and
    three dropout masks for better), scores and their exps and gradient."""
    V, D, H = vocab_size, args.wordvec, args.hidden
    layers = 2 if args.model == "better" else 1
    gates = 1 if args.model == "simple" else 4
    params = param_count(args.model, V, D, H, args.tied)
    per_model = params * (3 + (2 if args.optimizer == "adam" else 0))
    rows = args.batch_size * max(args.time_size, EVAL_TIME_SIZE)
    cache = RNN_FLOATS_PER_ROW["simple" if gates == 1 else "lstm"]
    per_row = cache(D, H) + (layers - 1) * cache(H, H) + 3 * V
    if args.model == "better":
        per_row += 2 * (D + 2 * H)  # the dropout masks and their outputs
    return 4 * (MODELS_AT_ONCE * per_model + rows * per_row)


def sizes(args: argparse.Namespace, vocab_size: int | None = None) -> str:
    vocab = "" if vocab_size is None else f"V={vocab_size:,} "
    return (f"{vocab}D={args.wordvec:,} H={args.hidden:,}, batch {args.batch_size:,}, "
            f"time {args.time_size:,}")


def _read(option: str, path: str) -> list[str]:
    try:
        return data.read_words(path)
    except data.DataError as e:
        raise UsageError(f"{option}: {e}") from None


def _check_length(given: str, tokens: int, needed: int, why: str) -> None:
    """Refuse ``given`` (an option and its value) if it gives too few tokens."""
    if tokens < needed:
        raise UsageError(f"{given} gives {tokens:,} tokens (words and line ends), "
                         f"needs at least {needed:,} ({why})")


def load_data(args: argparse.Namespace) -> tuple[data.Corpus, markov.MarkovSource | None]:
    needed = args.batch_size * args.time_size + 1
    why = f"batch size {args.batch_size} * time size {args.time_size} + 1"
    if args.corpus is None:
        if args.corpus_size is not None:
            _check_length(f"--corpus-size {args.corpus_size}", args.corpus_size, needed, why)
            return markov.builtin_corpus(seed=args.seed, train_tokens=args.corpus_size)
        return markov.builtin_corpus(seed=args.seed)
    words = _read("--corpus", args.corpus)
    if args.corpus_size is not None:
        words = words[:args.corpus_size]  # as the book's corpus[:1000]
    given = f"--corpus {args.corpus}"
    if args.corpus_size is not None and args.corpus_size <= len(words):
        given = f"--corpus-size {args.corpus_size}"
    _check_length(given, len(words), needed, why)
    splits = {}
    for option, path in (("--valid", args.valid), ("--test", args.test)):
        splits[option] = None if path is None else _read(option, path)
        if path is not None:
            _check_length(f"{option} {path}", len(splits[option]), EVAL_TIME_SIZE + 1,
                          f"one evaluation block of {EVAL_TIME_SIZE} time steps + 1")
    return data.corpus_from_words(words, splits["--valid"], splits["--test"]), None


def check_save(args: argparse.Namespace, mine: dict, vocab: list[str]) -> None:
    """Refuse a ``--save`` that names an existing file this run must not
    replace: anything but a fastrnn checkpoint, and (without --overwrite) a
    checkpoint of another model, sizes or vocabulary than ``mine`` and
    ``vocab``, unless it is the ``--load`` file (which loading checks)."""
    path = args.save
    if path is None or not os.path.exists(path):
        return
    if same_file(path, args.load):
        return
    try:
        arrays = read_params_file(path)
        meta = checkpoint_meta(path, arrays)
    except ParamsFileError:
        raise UsageError(f"--save {path} exists and is not a checkpoint this fastrnn can "
                         "read; it is never replaced: name another file") from None
    differ = differences(meta, mine)
    if not differ and "vocab" in arrays:
        words = vocab_difference([str(w) for w in arrays["vocab"]], vocab)
        differ = f"the vocabulary: {words}" if words else ""
    if differ and not args.overwrite:
        raise UsageError(f"--save {path} holds {describe(meta)}; this run trains "
                         f"{describe(mine)} (they differ in {differ}); give --overwrite to "
                         "replace it, or name another file")


def same_file(a: str, b: str | None) -> bool:
    return b is not None and os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)
