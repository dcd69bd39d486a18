"""pytest-benchmark: one training step of the book's chapter-6 models.

One step (forward, backward, clipping of the global gradient norm to 0.25,
SGD update with lr 20; stateful, truncated BPTT) of ``Rnnlm`` (V=10,000,
D=H=100, N=20, T=35) and ``BetterRnnlm`` (V=10,000, D=H=650, N=20, T=35,
dropout 0.5), float32, built from fastrnn's layers, from the book's numpy
layers (``backend="numpy"``) and, when installed, in PyTorch (in a child
process, ``torch_lm_child.py``: Embedding, LSTM(s), Dropout, Linear tied to
the embedding for better, cross-entropy). The PyTorch case times a round
trip to the child ("step" in, "ok <loss>" out): one step plus a pipe round
trip of some tens of microseconds (under 1% of the smaller model's step).

``extra_info`` holds the step's GEMM flops: each LSTM's 6*N*T*(D+H)*4H and
the output layer's 6*N*T*H*V (the embedding is negligible); with
``--benchmark-enable`` also this machine's sgemm peak (``fastrnn.bench.
gemm_peak``) and the step's time at that peak (the roofline).
``models_report.py`` prints the table from a ``--benchmark-json`` file.

In the normal test run each case runs once on tiny sizes (``--benchmark-
disable``); real runs as in benchmarks/README.md, e.g.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE pytest benchmarks/test_bench_models.py \\
        --benchmark-enable --benchmark-only --benchmark-json=models.json
    python benchmarks/models_report.py models.json
"""

import importlib.util
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from fastrnn.lm.train import TrainConfig, Trainer, make_model

from bench_env import setup_info

SIZES = {"lstm": dict(V=10_000, D=100, H=100, N=20, T=35),
         "better": dict(V=10_000, D=650, H=650, N=20, T=35)}
SMOKE = dict(V=50, D=8, H=8, N=2, T=3)
DROPOUT = 0.5
TORCH_MISSING = "torch not installed (optional comparison: pip install torch)"
CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_lm_child.py")
_PEAK: list[float] = []  # this machine's sgemm flop/s, measured once per run


def step_flops(model: str, V: int, D: int, H: int, N: int, T: int) -> int:
    """GEMM flops of one training step: forward 2, backward 4 per
    multiply-add of each LSTM's two products and of the output layer."""
    lstms = [(D, H)] + ([(H, H)] if model == "better" else [])
    return sum(6 * N * T * (d + H) * 4 * H for d, _ in lstms) + 6 * N * T * H * V


def _trainer(model: str, backend: str, V: int, D: int, H: int, N: int, T: int) -> Trainer:
    cfg = TrainConfig(batch_size=N, time_size=T, wordvec_size=D, hidden_size=H, lr=20.0,
                      max_grad=0.25, model=model, dropout=DROPOUT, tied=model == "better")
    corpus = np.random.default_rng(0).integers(0, V, 20 * N * T + 1).astype(np.int32)
    return Trainer(make_model(cfg, V, backend), corpus, cfg)


class TorchChild:
    """The child process of ``torch_lm_child.py``; ``step()`` runs one step there."""

    def __init__(self, model: str, sizes: dict) -> None:
        request = json.dumps(dict(model=model, dropout=DROPOUT, seed=0, **sizes))
        self.cwd = tempfile.TemporaryDirectory()  # nothing there shadows an import
        self.proc = subprocess.Popen([sys.executable, CHILD, request], cwd=self.cwd.name,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        ready = self.proc.stdout.readline().split()
        if not ready or ready[0] != "ready":
            self.close()
            raise RuntimeError("the PyTorch child did not start")
        self.version, self.threads = ready[1], int(ready[2])

    def step(self) -> float:
        self.proc.stdin.write("step\n")
        reply = self.proc.stdout.readline().split()
        if not reply or reply[0] != "ok":
            raise RuntimeError(f"the PyTorch child failed: {reply}")
        return float(reply[1])

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.proc.stdout.close()
        self.cwd.cleanup()


@pytest.mark.parametrize("impl", ["fastrnn", "numpy", "torch"])
@pytest.mark.parametrize("model", ["lstm", "better"])
def test_model_training_step(benchmark, model, impl):
    sizes = SMOKE if benchmark.disabled else SIZES[model]
    info = dict(flops=step_flops(model, **sizes), **sizes)
    child = None
    if impl == "torch":
        if importlib.util.find_spec("torch") is None:  # not imported here: the child does
            pytest.skip(TORCH_MISSING)
        child = TorchChild(model, sizes)
        step = child.step
        info.update(torch=child.version, torch_threads=child.threads)
    else:
        step = _trainer(model, impl, **sizes).step
    try:
        np.random.seed(0)  # the dropout masks (numpy's global generator, as the book's)
        for _ in range(2):  # warm-up: compile or load the kernels, fill the caches
            step()
        if not benchmark.disabled:
            if not _PEAK:
                from fastrnn.bench import gemm_peak
                _PEAK.append(gemm_peak("float32"))
            info.update(gemm_peak=_PEAK[0], roofline_s=info["flops"] / _PEAK[0])
        benchmark.group = f"{model} training step V={sizes['V']} D=H={sizes['H']} " \
                          f"N={sizes['N']} T={sizes['T']} float32"
        benchmark.extra_info.update(setup_info(), **info)
        loss = benchmark(step)
    finally:
        if child is not None:
            child.close()
    assert np.isfinite(loss) and 0 < loss < 2 * np.log(sizes["V"]) + 5
