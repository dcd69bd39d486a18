"""The book's language models on fastrnn's kernels.

Layers with the book's interfaces (``TimeEmbedding``, ``TimeAffine``,
``TimeSoftmaxWithLoss``), the models (chapter 5's ``SimpleRnnlm``, chapter
6's ``Rnnlm`` and ``BetterRnnlm``), optimizers, data
loading and truncated-BPTT batches, and training (see ``fastrnn train``).
"""

from .data import BPTTBatcher, Corpus, DataError, Vocabulary, builtin_corpus, load_corpus
from ..layers.lm import TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss
from .model import BetterRnnlm, LanguageModel, ParamsFileError, Rnnlm, SimpleRnnlm
from .optim import SGD, Adam, SharedParams, clip_grads
from .train import TrainConfig, Trainer, compare_backends, perplexity

__all__ = [
    "BPTTBatcher", "Corpus", "DataError", "Vocabulary", "builtin_corpus", "load_corpus",
    "TimeAffine", "TimeEmbedding", "TimeSoftmaxWithLoss", "ParamsFileError",
    "LanguageModel", "SimpleRnnlm", "Rnnlm", "BetterRnnlm",
    "SGD", "Adam", "SharedParams", "clip_grads",
    "TrainConfig", "Trainer", "compare_backends", "perplexity",
]
