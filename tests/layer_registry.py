"""fastrnn's recurrent time layers, as the concern tests need them.

Built from ``fastrnn.registry``: every entry with a one-step layer
(``step``) is put through the registry-driven tests (``test_time_layers.py``)
against the numpy reference of the same names; a new layer's registry entry
is all it takes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fastrnn import registry
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


def _spec(entry):
    fast = registry.load(entry.name)
    return Spec(entry.name, fast, registry.load_reference(entry.name), registry.load(entry.step),
                registry.load_reference(entry.step), fast.cell.gates, fast.cell.has_c)


TIME_LAYERS = [_spec(e) for e in registry.LAYERS if e.step is not None]
BY_NAME = {s.name: s for s in TIME_LAYERS}
