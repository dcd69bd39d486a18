"""pytest-benchmark suite: fastrnn against the numpy reference and PyTorch.

``TimeRNN`` forward, backward and forward+backward, float32 and float64, on
the shapes of ``fastrnn.bench.shapes`` (the registry ``fastrnn bench`` uses too),
for three implementations with the same weights: ``fastrnn.TimeRNN``,
``fastrnn.reference.TimeRNN`` and PyTorch's CPU ``nn.RNN`` (optional: its
cases are skipped when torch is not installed). One benchmark group per
phase, shape and dtype. Also one training step of the chapter-5 language
model at two sizes.

In the normal test run these run once each as smoke tests (the project's
pytest options include ``--benchmark-disable``), on at most ``SMOKE_T``
steps; see benchmarks/README.md for real runs.
"""

import numpy as np
import pytest

import fastrnn
from fastrnn import reference
from fastrnn.bench import make_inputs
from fastrnn.bench.torch_child import torch_rnn
from fastrnn.bench.shapes import BENCH_SHAPES, LM_SHAPES, PHASE_FLOPS

from bench_env import lm_trainer, phase_call, setup_info

IMPLEMENTATIONS = ("fastrnn", "reference", "torch")
# Steps of a smoke run. N, D and H stay as registered (they choose fastrnn's
# code path); T only repeats the same work.
SMOKE_T = 10
TORCH_MISSING = "torch not installed (optional comparison: pip install torch)"
# |torch - fastrnn| <= RTOL * |fastrnn| + ATOL * max(1, max|fastrnn|)
# (as tests/conftest.py; float32 at SMOKE_T steps stays well inside).
TOLERANCE = {"float32": (1e-4, 1e-5), "float64": (1e-9, 1e-9)}


class TorchTimeRNN:
    """PyTorch's CPU ``nn.RNN`` behind the ``TimeRNN`` interface
    (``fastrnn.bench.torch_child.torch_rnn``: the same weights, copied).

    Parameters
    ----------
    torch : the torch module.
    Wx, Wh, b : the weights, as for ``TimeRNN``.
    """

    def __init__(self, torch, Wx, Wh, b):
        self.torch = torch
        self.rnn = torch_rnn(torch, Wx, Wh, b)

    def forward(self, xs):
        """Return hs (N, T, H); record the graph for ``backward``, as a layer keeps its cache."""
        self.xs = self.torch.from_numpy(xs).requires_grad_()
        self.hs = self.rnn(self.xs)[0]
        return self.hs.detach().numpy()

    def backward(self, dhs):
        """Return dxs (N, T, D) through the graph of the last forward.

        ``autograd.grad`` runs the backward pass only: it reuses the graph the
        last forward recorded, which ``retain_graph=True`` keeps for the next
        call (so backward can be timed alone, called again and again on one
        forward), and it returns fresh gradients (dxs, dW_ih, dW_hh, db_ih,
        db_hh) rather than adding them into ``.grad``.
        """
        grads = self.torch.autograd.grad(self.hs, [self.xs, *self.rnn.parameters()],
                                         self.torch.from_numpy(dhs), retain_graph=True)
        return grads[0].numpy()


def _assert_torch_matches_fastrnn(torch, Wx, Wh, xs, dhs):
    """Assert ``TorchTimeRNN`` gives fastrnn's hs and dxs within float tolerance.

    With a nonzero b (``make_inputs`` gives zeros), so that the copy of every
    weight is checked.
    """
    b = np.linspace(-0.5, 0.5, Wx.shape[1], dtype=Wx.dtype)
    layer = TorchTimeRNN(torch, Wx, Wh, b)
    fast = fastrnn.TimeRNN(Wx, Wh, b)
    rtol, atol = TOLERANCE[Wx.dtype.name]
    for actual, expected in [(layer.forward(xs), fast.forward(xs)),
                             (layer.backward(dhs), fast.backward(dhs))]:
        scale = max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * scale)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("phase", sorted(PHASE_FLOPS))
@pytest.mark.parametrize("shape", BENCH_SHAPES, ids=lambda s: f"{s.N}x{s.T}x{s.D}x{s.H}")
def test_timernn(benchmark, shape, phase, impl, dtype):
    if benchmark.disabled:
        shape = shape._replace(T=min(shape.T, SMOKE_T))  # keep the smoke run short
    Wx, Wh, b, xs, dhs = make_inputs(shape, dtype, seed=0)
    info = {}
    if impl == "torch":
        torch = pytest.importorskip("torch", reason=TORCH_MISSING)
        layer = TorchTimeRNN(torch, Wx, Wh, b)
        info.update(torch=torch.__version__, torch_threads=torch.get_num_threads())
        if benchmark.disabled:
            _assert_torch_matches_fastrnn(torch, Wx, Wh, xs, dhs)  # the weight copy is right
    elif impl == "fastrnn":
        layer = fastrnn.TimeRNN(Wx, Wh, b)
    else:
        layer = reference.TimeRNN(Wx, Wh, b)

    run = phase_call(layer, phase, xs, dhs)

    layer.forward(xs)  # warm-up: compile or load the kernels, ready the backward
    layer.backward(dhs)
    benchmark.group = f"{phase} {shape.N}x{shape.T}x{shape.D}x{shape.H} {dtype}"
    benchmark.extra_info.update(setup_info(), flops=shape.flops(phase), **info)
    out = benchmark(run)
    expected = (shape.N, shape.T, shape.H if phase == "forward" else shape.D)
    assert out.shape == expected and out.dtype == dtype and np.isfinite(out).all()


@pytest.mark.parametrize("backend", ["fastrnn", "numpy"])
@pytest.mark.parametrize("vocab, batch, time", LM_SHAPES, ids=["ch5-V300", "ch6-V10000"])
def test_language_model_training_step(benchmark, backend, vocab, batch, time):
    trainer = lm_trainer(vocab, batch, time, backend)
    trainer.step()  # warm-up
    benchmark.group = f"LM training step V={vocab} N={batch} T={time}"
    benchmark.extra_info.update(setup_info(), tokens_per_step=batch * time)
    loss = benchmark(trainer.step)
    assert np.isfinite(loss)
