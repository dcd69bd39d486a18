"""fastrnn: fast drop-in time layers for "Deep Learning from Scratch 2".

Swap ``from common.time_layers import TimeRNN`` (or ``TimeLSTM``, ...) for
``from fastrnn import TimeRNN``; everything else stays the same.
``fastrnn.time_layers.__all__`` lists every layer fastrnn replaces; to run
the book's own scripts on them unchanged: ``fastrnn run SCRIPT.py`` (or
``fastrnn.patch(module)`` on a module of layers).
"""

from ._patch import patch
from .time_layers import (GRU, LSTM, RNN, TimeBiLSTM, TimeDropout, TimeGRU, TimeLSTM,
                          TimeRNN)

__all__ = ["RNN", "TimeRNN", "LSTM", "TimeLSTM", "GRU", "TimeGRU", "TimeBiLSTM",
           "TimeDropout", "patch"]
__version__ = "0.1.0"
