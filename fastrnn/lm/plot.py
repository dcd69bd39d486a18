"""The figure of a training run (``fastrnn train --plot``), with matplotlib.

The figure is a ``matplotlib.figure.Figure`` made without pyplot: it
changes no backend and registers no window in the caller's session.
"""

from __future__ import annotations

import os

from ..files import write_replacing
from .train import PLOT_INTERVAL, History


def plot_figure(history: History, floor: float | None = None):
    """A matplotlib figure of a run: the training perplexity every
    ``PLOT_INTERVAL`` iterations against the iteration (as the book's trainer
    plots it), the validation perplexity at the end of each epoch, and the
    corpus's perplexity floor as a line when it is known."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    if history.curve:
        iters, ppl = zip(*history.curve)
        ax.plot(iters, ppl, label=f"training (every {PLOT_INTERVAL} iterations)")
    if history.valid_ppl:
        ax.plot(history.epoch_ends, history.valid_ppl, "o", label="validation (each epoch)")
    if floor is not None:
        ax.axhline(floor, color="gray", linestyle="--", label=f"floor of the source ({floor:.3f})")
    ax.set_xlabel("iteration")
    ax.set_ylabel("perplexity")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(ScalarFormatter())  # 3, 10, 100: not 10^2
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.legend()
    fig.tight_layout()
    return fig


def save_plot(path: str, history: History, floor: float | None = None) -> None:
    """Save ``plot_figure(history, floor)`` to ``path``, its format from the
    extension, beside it and then renamed over it (``write_replacing``: an
    interrupted save leaves the old file as it was)."""
    fig = plot_figure(history, floor)
    extension = os.path.splitext(path)[1]
    write_replacing(path, lambda f: fig.savefig(f, format=extension[1:].lower()),
                    suffix=extension)
