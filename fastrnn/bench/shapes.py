"""What fastrnn is measured on: the layers (``kind``, read from
``fastrnn.registry``) and the shapes, for benchmarks and tests.

Each shape is (N, T, D, H) with the layer it times and the limit that
dominates it. ``shapes(layer)`` and ``shapes(layer, quick=True)`` are what
``fastrnn bench --layer LAYER`` (and ``--quick``) and the pytest-benchmark
suite run: ``SHAPES`` and ``QUICK`` where they name the layer, else the
book's sizes (``DEFAULT_SHAPES``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from ..registry import Torch, bench_layers, load, load_reference

# Multiples of N*T*(D+H)*G*H: one multiply-add per weight per sample and step
# forward (2 flops); backward two products of the same size.
PHASE_FLOPS = {"forward": 2, "backward": 4, "fwd+bwd": 6}


@dataclass(frozen=True)
class LayerKind:
    """What the benchmark needs to know about one layer (a ``Shape.layer``),
    read from ``fastrnn.registry`` and the layer's class.

    Attributes
    ----------
    title : the book's class name, for the report.
    fastrnn, reference : the two classes timed; both take ``(*params,
        stateful=False)``.
    cell : the recurrent ``Cell`` (of each direction).
    directions : 1, or 2 for TimeBiLSTM (params are (Wx, Wh, b) per direction).
    torch : PyTorch's module of the same layer, or None.
    """

    title: str
    fastrnn: type
    reference: type
    cell: Any
    directions: int
    torch: Torch | None

    @property
    def gates(self) -> int:
        """G over all directions: gate blocks of H columns in the weights."""
        return self.cell.gates * self.directions


def kind(layer: str) -> LayerKind:
    """The ``LayerKind`` of the ``fastrnn bench --layer`` key ``layer``."""
    entry = bench_layers()[layer]  # KeyError: not a benchmarked layer
    cls = load(entry.name)
    return LayerKind(entry.name, cls, load_reference(entry.name), cls.cell,
                     cls.directions, entry.torch)


def layers() -> list[str]:
    """The layers ``fastrnn bench --layer`` takes (the registry's ``bench`` keys)."""
    return list(bench_layers())


class Shape(NamedTuple):
    """A problem size: batch N, steps T, input D, hidden H, of one layer.

    ``layer`` is a ``fastrnn bench --layer`` key (see ``kind``).
    ``stateful``: the row times a stateful layer's forward alone, call
    after call carrying h (and c), as text generation does (``RnnlmGen``:
    N = 1, T = 1).
    """

    N: int
    T: int
    D: int
    H: int
    label: str
    layer: str = "rnn"
    stateful: bool = False

    @property
    def gates(self) -> int:
        """G: gate blocks of H columns in the weights (over both directions)."""
        return kind(self.layer).gates

    def flops(self, phase: str = "fwd+bwd") -> int:
        """Floating-point operations of the matrix products of one call:
        2*N*T*(D+H)*G*H for "forward", twice that for "backward",
        6*N*T*(D+H)*G*H for "fwd+bwd" (G = ``gates``)."""
        return PHASE_FLOPS[phase] * self.N * self.T * (self.D + self.H) * self.gates * self.H


BENCH_SHAPES = (
    Shape(10, 5, 100, 100, "call overhead (book ch5)"),
    Shape(1, 1000, 32, 64, "per-step latency"),
    Shape(128, 50, 128, 128, "elementwise work"),
    Shape(20, 35, 650, 650, "skinny GEMMs (book ch6)"),
    Shape(64, 100, 512, 512, "GEMM"),
)

LSTM_SHAPES = (
    Shape(20, 35, 100, 100, "Rnnlm (book ch6)", "lstm"),
    Shape(20, 35, 650, 650, "BetterRnnlm (book ch6)", "lstm"),
    Shape(1, 1000, 32, 64, "per-step latency", "lstm"),
    Shape(64, 100, 512, 512, "GEMM", "lstm"),
    Shape(20, 35, 650, 650, "TimeBiLSTM (book ch8)", "bilstm"),
    Shape(1, 1, 650, 650, "generation step, stateful", "lstm", stateful=True),
)

GRU_SHAPES = (
    Shape(20, 35, 100, 100, "Rnnlm size (appendix)", "gru"),
    Shape(20, 35, 650, 650, "BetterRnnlm size", "gru"),
    Shape(1, 1000, 32, 64, "per-step latency", "gru"),
)

# The language model's benchmark sizes, (V, N, T) with D = H = 100 (the
# chapter-5 model): the book's chapter-5 vocabulary, and chapter 6's size,
# where the softmax over the vocabulary dominates.
LM_SHAPES = ((300, 10, 5), (10000, 20, 35))

# Small stand-ins with the same character, for smoke runs and CI.
QUICK_SHAPES = (
    Shape(10, 5, 100, 100, "call overhead (book ch5)"),
    Shape(1, 200, 32, 64, "per-step latency"),
    Shape(16, 20, 64, 64, "elementwise work"),
)

QUICK_LSTM_SHAPES = (
    Shape(10, 5, 100, 100, "call overhead", "lstm"),
    Shape(1, 200, 32, 64, "per-step latency", "lstm"),
    Shape(10, 5, 100, 100, "TimeBiLSTM", "bilstm"),
    Shape(1, 1, 100, 100, "generation step, stateful", "lstm", stateful=True),
)

QUICK_GRU_SHAPES = (
    Shape(10, 5, 100, 100, "call overhead", "gru"),
    Shape(1, 200, 32, 64, "per-step latency", "gru"),
)

# Layer -> its benchmark shapes, and their quick stand-ins.
SHAPES = {"rnn": BENCH_SHAPES, "lstm": LSTM_SHAPES, "gru": GRU_SHAPES}
QUICK = {"rnn": QUICK_SHAPES, "lstm": QUICK_LSTM_SHAPES, "gru": QUICK_GRU_SHAPES}

# (N, T, D, H, label) of a layer with no shapes of its own above: the book's
# chapter-6 sizes and one long sequence; quick: small stand-ins.
DEFAULT_SHAPES = ((20, 35, 100, 100, "Rnnlm size (book ch6)"),
                  (20, 35, 650, 650, "BetterRnnlm size (book ch6)"),
                  (1, 1000, 32, 64, "per-step latency"))
DEFAULT_QUICK = ((10, 5, 100, 100, "call overhead"), (1, 200, 32, 64, "per-step latency"))


def shapes(layer: str, quick: bool = False) -> tuple[Shape, ...]:
    """The shapes ``fastrnn bench --layer layer`` times (``--quick``: small ones)."""
    kind(layer)  # KeyError for a layer that is not benchmarked
    given = (QUICK if quick else SHAPES).get(layer)
    if given is not None:
        return given
    return tuple(Shape(*size, layer) for size in (DEFAULT_QUICK if quick else DEFAULT_SHAPES))
