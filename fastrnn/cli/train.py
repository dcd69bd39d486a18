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

from ..bench.malloc import fix_malloc
from ..lm import data
from ..lm.checkpoint import ParamsFileError
from ..lm.plot import save_plot
from ..lm.train import (PLOT_INTERVAL, History, TrainConfig, Trainer, compare_backends,
                        make_model, perplexity)
from .checks import UsageError, check_files, check_interrupted, check_memory, failure_status
from .train_checks import (check_data_memory, check_save, check_train_files, check_values,
                           given_as, load_data, model_bytes, outputs, same_file, sizes)

# Blocks per backend it times in turns (each backend's speed: its fastest block).
COMPARE_BLOCKS = 10

# Above this mean cross-entropy (nats) the perplexity, exp(loss), is
# infinite: far past any model, which starts near log(V).
LOSS_LIMIT = math.log(sys.float_info.max)


class Diverged(Exception):
    """Training reached a non-finite loss or parameter, or a model worse
    than a uniform guess."""


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
                              doing="training " + sizes(args), kept=kept)


def _diverged(args: argparse.Namespace, epoch: int, iteration: int | None,
              what: str) -> Diverged:
    """The error of a run that diverged at ``iteration`` of ``epoch`` (None:
    found at its end), saying what to change."""
    def now(name: str) -> str:
        preset = ", the preset's" if given_as(args, name).startswith("the") else ""
        return f"now {getattr(args, name):g}{preset}"
    clip = (f"lower --max-grad ({now('max_grad')})" if args.max_grad is not None
            else "clip the gradient norm with --max-grad")
    where = f"epoch {epoch}" + (f", iteration {iteration}" if iteration is not None else "")
    return Diverged(f"training diverged at {where} ({what}); lower --lr ({now('lr')}) "
                    f"or {clip}")


def _identity(path: str) -> tuple | None:
    """What changes when anyone writes ``path`` (None if it does not exist)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _existing_checkpoint_perplexity(args: argparse.Namespace, cfg: TrainConfig,
                                    vocab_size: int, vocab: list[str],
                                    corpus: data.Corpus) -> float:
    """The validation perplexity an epoch must beat to be saved over a
    checkpoint of this model already at ``--save`` (not the ``--load`` file,
    whose own figure the run's best so far starts from); inf if nothing is
    there to protect or with ``--overwrite``. Without a validation text the
    epochs cannot be compared with either: refused, unless ``--overwrite``."""
    if args.save is None or args.overwrite or not os.path.exists(args.save):
        return math.inf
    resumed = same_file(args.save, args.load)
    if corpus.valid is None:
        what = (f"--load {args.load} is resumed into itself" if resumed else
                f"--save {args.save} holds a checkpoint of this model")
        raise UsageError(f"{what}, and without a validation text (--valid) no epoch can be "
                         "shown to beat it: give --valid, --overwrite to replace it anyway, "
                         "or name another --save file")
    if resumed:
        return math.inf  # the run's best so far starts at the loaded model's figure
    existing = make_model(cfg, vocab_size)
    try:
        existing.load_params(args.save, vocab=vocab)
    except ParamsFileError as e:
        raise UsageError(f"--save {e}; give --overwrite to replace it") from None
    return perplexity(existing, corpus.valid, cfg.batch_size)


def _worse_than_uniform(ppl: float, vocab_size: int) -> bool:
    """Whether a perplexity is no better than a uniform guess over the
    vocabulary (NaN and inf included)."""
    return not ppl <= vocab_size


def _run(args: argparse.Namespace, saved: list) -> int:
    check_values(args)
    stats = check_train_files(args)
    check_data_memory(args, stats)
    corpus, source = load_data(args)
    vocab_size = len(corpus.vocab)
    check_memory(model_bytes(args, vocab_size), f"training at {sizes(args, vocab_size)} would")
    cfg = TrainConfig(batch_size=args.batch_size, time_size=args.time_size,
                      wordvec_size=args.wordvec, hidden_size=args.hidden, lr=args.lr,
                      optimizer=args.optimizer, max_grad=args.max_grad, epochs=args.epochs,
                      tied=args.tied or args.model == "better", backend=args.backend,
                      seed=args.seed, model=args.model,
                      dropout=0.5 if args.dropout is None else args.dropout)
    vocab_words = [corpus.vocab.id_to_word[i] for i in range(vocab_size)]
    model = make_model(cfg, vocab_size)
    trainer = Trainer(model, corpus.train, cfg)
    check_save(args, model.meta(), vocab_words)
    save_bar = _existing_checkpoint_perplexity(args, cfg, vocab_size, vocab_words, corpus)
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
    fix_malloc()

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
    if save_bar < math.inf:
        _log(args, f"--save {args.save} already holds this model, validation perplexity "
                   f"{save_bar:.3f}: only an epoch below it replaces it")
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
        if improved and judged >= save_bar:
            improved = False
            line += f" (not saved: {args.save} has {save_bar:.3f})"
        _log(args, line)
        if args.save is not None and improved:  # a complete checkpoint
            check_files({}, outputs(args))  # again (cheap): it may be a link by now
            if _identity(args.save) != save_identity:  # written by someone else meanwhile
                check_save(args, model.meta(), vocab_words)
            model.save_params(args.save, vocab=vocab_words)
            save_identity = _identity(args.save)
            saved[:] = [args.save, epoch]
            if valid:  # from now on only a better epoch replaces it
                save_bar = judged
    if best_params is not None:
        for p, best in zip(model.params, best_params):
            p[...] = best
    if best_epoch == 0:  # resumed, and no epoch improved on the loaded model
        fate = ("" if args.save is None else
                f"; {args.save} was left as it was" if same_file(args.save, args.load) else
                f"; nothing was saved to {args.save}")
        print(f"no epoch improved on the validation perplexity of --load {args.load} "
              f"({best_ppl:.3f}): the run ends with its params{fate}")
    elif best_params is not None:
        _log(args, f"kept the params of the best epoch (epoch {best_epoch}, validation "
                   f"perplexity {best_ppl:.3f})")
    if save_bar < math.inf and not saved and best_epoch != 0:
        print(f"no epoch beat the validation perplexity of the checkpoint already at "
              f"--save {args.save} ({save_bar:.3f}): it was left as it was")

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
        check_files({}, outputs(args))
        save_plot(args.plot, history, None if source is None else source.perplexity_floor())
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
          f"first-step losses (same weights and batch) differ by "
          f"{cmp.first_step_difference:.1e} relative "
          f"({time.perf_counter() - start:.1f} s)")
    check_interrupted()  # one swallowed during the comparison
    return 0
