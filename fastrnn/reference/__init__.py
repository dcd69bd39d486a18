"""The book's layers in pure numpy: baseline and test oracle.

Faithful to the book's ``common/time_layers.py``: one cell object per step,
a Python loop over steps, the same order of operations. The only change:
arrays are created in the params' (or the input's) dtype rather than always
float32 (``dtype='f'``), so float64 models can be checked exactly. Every
layer has the name of fastrnn's layer it checks. Use it to compare::

    from fastrnn.reference import TimeRNN, TimeLSTM

``recurrent``: the recurrent layers and dropout; ``lm``: the rest of the
chapter-5 language model; ``attention``: chapter 8's attention layers.
"""

from .attention import Attention, AttentionWeight, TimeAttention, WeightSum
from .lm import (Embedding, TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss, clip_grads,
                 softmax)
from .recurrent import (GRU, LSTM, RNN, TimeBiLSTM, TimeDropout, TimeGRU, TimeLSTM, TimeRNN,
                        sigmoid)

__all__ = ["RNN", "TimeRNN", "LSTM", "TimeLSTM", "GRU", "TimeGRU", "TimeBiLSTM",
           "TimeDropout", "Embedding", "TimeEmbedding", "TimeAffine", "TimeSoftmaxWithLoss",
           "WeightSum", "AttentionWeight", "Attention", "TimeAttention",
           "sigmoid", "softmax", "clip_grads"]
