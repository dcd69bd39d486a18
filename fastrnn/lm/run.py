"""``fastrnn train``: train the chapter-5 language model from the command line.

Every failure a user can cause (a missing, empty, binary or non-UTF-8 file,
a corpus too short for one batch, a bad size, an unwritable output path, a
parameter file that does not fit) ends with one line on stderr and exit
status 2, before anything is written.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from .._malloc import fix_malloc
from ..cli import FINAL_COMPARE_ITERS, UsageError, check_output_path, check_plot_path
from . import data
from .model import ParamsFileError
from .train import History, TrainConfig, Trainer, compare_backends, make_model, perplexity

# Blocks per backend it times in turns (each backend's speed: its fastest block).
COMPARE_BLOCKS = 10


def _load_data(args: argparse.Namespace) -> tuple[data.Corpus, data.MarkovSource | None]:
    if args.corpus is None:
        if args.valid or args.test:
            raise UsageError("--valid and --test need --corpus (the built-in corpus has its own)")
        kwargs = {} if args.corpus_size is None else {"train_tokens": args.corpus_size}
        return data.builtin_corpus(seed=args.seed, **kwargs)
    words = data.read_words(args.corpus)
    if args.corpus_size is not None:
        words = words[:args.corpus_size]  # as the book's corpus[:1000]
    valid = None if args.valid is None else data.read_words(args.valid)
    test = None if args.test is None else data.read_words(args.test)
    return data.corpus_from_words(words, valid, test), None


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


def _plot(path: str, history: History) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    epochs = np.arange(1, len(history.train_ppl) + 1)
    ax.plot(epochs, history.train_ppl, marker="o", label="training")
    if history.valid_ppl:
        ax.plot(epochs, history.valid_ppl, marker="o", label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("perplexity")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def run_train(args: argparse.Namespace) -> int:
    """Run ``fastrnn train`` with parsed ``args``; return the exit status.

    Before training it fixes this process's malloc thresholds
    (``fix_malloc``) for the rest of the process: called from a notebook,
    they stay fixed.
    """
    try:
        return _run(args)
    except (UsageError, data.DataError, ParamsFileError) as e:
        print(f"fastrnn train: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        kept = f"; the last complete checkpoint is {args.save}" if args.save else ""
        print(f"fastrnn train: interrupted{kept}", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    check_output_path("--save", args.save)
    check_plot_path(args.plot)
    cfg = TrainConfig(batch_size=args.batch_size, time_size=args.time_size,
                      wordvec_size=args.wordvec, hidden_size=args.hidden, lr=args.lr,
                      optimizer=args.optimizer, max_grad=args.max_grad, epochs=args.epochs,
                      tied=args.tied, backend=args.backend, seed=args.seed)
    if cfg.tied and cfg.wordvec_size != cfg.hidden_size:
        raise UsageError(f"--tied needs --wordvec == --hidden, got {cfg.wordvec_size} "
                         f"and {cfg.hidden_size}")
    corpus, source = _load_data(args)
    # Every step allocates its large arrays anew (the scores and their exps:
    # 28 MB each at vocabulary 10,000, batch 20, time 35); with the
    # thresholds fixed they reuse freed heap memory whatever the process did
    # before, so the speed does not depend on its history.
    _log(args, fix_malloc())
    vocab_words = [corpus.vocab.id_to_word[i] for i in range(len(corpus.vocab))]
    model = make_model(cfg, len(corpus.vocab))
    trainer = Trainer(model, corpus.train, cfg)  # checks the corpus is long enough
    if args.load is not None:
        model.load_params(args.load, vocab=vocab_words)

    name = args.corpus or f"built-in Markov corpus (seed {args.seed})"
    _log(args, f"corpus: {name}: {len(corpus.train):,} training tokens, "
               f"vocabulary {len(corpus.vocab):,}")
    for split in ("valid", "test"):
        if corpus.unknown.get(split):
            _log(args, f"{split}: {corpus.unknown[split]:,} words not in the training "
                       "vocabulary became <unk>")
    if source is not None:
        _log(args, f"perplexity floor of the source: {source.perplexity_floor():.3f}")
    _log(args, f"model: V={len(corpus.vocab)} D={cfg.wordvec_size} H={cfg.hidden_size}"
               f"{' tied' if cfg.tied else ''}, backend {cfg.backend}, "
               f"{cfg.optimizer} lr={cfg.lr}, batch {cfg.batch_size}, time {cfg.time_size}, "
               f"{trainer.batcher.iters_per_epoch} iterations per epoch")

    history = History()
    tokens_per_iter = cfg.batch_size * cfg.time_size
    for epoch in range(1, cfg.epochs + 1):
        bar = _progress(args, trainer.batcher.iters_per_epoch * tokens_per_iter, epoch)
        seen = []

        def on_step(loss: float) -> None:
            seen.append(loss)
            if bar is not None:
                bar.update(tokens_per_iter)
                if len(seen) % 50 == 0:
                    bar.set_postfix(ppl=f"{np.exp(np.mean(seen[-50:])):.2f}")

        try:
            ppl, tps = trainer.epoch(on_step)
        finally:
            if bar is not None:
                bar.close()
        history.train_ppl.append(ppl)
        history.tokens_per_s.append(tps)
        line = f"epoch {epoch}: training perplexity {ppl:.3f}, {tps:,.0f} tokens/s"
        if corpus.valid is not None:
            history.valid_ppl.append(perplexity(model, corpus.valid, cfg.batch_size))
            line += f", validation perplexity {history.valid_ppl[-1]:.3f}"
        _log(args, line)
        if args.save is not None:  # a complete checkpoint after every epoch
            model.save_params(args.save, vocab=vocab_words)

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
        _plot(args.plot, history)
        _log(args, f"plot written to {args.plot}")
    if args.save is not None:
        _log(args, f"params saved to {args.save}")

    iters = args.compare or FINAL_COMPARE_ITERS
    start = time.perf_counter()
    cmp = compare_backends(corpus.train, len(corpus.vocab), cfg, iters, COMPARE_BLOCKS)
    print(f"speed, {iters} training iterations each from the same weights, in turns "
          f"(the fastest of {cmp.blocks} blocks of about {iters / cmp.blocks:.0f}): "
          f"numpy layers "
          f"{cmp.tokens_per_s['numpy']:,.0f} tokens/s, fastrnn "
          f"{cmp.tokens_per_s['fastrnn']:,.0f} tokens/s, speed-up {cmp.speedup:.2f}x, "
          f"largest loss difference {cmp.max_loss_diff:.2e} "
          f"({time.perf_counter() - start:.1f} s)")
    return 0
