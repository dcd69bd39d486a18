"""fastrnn.registry is the one list of layers: every consumer reads it."""

from __future__ import annotations

import subprocess
import sys

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
