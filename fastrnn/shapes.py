"""The shapes fastrnn is measured on: one registry for benchmarks and tests.

Each is (N, T, D, H) with the limit that dominates it.
"""

from __future__ import annotations

from typing import NamedTuple

# Multiples of N*T*(D+H)*H: one multiply-add per weight per sample and step
# forward (2 flops); backward two products of the same size.
PHASE_FLOPS = {"forward": 2, "backward": 4, "fwd+bwd": 6}


class Shape(NamedTuple):
    """A TimeRNN problem size: batch N, steps T, input D, hidden H."""

    N: int
    T: int
    D: int
    H: int
    label: str

    def flops(self, phase: str = "fwd+bwd") -> int:
        """Floating-point operations of one call: 2*N*T*(D+H)*H for
        "forward", twice that for "backward", 6*N*T*(D+H)*H for "fwd+bwd"."""
        return PHASE_FLOPS[phase] * self.N * self.T * (self.D + self.H) * self.H


BENCH_SHAPES = (
    Shape(10, 5, 100, 100, "call overhead (book ch5)"),
    Shape(1, 1000, 32, 64, "per-step latency"),
    Shape(128, 50, 128, 128, "elementwise work"),
    Shape(20, 35, 650, 650, "skinny GEMMs (book ch6)"),
    Shape(64, 100, 512, 512, "GEMM"),
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
