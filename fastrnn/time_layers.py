"""Every layer of the book's ``common/time_layers.py`` that fastrnn replaces.

``__all__`` names them; ``from fastrnn.time_layers import *`` gives fastrnn's
versions under the book's names.
"""

from .bilstm import TimeBiLSTM
from .dropout import TimeDropout
from .gru import GRU, TimeGRU
from .lstm import LSTM, TimeLSTM
from .rnn import RNN, TimeRNN

__all__ = ["RNN", "TimeRNN", "LSTM", "TimeLSTM", "GRU", "TimeGRU", "TimeBiLSTM",
           "TimeDropout"]
