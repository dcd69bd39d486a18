"""The shapes fastrnn is measured on: one registry for benchmarks and tests.

Each is (N, T, D, H) with the layer it times and the limit that dominates
it. ``SHAPES[layer]`` and ``QUICK[layer]`` are what ``fastrnn bench --layer
LAYER`` (and ``--quick``) and the pytest-benchmark suite run.
"""

from __future__ import annotations

from typing import NamedTuple

# Multiples of N*T*(D+H)*G*H: one multiply-add per weight per sample and step
# forward (2 flops); backward two products of the same size.
PHASE_FLOPS = {"forward": 2, "backward": 4, "fwd+bwd": 6}

# G, the number of H-wide gate blocks in Wx (D, G*H) and Wh (H, G*H), summed
# over directions: TimeBiLSTM is two LSTMs of 4 blocks each.
GATES = {"rnn": 1, "lstm": 4, "gru": 3, "bilstm": 8}

# The layer names ``fastrnn bench --layer`` takes (a TimeBiLSTM row belongs
# to the lstm table).
LAYERS = ("rnn", "lstm", "gru")


class Shape(NamedTuple):
    """A problem size: batch N, steps T, input D, hidden H, of one layer.

    ``layer`` is a key of ``GATES``. ``stateful``: the row times a stateful
    layer's forward alone, call after call carrying h (and c), as text
    generation does (``RnnlmGen``: N = 1, T = 1).
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
        return GATES[self.layer]

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

# The registry: layer -> its benchmark shapes, and their quick stand-ins.
SHAPES = {"rnn": BENCH_SHAPES, "lstm": LSTM_SHAPES, "gru": GRU_SHAPES}
QUICK = {"rnn": QUICK_SHAPES, "lstm": QUICK_LSTM_SHAPES, "gru": QUICK_GRU_SHAPES}
