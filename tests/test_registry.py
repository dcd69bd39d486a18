"""fastrnn.registry is the one list of layers: every consumer reads it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import fastrnn
from fastrnn import attention_layer, registry, time_layers
from fastrnn.bench import kind
from fastrnn.cli import build_parser
from layer_registry import TIME_LAYERS


@pytest.mark.parametrize("entry", registry.LAYERS, ids=lambda e: e.name)
def test_every_entry_names_its_class_and_its_oracle(entry):
    cls = registry.load(entry.name)
    assert cls.__name__ == entry.name and cls.__module__ == entry.module
    if entry.reference is None:  # a plain numpy stand-in, never swapped in
        assert not entry.patched and entry.bench is None and entry.step is None
        return
    ref = registry.load_reference(entry.name)
    assert ref.__name__ == entry.name and ref is not cls
    if entry.step is not None:
        step = registry.load(entry.step)
        assert step.cell is cls.cell  # the one-step layer is T = 1 of the same cell


@pytest.mark.parametrize("facade", [time_layers, attention_layer], ids=lambda m: m.__name__)
def test_public_names_and_the_facades_come_from_the_registry(facade):
    assert fastrnn.__all__ == [e.name for e in registry.LAYERS] + ["patch"]
    book = [e.name for e in registry.LAYERS if e.book == facade.__name__.split(".")[-1]]
    assert book and [n for n in facade.__all__ if n in registry.BY_NAME] == book
    for name in book:
        assert getattr(facade, name) is getattr(fastrnn, name) is registry.load(name)
    namespace: dict = {}
    exec(f"from {facade.__name__} import *", namespace)
    assert set(book) <= set(namespace)


def test_tests_and_benchmarks_read_the_registry():
    assert [s.name for s in TIME_LAYERS] == [e.name for e in registry.LAYERS
                                             if e.step is not None]
    bench = build_parser()._subparsers._group_actions[0].choices["bench"]
    layer = next(a for a in bench._actions if a.dest == "layer")
    assert layer.choices == [e.bench for e in registry.LAYERS if e.bench is not None]
    for key in layer.choices:
        k = kind(key)
        assert k.fastrnn is registry.load(k.title)
        assert k.gates == k.cell.gates * k.directions


def test_reading_the_registry_imports_no_layer():
    """The command line builds its parser from the registry without Numba."""
    code = ("import sys, fastrnn.registry, fastrnn.cli; fastrnn.cli.build_parser(); "
            "assert 'numba' not in sys.modules and 'fastrnn.layers' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd="/")


# A cell added as docs/design.md's walk-through says: a layer module (here
# written by the test, with the LSTM's kernels under new names and its
# oracle beside it) and two registry entries; nothing else is touched.
NEW_CELL = '''
from fastrnn import reference
from fastrnn.layers.lstm import CELL as LSTM_CELL, LSTM, TimeLSTM


class PeepLSTM(LSTM):
    cell = LSTM_CELL


class TimePeepLSTM(TimeLSTM):
    cell = LSTM_CELL


class NumpyPeepLSTM(reference.LSTM):
    pass


class NumpyTimePeepLSTM(reference.TimeLSTM):
    pass
'''


def test_a_new_cell_needs_only_its_module_and_its_entries(tmp_path, monkeypatch):
    from fastrnn.bench import measure
    from fastrnn.bench.shapes import shapes as layer_shapes
    from layer_registry import _spec

    (tmp_path / "peep_example.py").write_text(NEW_CELL)
    monkeypatch.syspath_prepend(str(tmp_path))
    entries = (
        registry.Entry("PeepLSTM", "peep_example", book=None,
                       reference="peep_example:NumpyPeepLSTM"),
        registry.Entry("TimePeepLSTM", "peep_example", book=None, step="PeepLSTM",
                       bench="peep", reference="peep_example:NumpyTimePeepLSTM"),
    )
    monkeypatch.setattr(registry, "LAYERS", registry.LAYERS + entries)
    monkeypatch.setattr(registry, "BY_NAME", {e.name: e for e in registry.LAYERS})
    # the concern tests' registry
    spec = _spec(entries[1])
    assert (spec.fast.__name__, spec.ref.__name__, spec.gates, spec.has_c) == \
        ("TimePeepLSTM", "NumpyTimePeepLSTM", 4, True)
    rng = np.random.default_rng(0)
    params = spec.params(rng, 3, 5, np.float64)
    xs, dhs = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 5))
    fast, ref = spec.fast(*params), spec.ref(*params)
    np.testing.assert_allclose(fast.forward(xs), ref.forward(xs), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast.backward(dhs), ref.backward(dhs), rtol=1e-9, atol=1e-12)
    # the benchmark: bench --layer peep's choices, kind and default shapes
    assert "peep" in registry.bench_layers()
    quick = layer_shapes("peep", quick=True)
    assert quick and all(s.layer == "peep" for s in quick)
    result = measure(quick[0]._replace(T=3), "float32", seed=0, budget=0.0)
    assert result.diff_hs < 1e-5 and result.fastrnn_s > 0
