"""One registry of fastrnn's recurrent time layers for the concern tests.

A new layer is covered by the registry-driven tests (``test_time_layers.py``)
by adding one ``Spec`` here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import fastrnn
from fastrnn import reference
from conftest import make_params


@dataclass(frozen=True)
class Spec:
    """A time layer, its one-step twin and their numpy references."""

    name: str
    fast: type
    ref: type
    step: type
    ref_step: type
    gates: int
    has_c: bool

    def params(self, rng, D, H, dtype=np.float32, contractive=True):
        return make_params(rng, D, H, dtype, contractive, self.gates)

    def state_names(self):
        return ("h", "c") if self.has_c else ("h",)

    def set_state(self, layer, states):
        """``states``: one (N, H) array per state name."""
        layer.set_state(*states)

    def outputs(self, layer, hs, dxs):
        """Everything a forward+backward produces: hs, the last states, dxs,
        dh and the grads."""
        last = [getattr(layer, s) for s in self.state_names()]
        return [hs] + last + [dxs, layer.dh] + list(layer.grads)

    def output_names(self):
        return ["hs"] + list(self.state_names()) + ["dxs", "dh", "dWx", "dWh", "db"]


TIME_LAYERS = [
    Spec("TimeRNN", fastrnn.TimeRNN, reference.TimeRNN, fastrnn.RNN, reference.RNN, 1, False),
    Spec("TimeLSTM", fastrnn.TimeLSTM, reference.TimeLSTM, fastrnn.LSTM, reference.LSTM, 4,
         True),
    Spec("TimeGRU", fastrnn.TimeGRU, reference.TimeGRU, fastrnn.GRU, reference.GRU, 3, False),
]
BY_NAME = {s.name: s for s in TIME_LAYERS}
