"""The book's ``common/time_layers.py`` names as plain numpy classes defined here, so that ``fastrnn run`` sees them as the book's.

Each class subclasses fastrnn's numpy reference (``fastrnn.reference``: one
cell object per step, as the book builds them) or its plain per-step layers
(``fastrnn.layers.basic``, ``fastrnn.layers.time_basic``). Defined in this
module, they are not fastrnn's own classes (``fastrnn.book.is_book_layer``
looks at a class's module and its constructor's parameters), so under
``fastrnn run`` the ones fastrnn does faster are swapped, exactly as the
book's would be. A model file's ``from common.time_layers import *`` gets
``np`` too, which the book's models use without importing it.
"""

from common.config import GPU  # noqa: F401 (the book's star import gives it)
from common.np import *  # noqa: F401,F403 (np)

from fastrnn import reference as _reference
from fastrnn.layers import basic as _basic
from fastrnn.layers import time_basic as _time_basic
from fastrnn.layers.basic import cross_entropy_error, sigmoid, softmax  # noqa: F401


# --- the per-step layers of common/layers.py -------------------------------
class MatMul(_basic.MatMul):
    """x @ W."""


class Affine(_basic.Affine):
    """x @ W + b."""


class Softmax(_basic.Softmax):
    """Row-wise softmax."""


class SoftmaxWithLoss(_basic.SoftmaxWithLoss):
    """Softmax and mean cross-entropy."""


class Sigmoid(_basic.Sigmoid):
    """Logistic function."""


class SigmoidWithLoss(_basic.SigmoidWithLoss):
    """Logistic function and binary cross-entropy."""


class Dropout(_basic.Dropout):
    """The book's per-step dropout."""


class Embedding(_basic.Embedding):
    """One step's embedding lookup."""


# --- the recurrent layers ----------------------------------------------------
class RNN(_reference.RNN):
    """One tanh RNN step."""


class TimeRNN(_reference.TimeRNN):
    """T tanh RNN steps, one RNN object each."""


class LSTM(_reference.LSTM):
    """One LSTM step (gate blocks f, g, i, o)."""


class TimeLSTM(_reference.TimeLSTM):
    """T LSTM steps, one LSTM object each."""


class GRU(_reference.GRU):
    """One step of the book's GRU."""


class TimeGRU(_reference.TimeGRU):
    """T steps of the book's GRU."""


class TimeBiLSTM(_reference.TimeBiLSTM):
    """Two TimeLSTMs, the second over the reversed sequence."""


class TimeDropout(_reference.TimeDropout):
    """Inverted dropout, masks from numpy's global generator."""


# --- the language-model layers -------------------------------------------------
class TimeEmbedding(_reference.TimeEmbedding):
    """T embedding lookups, one Embedding object each."""


class TimeAffine(_reference.TimeAffine):
    """x @ W + b at every step, one product."""


class TimeSoftmaxWithLoss(_reference.TimeSoftmaxWithLoss):
    """Softmax and mean cross-entropy over all steps (ignore_label -1)."""


class TimeSigmoidWithLoss(_time_basic.TimeSigmoidWithLoss):
    """Binary cross-entropy at every step."""


class Simple_TimeAffine(_time_basic.Simple_TimeAffine):  # noqa: N801 (the book's name)
    """TimeAffine, step by step."""


class Simple_TimeSoftmaxWithLoss(_time_basic.Simple_TimeSoftmaxWithLoss):  # noqa: N801
    """TimeSoftmaxWithLoss, step by step."""
