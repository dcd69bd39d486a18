"""``SimpleRnnlm``: the book's chapter-5 language model, and its parameter files."""

from __future__ import annotations

import contextlib
import os
import secrets

import numpy as np

from .. import reference
from .._tuning import THROUGH_MIN_SCORES
from ..rnn import TimeRNN
from .layers import TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss

BACKENDS = ("fastrnn", "numpy")


class ParamsFileError(ValueError):
    """A parameter file that cannot be loaded into a model."""


class SimpleRnnlm:
    """Embedding -> stateful TimeRNN -> affine -> softmax with loss.

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
    params, grads : the layers' lists, concatenated (repeats for tied weights).
    names : one name per param, as used in parameter files.
    """

    def __init__(self, vocab_size: int, wordvec_size: int, hidden_size: int,
                 tied: bool = False, backend: str = "fastrnn",
                 rng: np.random.Generator | None = None) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        V, D, H = vocab_size, wordvec_size, hidden_size
        for name, n in (("vocab_size", V), ("wordvec_size", D), ("hidden_size", H)):
            if not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"{name} must be a positive integer, got {n!r}")
        if tied and D != H:
            raise ValueError(f"tied weights need wordvec_size == hidden_size, got {D} and {H}")
        rn = (rng or np.random.default_rng()).standard_normal
        embed_W = (rn((V, D)) / 100).astype("f")
        rnn_Wx = (rn((D, H)) / np.sqrt(D)).astype("f")
        rnn_Wh = (rn((H, H)) / np.sqrt(H)).astype("f")
        rnn_b = np.zeros(H, dtype="f")
        affine_W = embed_W.T if tied else (rn((H, V)) / np.sqrt(H)).astype("f")
        affine_b = np.zeros(V, dtype="f")
        ref = backend == "numpy"
        self.layers = [
            (reference.TimeEmbedding if ref else TimeEmbedding)(embed_W),
            (reference.TimeRNN if ref else TimeRNN)(rnn_Wx, rnn_Wh, rnn_b, stateful=True),
            (reference.TimeAffine if ref else TimeAffine)(affine_W, affine_b),
        ]
        self.loss_layer = (reference.TimeSoftmaxWithLoss if ref else TimeSoftmaxWithLoss)()
        self.rnn_layer = self.layers[1]
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        for layer in self.layers:
            self.params += layer.params
            self.grads += layer.grads
        self.names = ["embed_W", "rnn_Wx", "rnn_Wh", "rnn_b", "affine_W", "affine_b"]
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
            self.layers[2].params[0] = affine_W
            self.params[4] = affine_W

    def forward(self, xs: np.ndarray, ts: np.ndarray) -> float:
        """Return the mean cross-entropy of predicting ``ts`` from ``xs`` (N, T)."""
        for layer in self.layers:
            xs = layer.forward(xs)
        self._through = self.backend == "fastrnn" and xs.size >= THROUGH_MIN_SCORES
        return self.loss_layer.forward(xs, ts)

    def backward(self, dout: float = 1) -> None:
        """Backpropagate through all layers, writing ``grads``."""
        if self._through:  # the loss's (N, T, V) gradient is never formed
            dout = self.layers[2].backward_through(self.loss_layer, dout)
        else:
            dout = self.layers[2].backward(self.loss_layer.backward(dout))
        for layer in reversed(self.layers[:2]):
            dout = layer.backward(dout)

    def reset_state(self) -> None:
        """Start the next forward from a zero hidden state."""
        self.rnn_layer.reset_state()

    def _named_params(self) -> dict[str, np.ndarray]:
        named = dict(zip(self.names, self.params))
        if self.tied:
            del named["affine_W"]
        return named

    def save_params(self, path: str | os.PathLike, vocab: list[str] | None = None) -> None:
        """Write the params (and optionally the vocabulary) to an ``.npz`` file.

        The file is written beside its destination and renamed over it, so an
        interrupted save never leaves a broken file where the last good one was.
        """
        path = os.fspath(path)
        arrays = dict(self._named_params())
        if vocab is not None:
            arrays["vocab"] = np.array(vocab, dtype=str)
        folder = os.path.dirname(os.path.abspath(path))
        # Named before it exists, so that an interrupt at any point can remove
        # it; created as open() would (mode 0o666 less the umask: mkstemp's
        # 0o600 would stay on the checkpoint).
        tmp = os.path.join(folder, f".fastrnn-{secrets.token_hex(8)}.npz.tmp")
        try:
            with open(tmp, "xb") as f:
                np.savez(f, **arrays)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            # Gone already if the interrupt came after the rename.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def load_params(self, path: str | os.PathLike, vocab: list[str] | None = None) -> None:
        """Read params written by ``save_params`` into this model, in place.

        Every name, shape and dtype (and the vocabulary, when both sides have
        one) is checked first; on any mismatch ``ParamsFileError`` is raised
        and the model is left untouched.
        """
        path = os.fspath(path)
        try:
            with open(path, "rb") as fh:
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
        named = self._named_params()
        expected = set(named) | ({"vocab"} if "vocab" in arrays else set())
        if set(arrays) != expected:
            raise ParamsFileError(f"{path} holds {sorted(arrays)}, this model needs "
                                  f"{sorted(named)}")
        for name, p in named.items():
            a = arrays[name]
            if a.shape != p.shape or a.dtype != p.dtype:
                raise ParamsFileError(f"{path}: {name} has shape {a.shape} and dtype "
                                      f"{a.dtype}, this model needs {p.shape} and {p.dtype}")
        if vocab is not None and "vocab" in arrays and list(arrays["vocab"]) != list(vocab):
            raise ParamsFileError(f"{path} was trained on another vocabulary")
        for name, p in named.items():
            p[...] = arrays[name]
