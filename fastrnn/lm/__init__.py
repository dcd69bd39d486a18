"""The book's language models on fastrnn's kernels.

Layers with the book's interfaces (``TimeEmbedding``, ``TimeAffine``,
``TimeSoftmaxWithLoss``), the models (chapter 5's ``SimpleRnnlm``, chapter
6's ``Rnnlm`` and ``BetterRnnlm``), optimizers, data
loading and truncated-BPTT batches, and training (see ``fastrnn train``).
"""

from __future__ import annotations

import importlib

# Where each public name lives; each module is imported on first use, so
# that ``fastrnn.lm.presets`` or ``data`` can be read without the layers.
_HOME = {
    ".data": ("BPTTBatcher", "Corpus", "DataError", "Vocabulary", "load_corpus"),
    ".markov": ("MarkovSource", "builtin_corpus"),
    "..layers.lm": ("TimeEmbedding", "TimeAffine", "TimeSoftmaxWithLoss"),
    ".model": ("ParamsFileError", "LanguageModel", "SimpleRnnlm", "Rnnlm", "BetterRnnlm"),
    ".optim": ("SGD", "Adam", "SharedParams", "clip_grads"),
    ".train": ("TrainConfig", "Trainer", "compare_backends", "perplexity"),
}
_MODULE = {name: module for module, names in _HOME.items() for name in names}
__all__ = list(_MODULE)


def __getattr__(name: str) -> object:
    if name not in _MODULE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = getattr(importlib.import_module(_MODULE[name], __name__), name)
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
