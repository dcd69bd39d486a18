"""The one list of fastrnn's layers, which everything else reads.

Each ``Entry`` says where a layer's class lives, which of the book's modules
it stands in for, and how it is benchmarked. From this list come the public
names (``fastrnn.__all__``), the book facades (``fastrnn.time_layers``,
``fastrnn.attention_layer``), what ``fastrnn.patch`` and ``fastrnn run``
swap (``patched_names``), the registry of the recurrent-layer tests
(``tests/layer_registry.py``) and the choices of ``fastrnn bench --layer``. The classes are imported only when asked for
(``load``, ``load_reference``), so reading the list costs nothing.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Torch:
    """PyTorch's module of the same layer, for the benchmark's comparison.

    Attributes
    ----------
    module : the ``torch.nn`` class ("RNN", "LSTM", "GRU").
    gate_order : torch's gate blocks, as indices of the book's blocks (the
        LSTM's book order is f, g, i, o and torch's i, f, g, o: (2, 0, 1, 3)).
    same_formula : whether torch computes the book's formula. If not (GRU),
        the comparison is of speed alone, on weights of the same shapes.
    bidirectional : a bidirectional torch module (TimeBiLSTM).
    """

    module: str
    gate_order: tuple[int, ...] = (0,)
    same_formula: bool = True
    bidirectional: bool = False


@dataclass(frozen=True)
class Entry:
    """One of fastrnn's layers.

    Attributes
    ----------
    name : the class name, the book's and fastrnn's (and ``fastrnn.reference``'s).
    module : the fastrnn module that defines the class.
    book : the book's module it stands in for ("time_layers", or chapter 8's
        "attention_layer"), or None for a layer that is fastrnn's own API only.
    step : for a recurrent time layer, the name of its one-step layer
        (``TimeLSTM``: "LSTM"); the recurrent-layer tests take these.
    bench : the ``fastrnn bench --layer`` (and ``Shape.layer``) key of a
        benchmarked layer, or None.
    torch : PyTorch's equivalent module, or None.
    reference : where its numpy oracle is, for the tests and benchmarks: a
        module holding a class of the same name (``fastrnn.reference`` for
        the book's layers), or ``"module:Class"`` (a layer that is not the
        book's keeps its oracle in its own module). None for the plain numpy
        stand-ins, which are their own numpy (their tests check them by
        central differences and known values).
    patched : whether ``fastrnn.patch`` (and ``fastrnn run``) puts this class
        in place of the book's of the same name. False for the plain numpy
        stand-ins, which ``fastrnn.time_layers`` gives for completeness but
        which are no faster than the book's own.
    """

    name: str
    module: str
    book: str | None = "time_layers"
    step: str | None = None
    bench: str | None = None
    torch: Torch | None = None
    patched: bool = True
    reference: str | None = "fastrnn.reference"


def _plain(name: str, module: str) -> Entry:
    """A plain numpy stand-in of the book's: given by the facade, never patched."""
    return Entry(name, module, patched=False, reference=None)


_LSTM_TORCH_ORDER = (2, 0, 1, 3)  # torch's i, f, g, o from the book's f, g, i, o

LAYERS: tuple[Entry, ...] = (
    Entry("RNN", "fastrnn.layers.rnn"),
    Entry("TimeRNN", "fastrnn.layers.rnn", step="RNN", bench="rnn", torch=Torch("RNN")),
    Entry("LSTM", "fastrnn.layers.lstm"),
    Entry("TimeLSTM", "fastrnn.layers.lstm", step="LSTM", bench="lstm",
          torch=Torch("LSTM", _LSTM_TORCH_ORDER)),
    Entry("GRU", "fastrnn.layers.gru"),
    Entry("TimeGRU", "fastrnn.layers.gru", step="GRU", bench="gru",
          torch=Torch("GRU", (1, 0, 2), same_formula=False)),
    Entry("TimeBiLSTM", "fastrnn.layers.bilstm", bench="bilstm",
          torch=Torch("LSTM", _LSTM_TORCH_ORDER, bidirectional=True)),
    Entry("TimeDropout", "fastrnn.layers.dropout"),
    Entry("TimeEmbedding", "fastrnn.layers.lm"),
    Entry("TimeAffine", "fastrnn.layers.lm"),
    Entry("TimeSoftmaxWithLoss", "fastrnn.layers.lm"),
    # The rest of what the book's `from common.time_layers import *` gives, in
    # plain numpy: nothing to swap, as they are no faster than the book's.
    _plain("TimeSigmoidWithLoss", "fastrnn.layers.time_basic"),
    _plain("Simple_TimeAffine", "fastrnn.layers.time_basic"),
    _plain("Simple_TimeSoftmaxWithLoss", "fastrnn.layers.time_basic"),
    _plain("MatMul", "fastrnn.layers.basic"),
    _plain("Affine", "fastrnn.layers.basic"),
    _plain("Softmax", "fastrnn.layers.basic"),
    _plain("SoftmaxWithLoss", "fastrnn.layers.basic"),
    _plain("Sigmoid", "fastrnn.layers.basic"),
    _plain("SigmoidWithLoss", "fastrnn.layers.basic"),
    _plain("Dropout", "fastrnn.layers.basic"),
    _plain("Embedding", "fastrnn.layers.basic"),
    Entry("WeightSum", "fastrnn.layers.attention", book="attention_layer"),
    Entry("AttentionWeight", "fastrnn.layers.attention", book="attention_layer"),
    Entry("Attention", "fastrnn.layers.attention", book="attention_layer"),
    Entry("TimeAttention", "fastrnn.layers.attention", book="attention_layer"),
)

BY_NAME: dict[str, Entry] = {e.name: e for e in LAYERS}


def load(name: str) -> type:
    """fastrnn's class ``name`` (imports its module on first use)."""
    return getattr(importlib.import_module(BY_NAME[name].module), name)


def load_reference(name: str) -> type:
    """The numpy oracle of fastrnn's class ``name`` (KeyError if it has none)."""
    where = BY_NAME[name].reference
    if where is None:
        raise KeyError(f"{name} is plain numpy: it has no separate oracle")
    module, _, cls = where.partition(":")
    return getattr(importlib.import_module(module), cls or name)


def book_names(book: str) -> list[str]:
    """The names of the layers that stand in for the book's module ``book``."""
    return [e.name for e in LAYERS if e.book == book]


def book_modules() -> list[str]:
    """The book's modules that fastrnn's layers stand in for (the values of
    ``Entry.book``: "time_layers", "attention_layer"), in the registry's order.
    ``fastrnn run`` patches the modules named after these."""
    return list(dict.fromkeys(e.book for e in LAYERS if e.book is not None))


def patched_names(book: str) -> list[str]:
    """The names of the layers that ``fastrnn.patch`` swaps in the book's
    module ``book``: those of ``book_names(book)`` that fastrnn does faster."""
    return [e.name for e in LAYERS if e.book == book and e.patched]


def bench_layers() -> dict[str, Entry]:
    """The benchmarked layers, by their ``fastrnn bench --layer`` key."""
    return {e.bench: e for e in LAYERS if e.bench is not None}
