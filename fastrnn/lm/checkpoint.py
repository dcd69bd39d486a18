"""Checkpoints of the language models: what a parameter file records (``meta``:
model kind, sizes, format), how it is read and checked, and how two model
descriptions differ. numpy only: the command line reads checkpoints with it
before any model (or Numba) is loaded. ``LanguageModel.save_params`` and
``load_params`` (``fastrnn.lm.model``) write and fill them.
"""

from __future__ import annotations

import json
import os

import numpy as np

from ..files import open_regular


class ParamsFileError(ValueError):
    """A parameter file that cannot be loaded into a model."""


# Version of the ``meta`` entry of parameter files.
META_FORMAT = 1
MODEL_KINDS = ("simple", "lstm", "better")
_KIND_NAMES = {"simple": "SimpleRnnlm", "lstm": "Rnnlm", "better": "BetterRnnlm"}


# What ``differences`` calls each field of a model description.
_FIELDS = {"model": "the model", "vocab_size": "V", "wordvec_size": "D", "hidden_size": "H",
           "tied": "tied"}


def differences(saved: dict, mine: dict) -> str:
    """The fields in which a checkpoint's description ``saved`` and a
    model's ``mine`` (``LanguageModel.meta``) differ, in words, e.g. "H (8
    in the file, 16 here)"; "" if none does (dropout is no difference)."""
    def word(value: object) -> str:
        return ("yes" if value else "no") if isinstance(value, bool) else str(value)
    return ", ".join(f"{label} ({word(saved[k])} in the file, {word(mine[k])} here)"
                     for k, label in _FIELDS.items() if saved[k] != mine[k])


def vocab_difference(saved: list[str], mine: list[str]) -> str:
    """How a checkpoint's vocabulary ``saved`` differs from ``mine``, in
    words ("" if they are equal)."""
    if len(saved) != len(mine):
        return f"{len(saved):,} words in the file, {len(mine):,} here"
    differ = [i for i, (a, b) in enumerate(zip(saved, mine)) if a != b]
    if not differ:
        return ""
    i = differ[0]
    return (f"{len(differ):,} of its {len(saved):,} words differ, the first at id {i}: "
            f"{saved[i]!r} in the file, {mine[i]!r} here")


def describe(meta: dict) -> str:
    """A model's kind and sizes in words, e.g. "an Rnnlm (lstm) with V=300 D=8 H=8"."""
    name = _KIND_NAMES.get(meta.get("model"), str(meta.get("model")))
    article = "an" if name[0] in "AEIOUR" else "a"
    tied = ", tied" if meta.get("tied") and meta.get("model") == "simple" else ""
    return (f"{article} {name} ({meta.get('model')}) with V={meta.get('vocab_size')} "
            f"D={meta.get('wordvec_size')} H={meta.get('hidden_size')}{tied}")


def read_params_file(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` parameter file, by name.

    Raises
    ------
    ParamsFileError
        If the file is empty, no zip archive, unreadable or holds anything
        but numpy arrays (no pickle is ever loaded).
    """
    path = os.fspath(path)
    try:
        with open_regular(path) as fh:  # never a FIFO or device
            magic = fh.read(4)
            fh.seek(0)
            # An .npz is a zip archive; anything else np.load would take
            # for an .npy or a pickle.
            if magic != b"PK\x03\x04":
                raise ParamsFileError(
                    f"cannot read {path} as a parameter file: "
                    + ("it is empty" if not magic else
                       "it is not an .npz file (no zip signature)"))
            with np.load(fh, allow_pickle=False) as f:
                arrays = {k: f[k] for k in f.files}
    except ParamsFileError:
        raise
    except Exception as e:  # noqa: BLE001 - OSError, zipfile's, zlib's, numpy's: all "bad file"
        raise ParamsFileError(f"cannot read {path} as a parameter file: "
                              f"{type(e).__name__}: {e}") from None
    for name, a in arrays.items():
        if not isinstance(a, np.ndarray):  # a member that is not an .npy comes as bytes
            raise ParamsFileError(f"cannot read {path} as a parameter file: its member "
                                  f"{name!r} is not a numpy array")
    return arrays


def checkpoint_meta(path: str, arrays: dict[str, np.ndarray]) -> dict:
    """The model kind and sizes a parameter file's ``arrays`` record.

    A file without ``meta`` (written before it existed) is taken for the
    ``SimpleRnnlm`` its names show, its sizes read from its arrays.

    Raises
    ------
    ParamsFileError
        If ``meta`` is not the JSON this module writes (its ``format`` a
        non-negative integer, at most ``META_FORMAT``: a newer fastrnn's file
        is refused, naming both formats), or a file without it does not hold
        ``SimpleRnnlm`` params.
    """
    if "meta" not in arrays:
        W = arrays.get("embed_W")
        Wh = arrays.get("rnn_Wh")
        if W is None or Wh is None or W.ndim != 2 or Wh.ndim != 2:
            raise ParamsFileError(f"{path} records no model kind and holds no SimpleRnnlm "
                                  "params")
        return {"format": 0, "model": "simple", "vocab_size": int(W.shape[0]),
                "wordvec_size": int(W.shape[1]), "hidden_size": int(Wh.shape[0]),
                "tied": "affine_W" not in arrays, "dropout": 0.0}
    try:
        meta = json.loads(str(arrays["meta"][()]))
    except (ValueError, TypeError, IndexError):
        meta = None
    if not isinstance(meta, dict):
        raise ParamsFileError(f"{path}: its 'meta' entry is not a model description "
                              "fastrnn wrote")
    fmt = meta.get("format")
    if "format" in meta and (not isinstance(fmt, int) or isinstance(fmt, bool) or fmt < 0):
        raise ParamsFileError(f"{path}: its 'meta' entry has format {fmt!r}, not a format "
                              "number fastrnn writes")
    if fmt is not None and fmt > META_FORMAT:
        raise ParamsFileError(f"{path} was written by a newer fastrnn (format {fmt}; this "
                              f"one reads up to {META_FORMAT})")
    ok = ("format" in meta and meta.get("model") in MODEL_KINDS
          and all(isinstance(meta.get(k), int) and not isinstance(meta.get(k), bool)
                  and meta[k] > 0 for k in ("vocab_size", "wordvec_size", "hidden_size"))
          and isinstance(meta.get("tied"), bool)
          and isinstance(meta.get("dropout"), (int, float))
          and not isinstance(meta.get("dropout"), bool)
          and 0 <= meta["dropout"] < 1)
    if not ok:
        raise ParamsFileError(f"{path}: its 'meta' entry is not a model description "
                              "fastrnn wrote")
    return meta


def param_count(model: str, vocab_size: int, wordvec_size: int, hidden_size: int,
                tied: bool = False) -> int:
    """How many values the params of a ``model`` ("simple", "lstm" or
    "better") of these sizes hold (tied weights counted once)."""
    V, D, H = vocab_size, wordvec_size, hidden_size
    gates = 1 if model == "simple" else 4
    recurrent = gates * (D * H + H * H + H)
    if model == "better":  # the second LSTM, and the output tied to the embedding
        recurrent += gates * (H * H + H * H + H)
        tied = True
    return V * D + recurrent + (0 if tied else H * V) + V
