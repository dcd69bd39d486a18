"""The one place where fastrnn checks its inputs, before any kernel runs.

Every check raises before anything is changed, with a message that names
the argument, what it received and what was expected. What passes is cast
to the params' dtype and made C-contiguous, which is all the kernels accept
(but the backward's transposed view of Wh, see ``fastrnn.layers.recurrent``).
"""

from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np

PARAM_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _describe(a: object) -> str:
    if isinstance(a, np.ndarray):
        layout = [] if a.flags.c_contiguous else ["not C-contiguous"]
        layout += [] if a.flags.writeable else ["read-only"]
        return f"shape {a.shape} and dtype {a.dtype}" + "".join(f", {w}" for w in layout)
    if a is None:
        return "None"
    if isinstance(a, np.generic):
        return f"a numpy scalar ({type(a).__name__})"
    return f"a {type(a).__module__}.{type(a).__qualname__}"


def check_ndarray(name: str, a: object) -> np.ndarray:
    """Return ``a`` if it is a numpy array, else raise a TypeError."""
    if isinstance(a, np.ndarray):
        return a
    hint = ""
    module = type(a).__module__.split(".")[0]
    # numpy's own scalars have __array__ too, but need no conversion hint.
    if module != "numpy" and (hasattr(a, "__array__")
                              or hasattr(a, "__cuda_array_interface__")):
        hint = (f"; fastrnn runs on the CPU: convert {module} arrays to "
                "numpy first (e.g. cupy.asnumpy or tensor.numpy())")
    raise TypeError(f"{name} must be a numpy.ndarray, got {_describe(a)}{hint}")


def check_sequence(name: str, items: object, expected: str) -> None:
    """Raise a TypeError unless ``items`` is a list or tuple (of arrays)."""
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"{name} must be a list {expected} of numpy arrays, got "
                        f"{_describe(items)}")


def _gh(gates: int) -> str:
    """How the messages write G*H."""
    return "H" if gates == 1 else f"{gates}H"


def check_params(params: Sequence[object], gates: int = 1
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check ``[Wx, Wh, b]`` of a cell with ``gates`` blocks; return them C-contiguous.

    Wx is (D, G*H), Wh is (H, G*H), b is (G*H,) with G = ``gates`` (1 for
    RNN, 4 for LSTM, 3 for GRU), D >= 1 and H >= 1, all of one dtype,
    float32 or float64. Contiguous params are returned as they are (no
    copy), so the caller always sees their current values.
    """
    check_sequence("params", params, "[Wx, Wh, b]")
    if len(params) != 3:
        raise ValueError(f"params must be [Wx, Wh, b], got {len(params)} arrays")
    wx, wh, b = (check_ndarray(n, p) for n, p in zip(("Wx", "Wh", "b"), params))
    if wx.dtype not in PARAM_DTYPES:
        raise TypeError(f"Wx must have dtype float32 or float64, got {wx.dtype}")
    for name, p in (("Wh", wh), ("b", b)):
        if p.dtype != wx.dtype:
            raise TypeError(f"{name} must have the dtype of Wx ({wx.dtype}), "
                            f"got {p.dtype}")
    if wx.ndim != 2 or min(wx.shape) < 1:
        raise ValueError(f"Wx must be 2-D (D, {_gh(gates)}) with D, H >= 1, got shape "
                         f"{wx.shape}")
    if wx.shape[1] % gates:
        raise ValueError(f"Wx must be (D, {_gh(gates)}), one block of H columns per gate, "
                         f"got shape {wx.shape}: {wx.shape[1]} is not a multiple of {gates}")
    hidden = wx.shape[1] // gates
    if wh.shape != (hidden, wx.shape[1]):
        kind = "square (H, H)" if gates == 1 else f"(H, {_gh(gates)})"
        raise ValueError(f"Wh must be {kind} = {(hidden, wx.shape[1])} to match "
                         f"Wx of shape {wx.shape}, got shape {wh.shape}")
    if b.shape != (wx.shape[1],):
        raise ValueError(f"b must have shape ({_gh(gates)},) = {(wx.shape[1],)} to match Wx of "
                         f"shape {wx.shape}, got shape {b.shape}")
    return (np.ascontiguousarray(wx), np.ascontiguousarray(wh),
            np.ascontiguousarray(b))


def as_input(name: str, a: object, shape: tuple, dtype: np.dtype,
             copy: bool = False) -> np.ndarray:
    """Check a float input against ``shape`` (None matches any length).

    Returns it cast to ``dtype`` and C-contiguous: the same object when it
    already is, unless ``copy`` is set (for arrays a kernel will write to).
    """
    a = check_ndarray(name, a)
    if a.dtype.kind != "f":
        raise TypeError(f"{name} must be a floating-point array, got dtype "
                        f"{a.dtype}")
    if a.ndim != len(shape) or any(
            want is not None and got != want for got, want in zip(a.shape, shape)):
        expected = "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {expected}, got shape {a.shape}")
    if copy:
        return np.array(a, dtype=dtype, order="C", copy=True)
    if a.dtype == dtype and a.flags.c_contiguous:
        return a
    return np.ascontiguousarray(a, dtype=dtype)


def check_param(name: str, p: object, ndim: int) -> np.ndarray:
    """Check a weight of a layer outside the recurrent cells: a float32 or
    float64 numpy array of ``ndim`` dimensions, none empty; return it."""
    p = check_ndarray(name, p)
    if p.dtype not in PARAM_DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64, got {p.dtype}")
    if p.ndim != ndim or min(p.shape) < 1:
        raise ValueError(f"{name} must be {ndim}-D with no empty axis, got shape {p.shape}")
    return p


def check_ratio(name: str, value: object, allow_one: bool = False) -> float:
    """Return ``value`` as a float if it is a real number in [0, 1), or in
    [0, 1] with ``allow_one``; else TypeError (not a real number) or
    ValueError (out of range, NaN included)."""
    interval = "[0, 1]" if allow_one else "[0, 1)"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in {interval}, got {value!r} of "
                        f"type {type(value).__qualname__}")
    if not (0.0 <= value <= 1.0 if allow_one else 0.0 <= value < 1.0):
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return float(value)


def check_float_array(name: str, a: object) -> np.ndarray:
    """Check a float32 or float64 numpy array of any shape with at least one
    dimension, and return it.

    For layers without params, whose output takes the input's dtype.
    """
    a = check_ndarray(name, a)
    if a.dtype not in PARAM_DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64, got {a.dtype}")
    if a.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension, got a 0-d array")
    return a


def check_grads(grads: Sequence[object], params: Sequence[np.ndarray],
                names: Sequence[str] = ("dWx", "dWh", "db")) -> None:
    """Check that the grads are still writable C-contiguous twins of the params
    (before a backward writes to any of them)."""
    check_sequence("grads", grads, f"[{', '.join(names)}]")
    if len(grads) != len(params):
        raise ValueError(f"grads must be {len(params)} arrays ({', '.join(names)}), "
                         f"got {len(grads)}")
    for name, g, p in zip(names, grads, params):
        g = check_ndarray(f"grads ({name})", g)
        if (g.shape != p.shape or g.dtype != p.dtype
                or not g.flags.c_contiguous or not g.flags.writeable):
            raise ValueError(
                f"grads ({name}) must stay a writable C-contiguous array of shape "
                f"{p.shape} and dtype {p.dtype}, got {_describe(g)}")


def as_ids(name: str, ids: object, vocab_size: int, ndim: int = 2,
           allow_ignore: bool = False) -> np.ndarray:
    """Check integer word ids: ``ndim``-D, each in [0, vocab_size) (or -1
    where ``allow_ignore``). Returns a C-contiguous int64 copy, so later
    changes to the caller's array cannot reach a kernel unchecked."""
    a = check_ndarray(name, ids)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array of word ids, got dtype {a.dtype}")
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")
    if a.size:
        lo, hi = int(a.min()), int(a.max())
        low_ok = -1 if allow_ignore else 0
        if lo < low_ok or hi >= vocab_size:
            bad = lo if lo < low_ok else hi
            allowed = f"[{low_ok}, {vocab_size})" if not allow_ignore else \
                f"[0, {vocab_size}) or -1 (ignored)"
            raise ValueError(f"{name} holds id {bad}, outside {allowed}")
    return np.array(a, dtype=np.int64, order="C", copy=True)
