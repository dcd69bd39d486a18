"""fastrnn.registry is the one list of layers: every consumer reads it."""

from __future__ import annotations

import subprocess
import sys

import pytest

import fastrnn
from fastrnn import registry, time_layers
from fastrnn.bench import kind
from fastrnn.cli import build_parser
from layer_registry import TIME_LAYERS


@pytest.mark.parametrize("entry", registry.LAYERS, ids=lambda e: e.name)
def test_every_entry_names_its_class_and_its_oracle(entry):
    cls = registry.load(entry.name)
    assert cls.__name__ == entry.name and cls.__module__ == entry.module
    ref = registry.load_reference(entry.name)
    assert ref.__name__ == entry.name and ref is not cls
    if entry.step is not None:
        step = registry.load(entry.step)
        assert step.cell is cls.cell  # the one-step layer is T = 1 of the same cell


def test_public_names_and_the_facade_come_from_the_registry():
    book = [e.name for e in registry.LAYERS if e.book == "time_layers"]
    assert fastrnn.__all__ == book + ["patch"]
    assert [n for n in time_layers.__all__ if n in registry.BY_NAME] == book
    for name in book:
        assert getattr(time_layers, name) is getattr(fastrnn, name) is registry.load(name)
    namespace: dict = {}
    exec("from fastrnn.time_layers import *", namespace)
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
