"""Training with truncated BPTT, perplexity, and backend comparison."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .data import BPTTBatcher
from .model import BetterRnnlm, LanguageModel, Rnnlm, SimpleRnnlm
from .optim import SGD, Adam, SharedParams, clip_grads

OPTIMIZERS = ("sgd", "adam")

# The largest learning rate `fastrnn train` accepts per optimizer. SGD's
# step is lr times the gradient (the book trains at up to 20, with
# clipping); Adam's is about lr per parameter whatever the gradient (the
# book uses 0.001): at 1 the chapter-5 model's perplexity stays near 1e50.
MAX_LR = {"sgd": 100.0, "adam": 0.1}

EVAL_TIME_SIZE = 35  # time steps per block when measuring perplexity


@dataclass
class TrainConfig:
    """Settings of a training run (defaults: the book's chapter-5 model).

    ``model`` is "simple" (``SimpleRnnlm``), "lstm" (``Rnnlm``) or "better"
    (``BetterRnnlm``, whose dropout ratio is ``dropout``).
    """

    batch_size: int = 10
    time_size: int = 5
    wordvec_size: int = 100
    hidden_size: int = 100
    lr: float = 0.1
    optimizer: str = "sgd"
    max_grad: float | None = None
    epochs: int = 10
    tied: bool = False
    backend: str = "fastrnn"
    seed: int = 0
    model: str = "simple"
    dropout: float = 0.5


@dataclass
class History:
    """What a training run measured.

    ``train_ppl``, ``valid_ppl``, ``tokens_per_s`` and ``epoch_ends`` (the
    iterations done by the end of each epoch) have one entry per epoch;
    ``curve`` one ``(iteration, perplexity)`` per ``PLOT_INTERVAL``
    iterations of an epoch, as the book's trainer records them for its plot.
    """

    train_ppl: list[float] = field(default_factory=list)
    valid_ppl: list[float] = field(default_factory=list)
    tokens_per_s: list[float] = field(default_factory=list)
    epoch_ends: list[int] = field(default_factory=list)
    curve: list[tuple[int, float]] = field(default_factory=list)


# Iterations per point of the training curve (the book's eval_interval).
PLOT_INTERVAL = 20


def make_optimizer(name: str, lr: float) -> SGD | Adam:
    """Return the optimizer called ``name`` ("sgd" or "adam")."""
    if name == "sgd":
        return SGD(lr)
    if name == "adam":
        return Adam(lr)
    raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")


def make_model(cfg: TrainConfig, vocab_size: int, backend: str | None = None) -> LanguageModel:
    """The model of ``cfg`` (``cfg.model``), initialised from ``cfg.seed``
    (same seed, same weights, whatever the backend)."""
    rng = np.random.default_rng(cfg.seed)
    backend = backend or cfg.backend
    V, D, H = vocab_size, cfg.wordvec_size, cfg.hidden_size
    if cfg.model == "simple":
        return SimpleRnnlm(V, D, H, tied=cfg.tied, backend=backend, rng=rng)
    if cfg.model == "lstm":
        return Rnnlm(V, D, H, backend=backend, rng=rng)
    if cfg.model == "better":
        return BetterRnnlm(V, D, H, dropout_ratio=cfg.dropout, backend=backend, rng=rng)
    raise ValueError(f"model must be 'simple', 'lstm' or 'better', got {cfg.model!r}")


class Trainer:
    """Truncated-BPTT training of a language model on one id sequence.

    Parameters
    ----------
    model : the model; its params are updated in place.
    corpus : 1-D int array of word ids.
    cfg : batch and time sizes, optimizer, learning rate, clipping.
    """

    def __init__(self, model: LanguageModel, corpus: np.ndarray, cfg: TrainConfig) -> None:
        self.model = model
        self.cfg = cfg
        self.batcher = BPTTBatcher(corpus, cfg.batch_size, cfg.time_size)
        self.optimizer = make_optimizer(cfg.optimizer, cfg.lr)
        self.shared = SharedParams(model.params)

    def step(self) -> float:
        """One iteration: forward, backward, clip, update. Returns the loss."""
        xs, ts = self.batcher.next_batch()
        loss = self.model.forward(xs, ts)
        self.model.backward()
        grads = self.shared.grads(self.model.grads)
        if self.cfg.max_grad is not None:
            clip_grads(grads, self.cfg.max_grad)
        self.optimizer.update(self.shared.params, grads)
        return float(loss)

    def epoch(self, on_step: Callable[[float], None] | None = None) -> tuple[float, float]:
        """Train one epoch; return (training perplexity, tokens per second)."""
        total = 0.0
        start = time.perf_counter()
        n = self.batcher.iters_per_epoch
        for _ in range(n):
            loss = self.step()
            total += loss
            if on_step is not None:
                on_step(loss)
        seconds = time.perf_counter() - start
        tokens = n * self.cfg.batch_size * self.cfg.time_size
        return float(np.exp(total / n)), tokens / seconds


def perplexity(model: LanguageModel, corpus: np.ndarray, batch_size: int = 10,
               time_size: int = EVAL_TIME_SIZE) -> float:
    """Perplexity of ``model`` on ``corpus``, from a fresh hidden state.

    The corpus is read as in training (``batch_size`` rows at offsets through
    it, blocks of ``time_size`` steps, the state carried between blocks), one
    pass, no updates, dropout off; ``batch_size`` shrinks for a short corpus.
    The model's state is reset before and after.
    """
    batch_size = max(1, min(batch_size, (len(corpus) - 1) // time_size))
    batcher = BPTTBatcher(corpus, batch_size, time_size)
    model.reset_state()
    total = 0.0
    for xs, ts in batcher.epoch():
        total += float(model.forward(xs, ts, train_flg=False))
    model.reset_state()
    return float(np.exp(total / batcher.iters_per_epoch))


@dataclass
class Comparison:
    """Both backends trained from the same weights on the same batches."""

    iterations: int
    blocks: int  # timed in turns; each backend's speed is that of its fastest block
    tokens_per_s: dict[str, float]
    losses: dict[str, np.ndarray]

    @property
    def speedup(self) -> float:
        """fastrnn tokens/s over numpy tokens/s."""
        return self.tokens_per_s["fastrnn"] / self.tokens_per_s["numpy"]

    @property
    def max_loss_diff(self) -> float:
        """Largest difference between the two loss trajectories. Over many
        steps it measures how float32 rounding grows through training (at a
        high learning rate, up to 0.1 and more), not the layers' agreement."""
        return float(np.max(np.abs(self.losses["fastrnn"] - self.losses["numpy"])))

    @property
    def first_step_difference(self) -> float:
        """The two backends' losses of the first step, from the same weights
        and batch, as a relative difference: the layers' agreement."""
        first = self.losses["numpy"][0]
        return float(abs(self.losses["fastrnn"][0] - first) / max(abs(first), 1e-30))


def compare_backends(corpus: np.ndarray, vocab_size: int, cfg: TrainConfig,
                     iterations: int = 200, blocks: int = 10) -> Comparison:
    """Train ``iterations`` steps with each backend from the same initial weights.

    Each backend is warmed up on a throw-away copy first (fastrnn compiles or
    loads its kernels). Then the two train in turns, a block of steps each,
    so that drifting machine load hits both alike; the speed of each is that
    of its fastest block, as ``fastrnn bench`` takes the best round.

    Parameters
    ----------
    corpus, vocab_size, cfg : what to train on, and how (as for ``Trainer``).
    iterations : training steps per backend, >= 1.
    blocks : blocks of about ``iterations / blocks`` steps per backend
        (at most ``iterations``), >= 1.

    Raises
    ------
    ValueError : iterations or blocks below 1.
    """
    if iterations < 1 or blocks < 1:
        raise ValueError(f"iterations and blocks must be >= 1, got {iterations} and {blocks}")
    trainers: dict[str, Trainer] = {}
    for backend in ("numpy", "fastrnn"):
        warm = Trainer(make_model(cfg, vocab_size, backend), corpus, cfg)
        for _ in range(3):
            warm.step()
        trainers[backend] = Trainer(make_model(cfg, vocab_size, backend), corpus, cfg)
    losses: dict[str, list[float]] = {backend: [] for backend in trainers}
    best = {backend: math.inf for backend in trainers}
    blocks = min(blocks, iterations)
    # Dropout draws from numpy's global generator, as the book's does: each
    # block starts both backends from the same seed, so they draw the same
    # masks (the seeding sits outside the timed steps).
    dropout = any(hasattr(layer, "dropout_ratio") for layer in trainers["numpy"].model.layers)
    for i in range(blocks):
        size = iterations // blocks + (i < iterations % blocks)
        for backend, trainer in trainers.items():
            if dropout:
                np.random.seed(cfg.seed + i)
            start = time.perf_counter()
            losses[backend] += [trainer.step() for _ in range(size)]
            best[backend] = min(best[backend], (time.perf_counter() - start) / size)
    tokens = cfg.batch_size * cfg.time_size
    return Comparison(iterations, blocks,
                      {backend: tokens / best[backend] for backend in best},
                      {backend: np.array(values) for backend, values in losses.items()})
