"""The book's language models (``SimpleRnnlm``, ``Rnnlm``, ``BetterRnnlm``);
their parameter files are ``fastrnn.lm.checkpoint``'s."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import numpy as np

from .. import reference
from ..files import write_replacing
from ..tuning import THROUGH_MIN_SCORES
from ..layers.dropout import TimeDropout
from ..layers.lstm import TimeLSTM
from ..layers.rnn import TimeRNN
from ..layers.lm import TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss
from .checkpoint import (META_FORMAT, MODEL_KINDS, ParamsFileError,  # noqa: F401 (also
                         checkpoint_meta, describe, differences,  # fastrnn.lm.model's
                         param_count, read_params_file, vocab_difference)  # names)

BACKENDS = ("fastrnn", "numpy")


def _check_sizes(**sizes: object) -> None:
    for name, n in sizes.items():
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"{name} must be a positive integer, got {n!r}")


class LanguageModel:
    """Base of the book's language models: embedding -> time layers ->
    affine -> softmax with loss, with the book's ``predict``, ``forward``,
    ``backward`` and ``reset_state``, and parameter files.

    Subclasses build ``layers`` (the embedding first, the affine layer last)
    and call ``_assemble``.

    Attributes
    ----------
    params, grads : the layers' lists, concatenated (repeats for tied weights).
    names : one name per param, as used in parameter files.
    tied : whether the affine layer's W is the embedding's W.T.
    backend : "fastrnn" or "numpy".
    """

    def _assemble(self, layers: list, names: list[str], tied: bool, backend: str) -> None:
        ref = backend == "numpy"
        self.layers = layers
        self.loss_layer = (reference.TimeSoftmaxWithLoss if ref else TimeSoftmaxWithLoss)()
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        for layer in self.layers:
            self.params += layer.params
            self.grads += layer.grads
        self.names = names
        self.tied = tied
        self.backend = backend
        self._through = False  # whether backward takes backward_through

    def __setstate__(self, state: dict) -> None:
        # Pickle and deepcopy store a view as an independent copy: tie the
        # output weights to the embedding again, or training would untie them.
        self.__dict__.update(state)
        self.__dict__.setdefault("_through", False)  # not in models pickled before it
        if self.tied:
            affine_W = self.layers[0].params[0].T
            self.layers[-1].params[0] = affine_W
            self.params[self.names.index("affine_W")] = affine_W

    def predict(self, xs: np.ndarray, train_flg: bool = False) -> np.ndarray:
        """Return the scores (N, T, V) for word ids ``xs`` (N, T); dropout
        layers, if any, drop only with ``train_flg``."""
        for layer in self.layers:
            if hasattr(layer, "train_flg"):
                layer.train_flg = train_flg
        for layer in self.layers:
            xs = layer.forward(xs)
        return xs

    def forward(self, xs: np.ndarray, ts: np.ndarray, train_flg: bool = True) -> float:
        """Return the mean cross-entropy of predicting ``ts`` from ``xs`` (N, T)."""
        scores = self.predict(xs, train_flg)
        self._through = self.backend == "fastrnn" and scores.size >= THROUGH_MIN_SCORES
        return self.loss_layer.forward(scores, ts)

    def backward(self, dout: float = 1) -> None:
        """Backpropagate through all layers, writing ``grads``."""
        if self._through:  # the loss's (N, T, V) gradient is never formed
            dout = self.layers[-1].backward_through(self.loss_layer, dout)
        else:
            dout = self.layers[-1].backward(self.loss_layer.backward(dout))
        for layer in reversed(self.layers[:-1]):
            dout = layer.backward(dout)

    def reset_state(self) -> None:
        """Start the next forward from zero states."""
        for layer in self.layers:
            if hasattr(layer, "reset_state"):
                layer.reset_state()

    def _named_params(self) -> dict[str, np.ndarray]:
        named = dict(zip(self.names, self.params))
        if self.tied:
            del named["affine_W"]
        return named

    def save_params(self, path: str | os.PathLike, vocab: list[str] | None = None) -> None:
        """Write the params (and optionally the vocabulary) to an ``.npz`` file.

        The file is written beside its destination and renamed over it, so an
        interrupted save never leaves a broken file where the last good one was;
        a file it replaces keeps its permission bits. A ``path`` that is a
        symbolic link raises ``ValueError``: the rename would replace the link
        and leave its target as it was. A read-only file (its owner's write
        bit cleared) raises ``PermissionError`` and is left as it is, even for
        root.
        """
        arrays = dict(self._named_params())
        if vocab is not None:
            arrays["vocab"] = np.array(vocab, dtype=str)
        arrays["meta"] = np.array(json.dumps(self.meta(), sort_keys=True))
        write_replacing(path, lambda f: np.savez(f, **arrays), suffix=".npz")

    def meta(self) -> dict:
        """What a parameter file records about this model: its kind
        ("simple", "lstm" or "better", ``MODEL_KINDS``), ``vocab_size``,
        ``wordvec_size``, ``hidden_size``, ``tied`` and ``dropout`` (the
        ratio, 0 without dropout layers)."""
        embed = self.layers[0].params[0]
        drops = [layer.dropout_ratio for layer in self.layers
                 if hasattr(layer, "dropout_ratio")]
        return {"format": META_FORMAT, "model": self.kind, "vocab_size": int(embed.shape[0]),
                "wordvec_size": int(embed.shape[1]),
                # the output layer's rows (a tied model's W is the embedding's W.T)
                "hidden_size": int(self.layers[-1].params[0].shape[0]),
                "tied": bool(self.tied), "dropout": float(drops[0]) if drops else 0.0}

    def load_params(self, path: str | os.PathLike, vocab: list[str] | None = None) -> None:
        """Read params written by ``save_params`` into this model, in place.

        The model kind and sizes the file records (files written before it
        recorded them hold ``SimpleRnnlm`` params), every name, shape and
        dtype, that every value is finite, and the vocabulary (when both sides
        have one) are checked first; on any mismatch ``ParamsFileError`` is
        raised, naming what differs, and the model is left untouched. A
        different dropout ratio is no mismatch.
        """
        path = os.fspath(path)
        arrays = read_params_file(path)
        meta = checkpoint_meta(path, arrays)
        mine = self.meta()
        differ = differences(meta, mine)
        if differ:
            raise ParamsFileError(f"{path} holds {describe(meta)}; this is {describe(mine)} "
                                  f"(they differ in {differ})")
        named = self._named_params()
        extra = {"vocab", "meta"} & set(arrays)
        if set(arrays) != set(named) | extra:
            raise ParamsFileError(f"{path} holds {sorted(arrays)}, this model needs "
                                  f"{sorted(named)}")
        for name, p in named.items():
            a = arrays[name]
            if a.shape != p.shape or a.dtype != p.dtype:
                raise ParamsFileError(f"{path}: {name} has shape {a.shape} and dtype "
                                      f"{a.dtype}, this model needs {p.shape} and {p.dtype}")
        for name in named:
            if not np.isfinite(arrays[name]).all():
                raise ParamsFileError(f"{path}: its {name} holds NaN or infinite values "
                                      "(saved from a diverged model or damaged); not loaded")
        if vocab is not None and "vocab" in arrays:
            differ = vocab_difference([str(w) for w in arrays["vocab"]], list(vocab))
            if differ:
                raise ParamsFileError(f"{path} was trained on another vocabulary ({differ})")
        for name, p in named.items():
            p[...] = arrays[name]


def model_from_meta(meta: dict, backend: str = "fastrnn",
                    rng: np.random.Generator | None = None) -> LanguageModel:
    """A new model of the kind and sizes ``meta`` (``LanguageModel.meta``) records."""
    V, D, H = meta["vocab_size"], meta["wordvec_size"], meta["hidden_size"]
    if meta["model"] == "simple":
        return SimpleRnnlm(V, D, H, tied=meta["tied"], backend=backend, rng=rng)
    if meta["model"] == "lstm":
        return Rnnlm(V, D, H, backend=backend, rng=rng)
    return BetterRnnlm(V, D, H, dropout_ratio=meta["dropout"], backend=backend, rng=rng)


class SimpleRnnlm(LanguageModel):
    """The book's chapter-5 model: embedding -> stateful TimeRNN -> affine.

    Parameters
    ----------
    vocab_size, wordvec_size, hidden_size : V, D, H.
    tied : share the embedding matrix with the output layer (W_out = W_emb.T;
        needs D == H).
    backend : "fastrnn" (this package's layers) or "numpy" (the book's, from
        ``fastrnn.reference``), for comparisons.
    rng : random generator for the book's initialisation (randn / 100 for
        the embedding, randn / sqrt(fan-in) for the rest, zero biases);
        ``np.random.default_rng()`` if None. All params are float32.

    Attributes
    ----------
    As ``LanguageModel``, and ``rnn_layer``, the TimeRNN.
    """

    def __init__(self, vocab_size: int, wordvec_size: int, hidden_size: int,
                 tied: bool = False, backend: str = "fastrnn",
                 rng: np.random.Generator | None = None) -> None:
        _check_backend(backend)
        V, D, H = vocab_size, wordvec_size, hidden_size
        _check_sizes(vocab_size=V, wordvec_size=D, hidden_size=H)
        if tied and D != H:
            raise ValueError(f"tied weights need wordvec_size == hidden_size, got {D} and {H}")
        rn = (rng or np.random.default_rng()).standard_normal
        embed_W = (rn((V, D)) / 100).astype("f")
        rnn_Wx = (rn((D, H)) / np.sqrt(D)).astype("f")
        rnn_Wh = (rn((H, H)) / np.sqrt(H)).astype("f")
        rnn_b = np.zeros(H, dtype="f")
        affine_W = embed_W.T if tied else (rn((H, V)) / np.sqrt(H)).astype("f")
        affine_b = np.zeros(V, dtype="f")
        lib = _layers(backend)
        layers = [lib.TimeEmbedding(embed_W),
                  lib.TimeRNN(rnn_Wx, rnn_Wh, rnn_b, stateful=True),
                  lib.TimeAffine(affine_W, affine_b)]
        self._assemble(layers, ["embed_W", "rnn_Wx", "rnn_Wh", "rnn_b", "affine_W", "affine_b"],
                       tied, backend)
        self.rnn_layer = layers[1]

    kind = "simple"


class Rnnlm(LanguageModel):
    """The book's chapter-6 model: embedding -> stateful TimeLSTM -> affine.

    Parameters
    ----------
    vocab_size, wordvec_size, hidden_size : V, D, H.
    backend, rng : as for ``SimpleRnnlm``.

    Attributes
    ----------
    As ``LanguageModel``, and ``lstm_layer``, the TimeLSTM.
    """

    def __init__(self, vocab_size: int = 10000, wordvec_size: int = 100,
                 hidden_size: int = 100, backend: str = "fastrnn",
                 rng: np.random.Generator | None = None) -> None:
        _check_backend(backend)
        V, D, H = vocab_size, wordvec_size, hidden_size
        _check_sizes(vocab_size=V, wordvec_size=D, hidden_size=H)
        rn = (rng or np.random.default_rng()).standard_normal
        embed_W = (rn((V, D)) / 100).astype("f")
        lstm_Wx = (rn((D, 4 * H)) / np.sqrt(D)).astype("f")
        lstm_Wh = (rn((H, 4 * H)) / np.sqrt(H)).astype("f")
        lstm_b = np.zeros(4 * H, dtype="f")
        affine_W = (rn((H, V)) / np.sqrt(H)).astype("f")
        affine_b = np.zeros(V, dtype="f")
        lib = _layers(backend)
        layers = [lib.TimeEmbedding(embed_W),
                  lib.TimeLSTM(lstm_Wx, lstm_Wh, lstm_b, stateful=True),
                  lib.TimeAffine(affine_W, affine_b)]
        self._assemble(layers, ["embed_W", "lstm_Wx", "lstm_Wh", "lstm_b", "affine_W",
                                "affine_b"], False, backend)
        self.lstm_layer = layers[1]

    kind = "lstm"


class BetterRnnlm(LanguageModel):
    """The book's improved chapter-6 model: embedding -> dropout -> TimeLSTM
    -> dropout -> TimeLSTM -> dropout -> affine tied to the embedding.

    Parameters
    ----------
    vocab_size, wordvec_size, hidden_size : V, D, H (D == H: the output
        layer's W is the embedding's W.T).
    dropout_ratio : of the three ``TimeDropout`` layers.
    backend, rng : as for ``SimpleRnnlm``.

    Attributes
    ----------
    As ``LanguageModel``, and ``lstm_layers`` and ``drop_layers``.
    """

    def __init__(self, vocab_size: int = 10000, wordvec_size: int = 650,
                 hidden_size: int = 650, dropout_ratio: float = 0.5,
                 backend: str = "fastrnn", rng: np.random.Generator | None = None) -> None:
        _check_backend(backend)
        V, D, H = vocab_size, wordvec_size, hidden_size
        _check_sizes(vocab_size=V, wordvec_size=D, hidden_size=H)
        if D != H:
            raise ValueError(f"BetterRnnlm ties its output layer to the embedding, so it "
                             f"needs wordvec_size == hidden_size, got {D} and {H}")
        rn = (rng or np.random.default_rng()).standard_normal
        embed_W = (rn((V, D)) / 100).astype("f")
        lstm_params = []
        for d_in in (D, H):
            lstm_params.append(((rn((d_in, 4 * H)) / np.sqrt(d_in)).astype("f"),
                                (rn((H, 4 * H)) / np.sqrt(H)).astype("f"),
                                np.zeros(4 * H, dtype="f")))
        affine_b = np.zeros(V, dtype="f")
        lib = _layers(backend)
        layers = [lib.TimeEmbedding(embed_W), lib.TimeDropout(dropout_ratio),
                  lib.TimeLSTM(*lstm_params[0], stateful=True), lib.TimeDropout(dropout_ratio),
                  lib.TimeLSTM(*lstm_params[1], stateful=True), lib.TimeDropout(dropout_ratio),
                  lib.TimeAffine(embed_W.T, affine_b)]
        self._assemble(layers, ["embed_W", "lstm_Wx1", "lstm_Wh1", "lstm_b1", "lstm_Wx2",
                                "lstm_Wh2", "lstm_b2", "affine_W", "affine_b"], True, backend)
        self.lstm_layers = [layers[2], layers[4]]
        self.drop_layers = [layers[1], layers[3], layers[5]]

    kind = "better"


def _check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")


# fastrnn's layers under the book's names: the "fastrnn" backend (the
# "numpy" one is fastrnn.reference).
_FASTRNN_LAYERS = SimpleNamespace(TimeEmbedding=TimeEmbedding, TimeAffine=TimeAffine,
                                  TimeRNN=TimeRNN, TimeLSTM=TimeLSTM, TimeDropout=TimeDropout)


def _layers(backend: str):
    """The backend's layers, by the book's names."""
    return reference if backend == "numpy" else _FASTRNN_LAYERS
