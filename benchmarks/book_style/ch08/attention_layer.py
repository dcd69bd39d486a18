"""Chapter 8's attention layers as plain numpy classes defined here (subclasses of fastrnn's numpy reference), so that ``fastrnn run`` sees them as the book's."""

import sys

sys.path.append('..')
from common.np import *  # noqa: E402,F401,F403 (np)

from fastrnn.reference import attention as _attention  # noqa: E402


class WeightSum(_attention.WeightSum):
    """c = sum over T of a[:, t] * hs[:, t]."""


class AttentionWeight(_attention.AttentionWeight):
    """a = softmax over T of hs[:, t] . h."""


class Attention(_attention.Attention):
    """WeightSum(hs, AttentionWeight(hs, h)); keeps attention_weight."""


class TimeAttention(_attention.TimeAttention):
    """One Attention per decoder step; keeps attention_weights."""
