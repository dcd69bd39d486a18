"""fastrnn: a fast drop-in ``RNN``/``TimeRNN`` for "Deep Learning from Scratch 2".

Swap ``from common.time_layers import RNN, TimeRNN`` for
``from fastrnn import RNN, TimeRNN``; everything else stays the same.
"""

from .layers import RNN, TimeRNN

__all__ = ["RNN", "TimeRNN"]
__version__ = "0.1.0"
