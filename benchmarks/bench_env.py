"""What the benchmark modules record about the machine's setup, and the
language-model trainer they time.

Not a conftest.py: the tests import helpers from theirs as ``conftest``,
and a second conftest.py on the path would shadow it.
"""

import os

import numba
import numpy as np
import threadpoolctl

from fastrnn.bench import BLAS_ENV, fix_malloc
from fastrnn.lm.train import TrainConfig, Trainer, make_model


def setup_info():
    """Fix glibc's malloc thresholds for the timing (``fix_malloc``); return
    ``extra_info`` entries about that, the BLAS libraries and threads.

    Call it after the warm-up, when every library the benchmark uses is
    loaded, and before the timing.

    Returns
    -------
    dict with "blas": one line per thread pool threadpoolctl sees (BLAS and
    OpenMP libraries, with the file of each), "numba_threads", "malloc",
    and the OpenBLAS environment variables that change its speed.
    """
    malloc = fix_malloc()
    pools = []
    for info in threadpoolctl.threadpool_info():
        build = " ".join(str(info[k]) for k in ("user_api", "internal_api", "version",
                                               "architecture") if info.get(k))
        where = info.get("filepath", "").split("site-packages/")[-1]
        pools.append(f"{build}, {info.get('num_threads')} threads: {where}")
    return {"blas": pools,
            "numba_threads": numba.config.NUMBA_NUM_THREADS,
            "malloc": malloc,
            **{name: os.environ.get(name, "unset") for name in BLAS_ENV}}


def lm_trainer(vocab: int, batch: int, time: int, backend: str) -> Trainer:
    """The chapter-5 model (``TrainConfig`` defaults but for batch and time)
    of ``vocab`` words with ``backend``'s layers, on random word ids (20
    batches' worth); every call builds the same weights from the same seed."""
    cfg = TrainConfig(batch_size=batch, time_size=time)
    corpus = np.random.default_rng(0).integers(0, vocab, 20 * batch * time + 1)
    return Trainer(make_model(cfg, vocab, backend), corpus, cfg)


def phase_call(layer, phase: str, xs, dhs):
    """The call a benchmark of ``phase`` ("forward", "backward" or
    "fwd+bwd") times on a time layer; backward runs on the forward of the
    warm-up, done once before timing, not timed."""
    if phase == "forward":
        return lambda: layer.forward(xs)
    if phase == "backward":
        return lambda: layer.backward(dhs)

    def forward_backward():
        layer.forward(xs)
        return layer.backward(dhs)
    return forward_backward
