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

import numpy as np

from .._cli_checks import (UsageError, check_files, check_interrupted, check_memory,
                           failure_status)
from . import data
from .model import (LanguageModel, ParamsFileError, checkpoint_meta, describe, model_from_meta,
                    param_count, read_params_file)
from .train import perplexity

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
           seed: int) -> list[int]:
    """The book's sampling: ``length`` word ids, the first ``start_id``.

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
    ids = [start_id]
    while len(ids) < length:
        scores = model.predict(np.array([[ids[-1]]], dtype=np.int32)).ravel()
        s = scores.astype(np.float64)
        p = np.exp(s - s.max())
        p[skip] = 0.0
        total = p.sum()
        if not total > 0:  # every word left underflowed: the likeliest one
            p = np.where(skip, 0.0, 1.0)
            total = p.sum()
        ids.append(int(rs.choice(len(p), p=p / total)))
        check_interrupted()
    model.reset_state()
    return ids


def format_words(words: list[str]) -> str:
    """Words joined by spaces, ``<eos>`` as a line break."""
    lines: list[list[str]] = [[]]
    for w in words:
        if w == data.EOS:
            lines.append([])
        else:
            lines[-1].append(w)
    return "\n".join(" ".join(line) for line in lines)


def run_generate(args: argparse.Namespace) -> int:
    """Run ``fastrnn generate``; return the exit status."""
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
        print(format_words([vocab[i] for i in ids]))
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
