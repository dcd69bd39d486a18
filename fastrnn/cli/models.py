"""``fastrnn generate`` and ``fastrnn eval``: use a checkpoint of ``fastrnn
train --save``.

A checkpoint holds the params, the vocabulary and (``meta``) the model kind
and sizes, so the model is rebuilt from the file alone. Every failure a user
can cause (a checkpoint that is missing, not a regular file, not an ``.npz``,
without a vocabulary or whose arrays do not fit its description; a text that
cannot be read or has words the model cannot map; an unknown start word)
ends with one line on stderr and exit status 2. Neither command writes a
file.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Iterable, Iterator, TextIO

import numpy as np

from .checks import (UsageError, check_files, check_interrupted, check_memory,
                     failure_status)
from ..lm import data
from ..lm.checkpoint import (ParamsFileError, checkpoint_meta, describe, param_count,
                             read_params_file)
from ..lm.model import LanguageModel, model_from_meta
from ..lm.train import perplexity

# Never sampled, where in the vocabulary (the book's generation skips them).
SKIP_WORDS = (data.UNK, "N")
DEFAULT_START = "you"  # the book's start word


def _load(command: str, path: str) -> tuple[LanguageModel, list[str]]:
    """The model and vocabulary of the checkpoint ``path`` (already checked
    as a readable regular file)."""
    arrays = read_params_file(path)
    meta = checkpoint_meta(path, arrays)
    if "vocab" not in arrays:
        raise UsageError(f"--load {path}: the checkpoint holds no vocabulary "
                         "(save it with fastrnn train --save)")
    vocab = [str(w) for w in arrays["vocab"]]
    if len(vocab) != meta["vocab_size"] or len(set(vocab)) != len(vocab):
        raise UsageError(f"--load {path}: its vocabulary of {len(vocab):,} words does not "
                         f"fit {describe(meta)}")
    # float32 params, their grads, and the arrays read from the file
    check_memory(4 * 3 * param_count(meta["model"], meta["vocab_size"], meta["wordvec_size"],
                                     meta["hidden_size"], meta["tied"]),
                 f"the model of --load {path} ({describe(meta)}) would")
    model = model_from_meta(meta)
    model.load_params(path, vocab=vocab)
    return model, vocab


def _fail(command: str, e: BaseException) -> int:
    if isinstance(e, ParamsFileError) and not str(e).startswith("--load"):
        e = UsageError(f"--load {e}")
    return failure_status(f"fastrnn {command}", e, (data.DataError, ParamsFileError),
                          doing="loading the model")


def sample(model: LanguageModel, start_id: int, length: int, skip_ids: list[int],
           seed: int) -> Iterator[int]:
    """The book's sampling: yield ``length`` word ids, the first ``start_id``,
    each as soon as it is drawn.

    From a fresh state, each word is fed alone (N = 1, T = 1; the state is
    carried) and the next id drawn with ``np.random.choice`` (a
    ``RandomState(seed)``, the numbers ``np.random.seed(seed)`` gives) from
    the softmax of its scores, in float64. Ids in ``skip_ids`` get
    probability 0 and the rest are renormalised: the same distribution as the
    book's redrawing, without feeding the word again.
    """
    rs = np.random.RandomState(seed)
    skip = np.zeros(model.layers[0].params[0].shape[0], dtype=bool)
    skip[skip_ids] = True
    model.reset_state()
    try:
        word = start_id
        yield word
        for _ in range(length - 1):
            scores = model.predict(np.array([[word]], dtype=np.int32)).ravel()
            s = scores.astype(np.float64)
            p = np.exp(s - s.max())
            p[skip] = 0.0
            total = p.sum()
            if not total > 0:  # every word left underflowed: the likeliest one
                p = np.where(skip, 0.0, 1.0)
                total = p.sum()
            word = int(rs.choice(len(p), p=p / total))
            yield word
            check_interrupted()
    finally:
        model.reset_state()


def _print_words(words: Iterable[str], out: TextIO) -> None:
    """Print words joined by spaces, ``<eos>`` as a line break, and a final
    line break, each word written and flushed as it comes.

    On Ctrl-C (or any exception) the words printed so far stay, and a line
    left open is ended before the exception propagates.
    """
    line_open = False
    try:
        for w in words:
            if w == data.EOS:
                out.write("\n")
                line_open = False
            else:
                out.write(f" {w}" if line_open else w)
                line_open = True
            out.flush()
    except BaseException:
        if line_open:
            out.write("\n")
            out.flush()
        raise
    out.write("\n")
    out.flush()


def run_generate(args: argparse.Namespace) -> int:
    """Run ``fastrnn generate``; return the exit status.

    Words are printed as they are drawn; Ctrl-C keeps them, ends the line
    and returns 130; a reader that leaves (``| head``) ends it quietly
    with 141, as SIGPIPE would.
    """
    try:
        check_files({"--load": args.load}, {})
        model, vocab = _load("generate", args.load)
        index = {w: i for i, w in enumerate(vocab)}
        skip_ids = [index[w] for w in SKIP_WORDS if w in index]
        if len(skip_ids) == len(vocab):
            raise UsageError(f"--load {args.load}: every word of its vocabulary is one "
                             f"that is never sampled ({', '.join(SKIP_WORDS)})")
        start = args.start
        if start is None:
            start = DEFAULT_START if DEFAULT_START in index else \
                next(w for w in vocab if w not in SKIP_WORDS)
        if start not in index:
            raise UsageError(f"--start {start!r} is not in the vocabulary of {args.load}")
        if start in SKIP_WORDS:
            raise UsageError(f"--start {start!r} is a word generation never samples; "
                             "choose another")
        ids = sample(model, index[start], args.length, skip_ids, args.seed)
        try:
            _print_words((vocab[i] for i in ids), sys.stdout)
        except BrokenPipeError:
            # The reader left (``| head``): stop quietly, as ``yes | head`` does,
            # with nothing left for Python to flush into the closed pipe at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
            return 128 + 13  # killed by SIGPIPE, as the shell reports it
        return 0
    except (KeyboardInterrupt, Exception) as e:
        return _fail("generate", e)


def run_eval(args: argparse.Namespace) -> int:
    """Run ``fastrnn eval``; return the exit status."""
    try:
        stats = check_files({"--load": args.load, "--text": args.text}, {})
        check_memory(data.TEXT_BYTES_PER_BYTE * stats["--text"].st_size,
                     f"reading {stats['--text'].st_size:,} bytes of text would")
        model, vocab = _load("eval", args.load)
        try:
            words = data.read_words(args.text)
        except data.DataError as e:
            raise UsageError(f"--text: {e}") from None
        index = {w: i for i, w in enumerate(vocab)}
        unk = index.get(data.UNK)
        ids = np.fromiter((index.get(w, -1) for w in words), dtype=np.int64, count=len(words))
        unknown = int((ids < 0).sum())
        if unknown:
            first = words[int(np.argmax(ids < 0))]
            if unk is None:
                raise UsageError(f"--text {args.text}: {unknown:,} words are not in the "
                                 f"vocabulary of {args.load}, which has no {data.UNK} "
                                 f"to map them to (the first: {first!r})")
            ids[ids < 0] = unk
        needed = args.time_size + 1
        if len(ids) < needed:
            raise UsageError(f"--text {args.text} gives {len(ids):,} tokens (words and "
                             f"line ends), needs at least {needed:,} (time size "
                             f"{args.time_size} + 1)")
        V = len(vocab)
        rows = min(args.batch_size, (len(ids) - 1) // args.time_size) * args.time_size
        check_memory(4 * 4 * rows * V, f"scoring batch {args.batch_size:,} x time "
                                       f"{args.time_size:,} at V={V:,} would")
        ppl = perplexity(model, ids.astype(np.int32), args.batch_size, args.time_size)
        check_interrupted()
        unk_note = f", {unknown:,} words not in the vocabulary became {data.UNK}" \
            if unknown else ""
        print(f"perplexity {ppl:.3f} over {len(ids):,} tokens of {args.text}{unk_note}")
        return 0
    except (KeyboardInterrupt, Exception) as e:
        return _fail("eval", e)
