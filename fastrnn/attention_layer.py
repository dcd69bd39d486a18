"""Chapter 8's attention layers under the book's module name (``attention_layer``)."""

from .layers.attention import Attention, AttentionWeight, TimeAttention, WeightSum

__all__ = ["WeightSum", "AttentionWeight", "Attention", "TimeAttention"]
