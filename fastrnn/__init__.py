"""fastrnn: fast drop-in time layers for "Deep Learning from Scratch 2".

Swap ``from common.time_layers import RNN, TimeRNN, TimeDropout`` for
``from fastrnn import RNN, TimeRNN, TimeDropout``; everything else stays the
same.
"""

from .dropout import TimeDropout
from .layers import RNN, TimeRNN

__all__ = ["RNN", "TimeRNN", "TimeDropout"]
__version__ = "0.1.0"
