"""``fastrnn train``: train the book's language models from the command line
(``--model simple|lstm|better``: chapter 5's ``SimpleRnnlm``, chapter 6's
``Rnnlm`` and ``BetterRnnlm``).

Every failure a user can cause (a file that is missing, not a regular file,
empty, binary, not UTF-8/UTF-16 or too short for the sizes; an output that
would replace an input, another output, a link, a FIFO or a device; values
that cannot train or arrays that cannot fit in memory; a parameter file that
does not fit) ends with one line on stderr and exit status 2, before
anything is written. ``--save`` replaces an existing file only if it is a
fastrnn checkpoint of the run's model, sizes and vocabulary (or the ``--load``
file, or another model's checkpoint with ``--overwrite``), and never a
read-only one. A resumed run starts from the loaded model's validation
perplexity and saves only epochs that improve on it. Training that diverges
(a non-finite loss or parameter, or a model worse than a uniform guess) stops
with one line and status 2, and leaves the last good checkpoint as it was.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np

from .._cli_checks import (PLOT_EXTENSIONS, SAVE_EXTENSIONS, UsageError, check_files,
                           check_interrupted, check_memory, check_plot_backend,
                           failure_status)
from ..bench.malloc import fix_malloc
from . import data
from .model import (ParamsFileError, checkpoint_meta, describe, differences, param_count,
                    read_params_file, vocab_difference)
from .train import (EVAL_TIME_SIZE, MAX_LR, PLOT_INTERVAL, History, TrainConfig, Trainer,
                    compare_backends, make_model, perplexity)

# Blocks per backend it times in turns (each backend's speed: its fastest block).
COMPARE_BLOCKS = 10

# Memory a corpus takes while it is made and encoded (measured with
# tracemalloc, rounded up), per token of the built-in corpus; a text file's
# is data.TEXT_BYTES_PER_BYTE.
BUILTIN_BYTES_PER_TOKEN = 50
BUILTIN_EVAL_TOKENS = 20_000  # its validation and test splits

# Models alive at once: the trained one, and during the closing comparison
# one per backend plus a warm-up copy.
MODELS_AT_ONCE = 4


# Above this mean cross-entropy (nats) the perplexity, exp(loss), is
# infinite: far past any model, which starts near log(V).
LOSS_LIMIT = math.log(sys.float_info.max)


class Diverged(Exception):
    """Training reached a non-finite loss or parameter, or a model worse
    than a uniform guess."""


def _outputs(args: argparse.Namespace) -> dict:
    return {"--save": (args.save, SAVE_EXTENSIONS), "--plot": (args.plot, PLOT_EXTENSIONS)}


def _files(args: argparse.Namespace) -> dict:
    """Check every file of the run; return the inputs' ``os.stat``, by option."""
    return check_files(
        inputs={"--corpus": args.corpus, "--valid": args.valid, "--test": args.test,
                "--load": args.load},
        outputs=_outputs(args),
        # Resuming: the checkpoint is loaded before the first save replaces it.
        may_replace={"--save": "--load"})


def _check_values(args: argparse.Namespace) -> None:
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
        raise UsageError(f"{_option(args, 'lr')} {args.lr:g} is too large to train with "
                         f"{args.optimizer} (at most {bound:g}); give a smaller --lr")
    check_plot_backend(args.plot)


def _option(args: argparse.Namespace, name: str) -> str:
    """How to name the option ``name`` ("lr", "max_grad") in a message:
    "--lr", or "the preset's --lr" if the user did not give it."""
    option = "--" + name.replace("_", "-")
    return f"the preset's {option}" if name in getattr(args, "from_preset", ()) else option


def _check_data_memory(args: argparse.Namespace, stats: dict) -> None:
    """Refuse a corpus whose reading would not fit (see the constants above)."""
    if args.corpus is None:
        tokens = (args.corpus_size or data.BUILTIN_TRAIN_TOKENS) + BUILTIN_EVAL_TOKENS
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


def _model_bytes(args: argparse.Namespace, vocab_size: int) -> int:
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


def _sizes(args: argparse.Namespace, vocab_size: int | None = None) -> str:
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


def _load_data(args: argparse.Namespace) -> tuple[data.Corpus, data.MarkovSource | None]:
    needed = args.batch_size * args.time_size + 1
    why = f"batch size {args.batch_size} * time size {args.time_size} + 1"
    if args.corpus is None:
        if args.corpus_size is not None:
            _check_length(f"--corpus-size {args.corpus_size}", args.corpus_size, needed, why)
            return data.builtin_corpus(seed=args.seed, train_tokens=args.corpus_size)
        return data.builtin_corpus(seed=args.seed)
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


def _log(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text, flush=True)


def _progress(args: argparse.Namespace, total: int, epoch: int):
    """A tqdm bar over one epoch's iterations, or None when quiet."""
    if args.quiet:
        return None
    from tqdm import tqdm
    # disable=None: no bar when stdout is not a terminal (logs, CI).
    return tqdm(total=total, desc=f"epoch {epoch}", unit="tok", unit_scale=True,
                leave=False, file=sys.stdout, dynamic_ncols=True, disable=None)


def plot_figure(history: History, floor: float | None = None):
    """A matplotlib figure of a run: the training perplexity every
    ``PLOT_INTERVAL`` iterations against the iteration (as the book's trainer
    plots it), the validation perplexity at the end of each epoch, and the
    corpus's perplexity floor as a line when it is known."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    fig, ax = plt.subplots(figsize=(6, 4))
    if history.curve:
        iters, ppl = zip(*history.curve)
        ax.plot(iters, ppl, label=f"training (every {PLOT_INTERVAL} iterations)")
    if history.valid_ppl:
        ax.plot(history.epoch_ends, history.valid_ppl, "o", label="validation (each epoch)")
    if floor is not None:
        ax.axhline(floor, color="gray", linestyle="--", label=f"floor of the source ({floor:.3f})")
    ax.set_xlabel("iteration")
    ax.set_ylabel("perplexity")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(ScalarFormatter())  # 3, 10, 100: not 10^2
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.legend()
    fig.tight_layout()
    return fig


def _plot(path: str, history: History, floor: float | None) -> None:
    import matplotlib.pyplot as plt

    fig = plot_figure(history, floor)
    fig.savefig(path)
    plt.close(fig)


def run_train(args: argparse.Namespace) -> int:
    """Run ``fastrnn train`` with parsed ``args``; return the exit status.

    Before training it fixes this process's malloc thresholds
    (``fix_malloc``) for the rest of the process: called from a notebook,
    they stay fixed.
    """
    saved: list = []  # [path, epoch] once this run has written a checkpoint
    try:
        return _run(args, saved)
    except (KeyboardInterrupt, Exception) as e:
        kept = f"; the last complete checkpoint is {saved[0]}" if saved else ""
        if isinstance(e, Diverged) and args.save is not None:
            e = Diverged(f"{e}; " + (f"{args.save} holds the params of epoch {saved[1]}"
                                     if saved else f"{args.save} was left as it was"
                                     if os.path.exists(args.save) else "nothing was saved"))
        return failure_status("fastrnn train", e, (data.DataError, ParamsFileError, Diverged),
                              doing="training " + _sizes(args), kept=kept)


def _diverged(args: argparse.Namespace, epoch: int, iteration: int | None,
              what: str) -> Diverged:
    """The error of a run that diverged at ``iteration`` of ``epoch`` (None:
    found at its end), saying what to change."""
    def now(name: str) -> str:
        preset = ", the preset's" if _option(args, name).startswith("the") else ""
        return f"now {getattr(args, name):g}{preset}"
    clip = (f"lower --max-grad ({now('max_grad')})" if args.max_grad is not None
            else "clip the gradient norm with --max-grad")
    where = f"epoch {epoch}" + (f", iteration {iteration}" if iteration is not None else "")
    return Diverged(f"training diverged at {where} ({what}); lower --lr ({now('lr')}) "
                    f"or {clip}")


def _check_save(args: argparse.Namespace, mine: dict, vocab: list[str]) -> None:
    """Refuse a ``--save`` that names an existing file this run must not
    replace: anything but a fastrnn checkpoint, and (without --overwrite) a
    checkpoint of another model, sizes or vocabulary than ``mine`` and
    ``vocab``, unless it is the ``--load`` file (which loading checks)."""
    path = args.save
    if path is None or not os.path.exists(path):
        return
    if _same_file(path, args.load):
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


def _identity(path: str) -> tuple | None:
    """What changes when anyone writes ``path`` (None if it does not exist)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _same_file(a: str, b: str | None) -> bool:
    return b is not None and os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)


def _worse_than_uniform(ppl: float, vocab_size: int) -> bool:
    """Whether a perplexity is no better than a uniform guess over the
    vocabulary (NaN and inf included)."""
    return not ppl <= vocab_size


def _run(args: argparse.Namespace, saved: list) -> int:
    _check_values(args)
    stats = _files(args)
    _check_data_memory(args, stats)
    corpus, source = _load_data(args)
    vocab_size = len(corpus.vocab)
    check_memory(_model_bytes(args, vocab_size), f"training at {_sizes(args, vocab_size)} would")
    cfg = TrainConfig(batch_size=args.batch_size, time_size=args.time_size,
                      wordvec_size=args.wordvec, hidden_size=args.hidden, lr=args.lr,
                      optimizer=args.optimizer, max_grad=args.max_grad, epochs=args.epochs,
                      tied=args.tied or args.model == "better", backend=args.backend,
                      seed=args.seed, model=args.model,
                      dropout=0.5 if args.dropout is None else args.dropout)
    vocab_words = [corpus.vocab.id_to_word[i] for i in range(vocab_size)]
    model = make_model(cfg, vocab_size)
    trainer = Trainer(model, corpus.train, cfg)
    _check_save(args, model.meta(), vocab_words)
    save_identity = None if args.save is None else _identity(args.save)
    if args.load is not None:
        try:
            model.load_params(args.load, vocab=vocab_words)
        except ParamsFileError as e:
            raise UsageError(f"--load {e}") from None
    # Every step allocates its large arrays anew (the scores and their exps:
    # 28 MB each at vocabulary 10,000, batch 20, time 35); with the
    # thresholds fixed they reuse freed heap memory whatever the process did
    # before, so the speed does not depend on its history.
    _log(args, fix_malloc())

    name = args.corpus or f"built-in Markov corpus (seed {args.seed})"
    _log(args, f"corpus: {name}: {len(corpus.train):,} training tokens, "
               f"vocabulary {vocab_size:,}")
    for split in ("valid", "test"):
        if corpus.unknown.get(split):
            _log(args, f"{split}: {corpus.unknown[split]:,} words not in the training "
                       "vocabulary became <unk>")
    if source is not None:
        _log(args, f"perplexity floor of the source: {source.perplexity_floor():.3f}")
    kind = {"simple": "", "lstm": "Rnnlm (LSTM) ",
            "better": f"BetterRnnlm (2 LSTMs, dropout {cfg.dropout:g}) "}[cfg.model]
    _log(args, f"model: {kind}V={vocab_size} D={cfg.wordvec_size} H={cfg.hidden_size}"
               f"{' tied' if cfg.tied else ''}, backend {cfg.backend}, "
               f"{cfg.optimizer} lr={cfg.lr}, batch {cfg.batch_size}, time {cfg.time_size}, "
               f"{trainer.batcher.iters_per_epoch} iterations per epoch")

    # A resumed run starts from the loaded model's own validation perplexity
    # (measured now: exact, whatever text it was saved with) and keeps the
    # best: only an epoch that improves on the best so far is kept and
    # saved, and the run ends with the best params (the loaded ones if no
    # epoch improved). So does BetterRnnlm, whose schedule (the book's)
    # also divides the learning rate by 4 after each epoch that does not
    # improve.
    valid = corpus.valid is not None
    keep_best = valid and (cfg.model == "better" or args.load is not None)
    schedule = valid and cfg.model == "better"
    best_ppl, best_params, best_epoch, lr = math.inf, None, None, cfg.lr
    if args.load is not None and valid:
        best_ppl, best_params, best_epoch = (perplexity(model, corpus.valid, cfg.batch_size),
                                             [p.copy() for p in model.params], 0)
        _log(args, f"--load {args.load}: validation perplexity {best_ppl:.3f}; only an "
                   "epoch below it is kept")
    elif args.load is not None and args.save is not None:
        _log(args, f"no validation text (--valid): the epochs cannot be compared with "
                   f"--load {args.load}, and --save writes every epoch")
    if cfg.model == "better" and not valid:
        _log(args, "no validation text (--valid): the learning rate stays fixed and "
                   "--save writes every epoch")
    history = History()
    tokens_per_iter = cfg.batch_size * cfg.time_size
    for epoch in range(1, cfg.epochs + 1):
        bar = _progress(args, trainer.batcher.iters_per_epoch * tokens_per_iter, epoch)
        seen = []
        done = (epoch - 1) * trainer.batcher.iters_per_epoch  # iterations before this epoch

        def on_step(loss: float) -> None:
            seen.append(loss)
            if len(seen) % PLOT_INTERVAL == 0:
                history.curve.append((done + len(seen),
                                      float(np.exp(np.mean(seen[-PLOT_INTERVAL:])))))
            if not loss <= LOSS_LIMIT:  # one float: cheap enough for every step
                raise _diverged(args, epoch, len(seen), f"loss {loss:.4g}")
            check_interrupted()
            if bar is not None:
                bar.update(tokens_per_iter)
                if len(seen) % 50 == 0:
                    bar.set_postfix(ppl=f"{np.exp(np.mean(seen[-50:])):.2f}")

        try:
            ppl, tps = trainer.epoch(on_step)
        finally:
            if bar is not None:
                bar.close()
        # A parameter can overflow while the loss still looks finite: never
        # evaluate or save non-finite params.
        if not all(np.isfinite(p).all() for p in model.params):
            raise _diverged(args, epoch, len(seen), "a parameter is no longer finite")
        history.train_ppl.append(ppl)
        history.tokens_per_s.append(tps)
        history.epoch_ends.append(epoch * trainer.batcher.iters_per_epoch)
        line = f"epoch {epoch}: training perplexity {ppl:.3f}, {tps:,.0f} tokens/s"
        # A model worse than a uniform guess (perplexity above V) learned
        # nothing worth keeping: judged on the validation text, else on the
        # epoch's training perplexity.
        judged, which = (perplexity(model, corpus.valid, cfg.batch_size), "validation") \
            if valid else (ppl, "training")
        if _worse_than_uniform(judged, vocab_size):
            figure = f"{judged:,.1f}" if judged < 1e9 else f"{judged:.3g}"  # nan, inf too
            raise _diverged(args, epoch, None, f"{which} perplexity {figure}, worse than a "
                                               f"uniform guess over the {vocab_size:,} words "
                                               "of the vocabulary")
        improved = True
        if valid:
            history.valid_ppl.append(judged)
            line += f", validation perplexity {judged:.3f}"
        if keep_best:
            improved = judged < best_ppl
            if improved:
                best_ppl, best_epoch = judged, epoch
                best_params = [p.copy() for p in model.params]
                line += " (best so far, kept)"
            elif schedule:
                lr /= 4.0
                trainer.optimizer.lr = lr
                line += f" (no better: lr now {lr:g})"
            else:
                line += f" (no better than {best_ppl:.3f}: not kept)"
        _log(args, line)
        if args.save is not None and improved:  # a complete checkpoint
            check_files({}, _outputs(args))  # again (cheap): it may be a link by now
            if _identity(args.save) != save_identity:  # written by someone else meanwhile
                _check_save(args, model.meta(), vocab_words)
            model.save_params(args.save, vocab=vocab_words)
            save_identity = _identity(args.save)
            saved[:] = [args.save, epoch]
    if best_params is not None:
        for p, best in zip(model.params, best_params):
            p[...] = best
    if best_epoch == 0:  # resumed, and no epoch improved on the loaded model
        fate = ("" if args.save is None else
                f"; {args.save} was left as it was" if _same_file(args.save, args.load) else
                f"; nothing was saved to {args.save}")
        print(f"no epoch improved on the validation perplexity of --load {args.load} "
              f"({best_ppl:.3f}): the run ends with its params{fate}")
    elif best_params is not None:
        _log(args, f"kept the params of the best epoch (epoch {best_epoch}, validation "
                   f"perplexity {best_ppl:.3f})")

    if best_params is not None:  # the params now hold the best epoch's
        final = best_ppl
    else:
        final = history.valid_ppl[-1] if history.valid_ppl else history.train_ppl[-1] \
            if history.train_ppl else float("nan")
    if corpus.test is not None:
        test_ppl = perplexity(model, corpus.test, cfg.batch_size)
        print(f"test perplexity: {test_ppl:.3f}")
        final = test_ppl
    if source is not None:
        print(f"final perplexity {final:.3f}, floor {source.perplexity_floor():.3f} "
              f"({100 * (final / source.perplexity_floor() - 1):.1f}% above)")
    if args.plot is not None and history.train_ppl:
        check_files({}, _outputs(args))
        _plot(args.plot, history, None if source is None else source.perplexity_floor())
        _log(args, f"plot written to {args.plot}")
    if saved:
        _log(args, f"params of epoch {saved[1]} saved to {args.save}")

    iters = args.compare
    start = time.perf_counter()
    cmp = compare_backends(corpus.train, len(corpus.vocab), cfg, iters, COMPARE_BLOCKS)
    print(f"speed, {iters} training iterations each from the same weights, in turns "
          f"(the fastest of {cmp.blocks} blocks of about {iters / cmp.blocks:.0f}): "
          f"numpy layers "
          f"{cmp.tokens_per_s['numpy']:,.0f} tokens/s, fastrnn "
          f"{cmp.tokens_per_s['fastrnn']:,.0f} tokens/s, speed-up {cmp.speedup:.2f}x, "
          f"largest loss difference {cmp.max_loss_diff:.2e} "
          f"({time.perf_counter() - start:.1f} s)")
    check_interrupted()  # one swallowed during the comparison
    return 0
