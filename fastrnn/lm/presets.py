"""The book's training settings of each language model, as presets.

Plain data (no numpy): the command line reads them when it builds its
parser.
"""

from __future__ import annotations

# The book's hyperparameters of each model (chapter 5's SimpleRnnlm; chapter
# 6's Rnnlm and BetterRnnlm): `fastrnn train --model`'s values for the
# options not given on the command line.
TRAIN_PRESETS = {
    "simple": dict(batch_size=10, time_size=5, wordvec=100, hidden=100, lr=0.1,
                   optimizer="sgd", epochs=10),
    "lstm": dict(batch_size=20, time_size=35, wordvec=100, hidden=100, lr=20.0,
                 optimizer="sgd", max_grad=0.25, epochs=4),
    "better": dict(batch_size=20, time_size=35, wordvec=650, hidden=650, lr=20.0,
                   optimizer="sgd", max_grad=0.25, dropout=0.5, epochs=40),
}
# The learning rate of --optimizer adam for every model, the book's Adam
# default (the presets' rates are SGD's: at 0.1 Adam already diverges).
ADAM_LR = 0.001


def train_preset(model: str, optimizer: str | None = None) -> dict:
    """The book's settings of ``model`` ("simple", "lstm" or "better",
    ``TRAIN_PRESETS``), with Adam's own learning rate for ``optimizer``
    "adam"."""
    preset = dict(TRAIN_PRESETS[model])
    if optimizer == "adam":
        preset["lr"] = ADAM_LR
    return preset
