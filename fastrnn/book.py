"""Run the book's own scripts on fastrnn's layers, unchanged.

The book's models import their layers with ``from common.time_layers import
*``. ``patch(module)`` swaps, in such a module, every class fastrnn does
faster (``fastrnn.registry.patched_names``) for fastrnn's. ``run_script``
runs a script as ``python SCRIPT.py ARGS`` would, with an import hook that
patches ``common.time_layers`` right after it has run, before any other
module star-imports from it (the pattern of ``python -m sklearnex
script.py``).
"""

from __future__ import annotations

import builtins
import importlib.abc
import importlib.machinery
import io
import os
import sys
from types import ModuleType
from typing import Callable, Sequence

from . import time_layers
from .registry import patched_names

BOOK_MODULE = "common.time_layers"


def patch(module: ModuleType) -> list[str]:
    """Replace the book's layers in ``module`` by fastrnn's.

    Every name of ``fastrnn.registry.patched_names("time_layers")`` (the
    layers of ``fastrnn.time_layers.__all__`` that fastrnn does faster; not
    its plain numpy stand-ins, ``np`` or the functions) that ``module``
    defines is rebound to fastrnn's class of that name. Code that looks the
    names up in the module afterwards (``from module import *`` included)
    gets fastrnn's.

    Returns
    -------
    The names replaced, in the registry's order.
    """
    replaced = []
    for name in patched_names("time_layers"):
        if hasattr(module, name):
            setattr(module, name, getattr(time_layers, name))
            replaced.append(name)
    return replaced


class _PatchingLoader(importlib.abc.Loader):
    """Runs the real loader, then ``patch`` on the module it filled."""

    def __init__(self, loader: importlib.abc.Loader, on_patch: Callable[[list[str]], None]):
        self._loader = loader
        self._on_patch = on_patch

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        self._on_patch(patch(module))


class _BookFinder(importlib.abc.MetaPathFinder):
    """Finds ``common.time_layers`` with the other finders and wraps its loader."""

    def __init__(self, on_patch: Callable[[list[str]], None]) -> None:
        self._on_patch = on_patch

    def find_spec(self, fullname: str, path: Sequence[str] | None, target=None):
        if fullname != BOOK_MODULE:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader, self._on_patch)
                return spec
        return None


def run_script(path: str, args: Sequence[str], report: Callable[[str], None]) -> None:
    """Run the Python script ``path`` with ``args`` as ``python path args`` would,
    the book's layers replaced by fastrnn's.

    The script runs as ``__main__``, with ``sys.argv = [path, *args]`` and
    its folder first on ``sys.path``. ``report`` gets one line when
    ``common.time_layers`` has been patched (which classes), or, at the end,
    if the script never imported it. Whatever the script raises (SystemExit
    included) propagates.
    """
    patched: list[list[str]] = []

    def on_patch(names: list[str]) -> None:
        patched.append(names)
        report(f"fastrnn: replaced {', '.join(names) or 'nothing'} in {BOOK_MODULE}")

    full = os.path.abspath(path)  # python gives __main__ an absolute __file__
    with io.open_code(full) as f:
        code = compile(f.read(), full, "exec", dont_inherit=True)
    # What python gives a script's __main__ (runpy.run_path would also set
    # sys.argv[0] to the path it ran, where python keeps it as typed).
    main = ModuleType("__main__")
    main.__dict__.update(__file__=full, __builtins__=builtins, __spec__=None,
                         __loader__=None, __cached__=None)
    finder = _BookFinder(on_patch)
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    saved_main = sys.modules["__main__"]
    sys.argv = [path, *args]
    sys.path.insert(0, os.path.dirname(full))
    sys.meta_path.insert(0, finder)
    sys.modules["__main__"] = main  # for pickle and the like, as under python
    try:
        exec(code, main.__dict__)
    finally:
        sys.modules["__main__"] = saved_main
        sys.meta_path.remove(finder)
        sys.argv[:], sys.path[:] = saved_argv, saved_path
        if not patched:
            report(f"fastrnn: the script never imported {BOOK_MODULE}; nothing was replaced")
