"""The language-model layers, where they were first published: they live in
``fastrnn.layers.lm`` with the other layers."""

from ..layers.lm import TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss

__all__ = ["TimeEmbedding", "TimeAffine", "TimeSoftmaxWithLoss"]
