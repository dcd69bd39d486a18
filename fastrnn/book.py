"""Run the book's own scripts on fastrnn's layers, unchanged.

The book's models import their layers with ``from common.time_layers import
*``. ``patch(module)`` swaps, in such a module, each of the book's layers
that fastrnn does faster (``fastrnn.registry.patched_names``) for fastrnn's
(``is_book_layer`` says which classes are the book's). ``run_script`` runs a
script as ``python SCRIPT.py ARGS`` would, with an import hook that patches
``common.time_layers`` right after it has run, before any other module
star-imports from it (the pattern of ``python -m sklearnex script.py``).
"""

from __future__ import annotations

import builtins
import importlib.abc
import importlib.machinery
import inspect
import io
import os
import sys
from types import ModuleType
from typing import Callable, Sequence

from .registry import load, patched_names

BOOK_MODULE = "common.time_layers"


def replacements() -> dict[str, type]:
    """fastrnn's class for each of the book's names that ``patch`` replaces,
    in the order ``patch`` reports them (``fastrnn.registry.patched_names``)."""
    return {name: load(name) for name in patched_names("time_layers")}


def _is_fastrnn(name: object) -> bool:
    """Whether the module name ``name`` is fastrnn or one of its modules."""
    return isinstance(name, str) and (name == "fastrnn" or name.startswith("fastrnn."))


def _parameter_names(cls: type) -> list[str] | None:
    """The names of the parameters of ``cls(...)``; None if Python cannot tell."""
    try:
        return list(inspect.signature(cls).parameters)
    except (TypeError, ValueError):
        return None


def is_book_layer(value: object, ours: type) -> bool:
    """Whether ``value`` is the book's class of the layer that fastrnn's
    class ``ours`` replaces.

    It is if it is a class that is not fastrnn's own (its ``__module__`` is
    neither ``fastrnn`` nor ``fastrnn.*``) and its constructor's parameter
    names are, in order, those of ``ours`` (fastrnn's constructors have the
    book's names, e.g. ``(Wx, Wh, b, stateful)``; defaults and annotations
    aside). PyTorch's ``nn.RNN(*args, **kwargs)`` is not.
    """
    return (isinstance(value, type) and not _is_fastrnn(getattr(value, "__module__", None))
            and _parameter_names(value) == _parameter_names(ours))


def _replace(module: ModuleType) -> tuple[list[str], list[str]]:
    """Rebind each of the book's layers in ``module`` to fastrnn's class.

    Returns (the names now bound to fastrnn's classes, the names present
    but not the book's, left as they were). A name already bound to
    fastrnn's class counts as replaced: patching twice changes nothing.
    """
    replaced, skipped = [], []
    for name, ours in replacements().items():
        if not hasattr(module, name):
            continue
        value = getattr(module, name)
        if value is ours:
            replaced.append(name)
        elif is_book_layer(value, ours):
            setattr(module, name, ours)
            replaced.append(name)
        else:
            skipped.append(name)
    return replaced, skipped


def patch(module: ModuleType) -> list[str]:
    """Replace the book's layers in ``module`` by fastrnn's.

    Each name of ``replacements()`` (``fastrnn.registry.patched_names``) that
    ``module`` binds to the book's class of that layer (``is_book_layer``)
    is rebound to fastrnn's class. Code that looks the names up in the
    module afterwards (``from module import *`` included) gets fastrnn's.
    Other values under those names (fastrnn's own or another library's
    classes) are left as they are.

    Parameters
    ----------
    module : ModuleType
        An imported module holding the book's layers, such as
        ``common.time_layers``.

    Returns
    -------
    list of str
        The names replaced, in the registry's order.

    Raises
    ------
    TypeError
        If ``module`` is not a module (a name as a str included).
    ValueError
        If it is one of fastrnn's own modules, or holds none of the book's
        layers; nothing is changed.
    """
    if not isinstance(module, ModuleType):
        if isinstance(module, str):
            raise TypeError(f"patch: module must be a module object, got the str "
                            f"{module!r}; import it first and pass the module "
                            f"(import {module}; fastrnn.patch({module}))")
        got = "None" if module is None else f"a {type(module).__module__}." \
            f"{type(module).__qualname__}"
        raise TypeError(f"patch: module must be a module object holding the book's layers "
                        f"(such as common.time_layers), got {got}")
    name = getattr(module, "__name__", None)
    if _is_fastrnn(name):
        raise ValueError(f"patch: {name} is fastrnn's own module; patch replaces the "
                         "book's layers (e.g. in common.time_layers), never fastrnn's")
    replaced, skipped = _replace(module)
    if not replaced:
        present = f"; {', '.join(skipped)} {'is' if len(skipped) == 1 else 'are'} there " \
            "but not the book's classes" if skipped else ""
        raise ValueError(f"patch: {name} holds none of the book's layers (looked for "
                         f"{', '.join(replacements())}{present}); nothing was changed")
    return replaced


class _PatchingLoader(importlib.abc.Loader):
    """Runs the real loader, then ``patch`` on the module it filled."""

    def __init__(self, loader: importlib.abc.Loader,
                 on_patch: Callable[[list[str], list[str]], None]):
        self._loader = loader
        self._on_patch = on_patch

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        self._on_patch(*_replace(module))


class _BookFinder(importlib.abc.MetaPathFinder):
    """Finds ``common.time_layers`` with the other finders and wraps its loader."""

    def __init__(self, on_patch: Callable[[list[str], list[str]], None]) -> None:
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


def main_file(path: str) -> str:
    """The file ``python path`` runs, as the absolute path python gives its
    ``__file__`` (joined to the current folder, not normalised): ``path``
    itself, or for a folder the ``__main__.py`` in it."""
    full = os.path.join(os.getcwd(), path)
    if os.path.isdir(full):
        return os.path.join(full.rstrip(os.sep) or full, "__main__.py")
    return full


def run_script(path: str, args: Sequence[str], report: Callable[[str], None]) -> None:
    """Run the Python script ``path`` with ``args`` as ``python path args`` would,
    the book's layers replaced by fastrnn's.

    The script (for a folder, its ``__main__.py``) runs as ``__main__``,
    with ``sys.argv = [path, *args]`` and its folder (or the folder given)
    first on ``sys.path``. ``report`` gets one line when
    ``common.time_layers`` has been patched (which classes were replaced,
    which were skipped as not the book's), or, at the end, if the script
    never imported it (not after Ctrl-C: the caller says it was
    interrupted). Whatever the script raises (SystemExit included)
    propagates.
    """
    imported: list[bool] = []

    def on_patch(replaced: list[str], skipped: list[str]) -> None:
        imported.append(True)
        line = f"fastrnn: replaced {', '.join(replaced) or 'nothing'} in {BOOK_MODULE}"
        if skipped:
            line += f"; skipped {', '.join(skipped)} (not the book's " \
                    f"{'class' if len(skipped) == 1 else 'classes'})"
        report(line)

    full = main_file(path)
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
    # python puts a folder first as typed (made absolute), a script's folder normalised
    sys.path.insert(0, os.path.join(os.getcwd(), path) if os.path.isdir(path)
                    else os.path.dirname(os.path.abspath(path)))
    sys.meta_path.insert(0, finder)
    sys.modules["__main__"] = main  # for pickle and the like, as under python
    interrupted = False
    try:
        exec(code, main.__dict__)
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        sys.modules["__main__"] = saved_main
        sys.meta_path.remove(finder)
        sys.argv[:], sys.path[:] = saved_argv, saved_path
        if not imported and not interrupted:
            report(f"fastrnn: the script never imported {BOOK_MODULE}; nothing was replaced")
