"""Run the book's own scripts on fastrnn's layers, unchanged.

The book's models import their layers from two modules: ``common.time_layers``
(``from common.time_layers import *``) and chapter 8's ``attention_layer``
(reached as ``ch08.attention_layer`` from the repository's root, or as
``attention_layer`` with ch08 on ``sys.path``). ``patch(module)`` swaps, in
such a module, each of the book's layers that fastrnn does faster
(``fastrnn.registry.patched_names``) for fastrnn's (``is_book_layer`` says
which classes are the book's). ``run_script`` runs a script as ``python
SCRIPT.py ARGS`` would, with an import hook that patches every module named
after one of the book's (``book_of``) right after it has run, before any
other module imports from it (the pattern of ``python -m sklearnex
script.py``).

fastrnn is numpy-only. The book runs on cupy when ``common/config.py`` (or the
script, through ``config.GPU = True``) sets ``GPU = True``: its ``common/np.py``
then binds ``np`` to cupy. ``patch`` refuses a module whose ``np`` is not
numpy; the hook stops the script (``NumpyOnlyError``) at its first import
once ``common.config.GPU`` is true (for the book, the ``import cupy`` of
``common/np.py``, so cupy is never looked for), or when a module it would
patch binds ``np`` to something other than numpy.
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

import numpy

from .registry import book_modules, load, patched_names

# The book's switch: common/np.py binds np to cupy when this module's GPU is true.
BOOK_CONFIG = "common.config"
GPU_ADVICE = ("set GPU = False in common/config.py (and take out any "
              "config.GPU = True in the script)")


def book_of(name: object) -> str | None:
    """The book's module that the module called ``name`` stands for, or None.

    The rule of the import hook (and of which names ``patch`` looks for): a
    module whose last dotted component is one of the registry's book modules
    (``fastrnn.registry.book_modules()``: ``time_layers``,
    ``attention_layer``) stands for that module, unless it is fastrnn's
    own. So ``common.time_layers``, ``attention_layer`` and
    ``ch08.attention_layer`` do; ``fastrnn.time_layers``, ``attention`` and
    ``my_attention_layer`` do not.
    """
    if not isinstance(name, str) or _is_fastrnn(name):
        return None
    last = name.rpartition(".")[2]
    return last if last in book_modules() else None


def replacements(book: str | None = None) -> dict[str, type]:
    """fastrnn's class for each of the book's names that ``patch`` replaces in
    the book's module ``book`` (``fastrnn.registry.patched_names(book)``), or,
    if ``book`` is None, in any of them; in the registry's order."""
    books = book_modules() if book is None else [book]
    return {name: load(name) for b in books for name in patched_names(b)}


def _is_fastrnn(name: object) -> bool:
    """Whether the module name ``name`` is fastrnn or one of its modules."""
    return isinstance(name, str) and (name == "fastrnn" or name.startswith("fastrnn."))


def _parameter_names(cls: type) -> list[str] | None:
    """The names of the parameters of ``cls(...)``; None if Python cannot
    tell, or if ``cls`` has no constructor of its own (it inherits object's
    ``__init__`` and ``__new__``): every one of the book's layers defines
    ``__init__``, the attention layers' and ``TimeSoftmaxWithLoss``'s with
    no parameters (``__init__(self)``), so an empty class is not one of them."""
    try:
        if cls.__init__ is object.__init__ and cls.__new__ is object.__new__:
            return None
        return list(inspect.signature(cls).parameters)
    except (TypeError, ValueError, AttributeError):
        return None


def is_book_layer(value: object, ours: type) -> bool:
    """Whether ``value`` is the book's class of the layer that fastrnn's
    class ``ours`` replaces.

    It is if it is a class that is not fastrnn's own (its ``__module__`` is
    neither ``fastrnn`` nor ``fastrnn.*``) and its constructor's parameter
    names are, in order, those of ``ours`` (fastrnn's constructors have the
    book's names, e.g. ``(Wx, Wh, b, stateful)``, or none at all for the
    attention layers; defaults and annotations aside). A class without a
    constructor of its own is not (``_parameter_names``), nor is PyTorch's
    ``nn.RNN(*args, **kwargs)``.
    """
    if not isinstance(value, type) or _is_fastrnn(getattr(value, "__module__", None)):
        return False
    theirs = _parameter_names(value)
    return theirs is not None and theirs == _parameter_names(ours)


def _describe(value: object) -> str:
    """A short name of ``value`` for a message: a module's name, else its type's."""
    if isinstance(value, ModuleType):
        return str(getattr(value, "__name__", "a module"))
    return f"a {type(value).__module__}.{type(value).__qualname__}"


def _not_numpy(module: ModuleType) -> str | None:
    """What ``module``'s ``np`` is if it is there and is not numpy (the book's
    ``common/np.py`` binds it to cupy when ``GPU = True``); else None."""
    try:
        value = vars(module).get("np", numpy)
    except TypeError:
        return None
    return None if value is numpy else _describe(value)


def _replace(module: ModuleType, ours: dict[str, type]) -> tuple[list[str], list[str]]:
    """Rebind each of the book's layers in ``module`` to fastrnn's class:
    each name of ``ours`` (fastrnn's class by name, ``replacements``).

    Returns (the names now bound to fastrnn's classes, the names present
    but not the book's, left as they were). A name already bound to
    fastrnn's class counts as replaced: patching twice changes nothing.
    """
    replaced, skipped = [], []
    for name, cls in ours.items():
        if not hasattr(module, name):
            continue
        value = getattr(module, name)
        if value is cls:
            replaced.append(name)
        elif is_book_layer(value, cls):
            setattr(module, name, cls)
            replaced.append(name)
        else:
            skipped.append(name)
    return replaced, skipped


def patch(module: ModuleType) -> list[str]:
    """Replace the book's layers in ``module`` by fastrnn's.

    Which names it looks for comes from the module's name (``book_of``): in
    a module named after one of the book's (``common.time_layers``,
    ``attention_layer``, ``ch08.attention_layer``), the layers of that module
    (``fastrnn.registry.patched_names``); in a module of any other name (a
    copy of your own, a ``types.ModuleType``), those of every book module.
    Each such name that ``module`` binds to the book's class of that layer
    (``is_book_layer``) is rebound to fastrnn's class. Code that looks the
    names up in the module afterwards (``from module import *`` included)
    gets fastrnn's. Other values under those names (fastrnn's own or another
    library's classes) are left as they are.

    Parameters
    ----------
    module : ModuleType
        An imported module holding the book's layers, such as
        ``common.time_layers`` or chapter 8's ``attention_layer``.

    Returns
    -------
    list of str
        The names replaced, in the registry's order.

    Raises
    ------
    TypeError
        If ``module`` is not a module (a name as a str included).
    ValueError
        If it is one of fastrnn's own modules, binds ``np`` to something
        other than numpy (the book's ``GPU = True``: fastrnn is numpy-only),
        or holds none of the book's layers; nothing is changed.
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
    np_is = _not_numpy(module)
    if np_is is not None:
        raise ValueError(f"patch: {name} binds np to {np_is}, not numpy (the book's GPU "
                         f"= True); fastrnn is numpy-only: {GPU_ADVICE}; nothing was "
                         "changed")
    ours = replacements(book_of(name))
    replaced, skipped = _replace(module, ours)
    if not replaced:
        present = f"; {', '.join(skipped)} {'is' if len(skipped) == 1 else 'are'} there " \
            "but not the book's classes" if skipped else ""
        raise ValueError(f"patch: {name} holds none of the book's layers (looked for "
                         f"{', '.join(ours)}{present}); nothing was changed")
    return replaced


class NumpyOnlyError(BaseException):
    """The script run by ``run_script`` would run the book on the GPU (cupy).

    Raised by the import hook inside the script's import, before anything
    of the script runs past it. A ``BaseException``, as ``SystemExit``, so
    that the script's own ``except Exception`` does not swallow it;
    ``fastrnn run`` reports its message in one line, exit status 2.
    """


def _gpu_on() -> bool:
    """Whether the book's ``common.config`` is loaded with a true ``GPU``."""
    config = sys.modules.get(BOOK_CONFIG)
    try:
        return config is not None and bool(getattr(config, "GPU", False))
    except Exception:  # noqa: BLE001 - a GPU whose truth cannot be told is not True
        return False


_GPU_MESSAGE = ("fastrnn is numpy-only, but common.config.GPU is True (the book then "
                "binds np to cupy): " + GPU_ADVICE)


class _PatchingLoader(importlib.abc.Loader):
    """Runs the real loader, then patches the module it filled (the layers
    of the book's module ``book``) and tells ``on_patch`` what it did."""

    def __init__(self, loader: importlib.abc.Loader, book: str,
                 on_patch: Callable[[str, list[str], list[str]], None]):
        self._loader = loader
        self._book = book
        self._on_patch = on_patch

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        if _gpu_on():
            raise NumpyOnlyError(_GPU_MESSAGE)
        np_is = _not_numpy(module)
        if np_is is not None:
            raise NumpyOnlyError(f"fastrnn is numpy-only, but {module.__name__} binds np "
                                 f"to {np_is}, not numpy: {GPU_ADVICE}")
        self._on_patch(module.__name__, *_replace(module, replacements(self._book)))


class _BookFinder(importlib.abc.MetaPathFinder):
    """Finds the modules named after the book's (``book_of``) with the other
    finders and wraps their loaders; stops the script at any import once
    ``common.config.GPU`` is true."""

    def __init__(self, on_patch: Callable[[str, list[str], list[str]], None]) -> None:
        self._on_patch = on_patch

    def find_spec(self, fullname: str, path: Sequence[str] | None, target=None):
        if _gpu_on():
            raise NumpyOnlyError(_GPU_MESSAGE)
        book = book_of(fullname)
        if book is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader, book, self._on_patch)
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


def report_line(name: str, replaced: list[str], skipped: list[str]) -> str:
    """The line that says what was replaced in the module ``name`` and which
    names were skipped as not the book's."""
    line = f"fastrnn: replaced {', '.join(replaced) or 'nothing'} in {name}"
    if skipped:
        line += f", skipped {', '.join(skipped)} (not the book's " \
                f"{'class' if len(skipped) == 1 else 'classes'})"
    return line


def run_script(path: str, args: Sequence[str], report: Callable[[str], None]) -> None:
    """Run the Python script ``path`` with ``args`` as ``python path args`` would,
    the book's layers replaced by fastrnn's.

    The script (for a folder, its ``__main__.py``) runs as ``__main__``,
    with ``sys.argv = [path, *args]`` and its folder (or the folder given)
    first on ``sys.path``. Each module the script imports that is named
    after one of the book's (``book_of``) is patched right after it has
    run, and ``report`` gets one line for it at once (``report_line``):
    what was replaced, which names were skipped as not the book's. A script
    that ends (normally, by an exception or ``SystemExit``; not by Ctrl-C,
    which the caller reports) without importing such a module gets one line
    that says so. Whatever the script raises (SystemExit included)
    propagates; if the script would run the book on the GPU, it is stopped
    at the import that shows it with ``NumpyOnlyError``.
    """
    patched: list[str] = []

    def on_patch(name: str, replaced: list[str], skipped: list[str]) -> None:
        patched.append(name)
        report(report_line(name, replaced, skipped))

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
    interrupted = refused = False
    try:
        exec(code, main.__dict__)
    except KeyboardInterrupt:
        interrupted = True
        raise
    except NumpyOnlyError:
        refused = True
        raise
    finally:
        sys.modules["__main__"] = saved_main
        sys.meta_path.remove(finder)
        sys.argv[:], sys.path[:] = saved_argv, saved_path
        if not (patched or refused or interrupted):
            report(f"fastrnn: the script imported no {' or '.join(book_modules())} module; "
                   "nothing was replaced")
