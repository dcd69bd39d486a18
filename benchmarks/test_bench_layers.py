"""pytest-benchmark suite: every benchmarked layer of ``fastrnn.registry``
but TimeRNN (``test_bench_timernn.py``): TimeLSTM, TimeGRU and TimeBiLSTM,
against the numpy reference and PyTorch.

Forward, backward and forward+backward, float32 (the book's dtype; float64
equivalence is tested in tests/), on the shapes ``fastrnn bench --layer``
times (``fastrnn.bench.shapes.shapes``), each once, for three
implementations with the same weights: fastrnn's layer, the reference's and
PyTorch's CPU ``nn.LSTM`` / ``nn.GRU`` / bidirectional ``nn.LSTM``
(``fastrnn.bench.torch_child.torch_layer``; optional: skipped without torch;
none for a layer PyTorch does not have). PyTorch's GRU computes another formula (see ``torch_layer``): its
cases compare speed only. The stateful one-step rows (text generation) time
forward alone, h and c carried from call to call. One benchmark group per
phase and shape.

In the normal test run these run once each as smoke tests (the project's
pytest options include ``--benchmark-disable``), on at most ``SMOKE_T``
steps; the torch cases then also check that torch's hs and dxs match
fastrnn's where the formula is the same. See benchmarks/README.md for real
runs.
"""

import numpy as np
import pytest

from fastrnn.bench import kind, make_inputs, make_layer
from fastrnn.bench.torch_child import torch_layer
from fastrnn.bench.shapes import PHASE_FLOPS, layers, shapes

from bench_env import phase_call, setup_info
from test_bench_timernn import TOLERANCE, TORCH_MISSING

IMPLEMENTATIONS = ("fastrnn", "reference", "torch")
DTYPE = "float32"
# Steps of a smoke run: fewer than test_bench_timernn's, as these layers'
# steps cost 3 to 4 times an RNN's and CI runs every case.
SMOKE_T = 4
# Every layer's shapes, each shape once (the lstm table's TimeBiLSTM row is
# also bilstm's).
SHAPES = list(dict.fromkeys(s for layer in layers() if layer != "rnn" for s in shapes(layer)))
# (shape, phase, implementation): a stateful generation step is timed
# forward alone; a layer PyTorch does not have has no torch case.
CASES = [(s, phase, impl) for s in SHAPES for phase in sorted(PHASE_FLOPS)
         if phase == "forward" or not s.stateful
         for impl in IMPLEMENTATIONS if impl != "torch" or kind(s.layer).torch is not None]


def _id(shape):
    return (f"{shape.layer}-{shape.N}x{shape.T}x{shape.D}x{shape.H}"
            + ("-stateful" if shape.stateful else ""))


class TorchLayer:
    """PyTorch's CPU layer for ``shape.layer`` behind the book's interface
    (``fastrnn.bench.torch_child.torch_layer``: the same weights, copied).

    Parameters
    ----------
    torch : the torch module.
    shape : the shape (its layer, and whether stateful).
    params : the weights, as ``make_inputs`` gives them.
    """

    def __init__(self, torch, shape, params):
        self.torch = torch
        self.stateful = shape.stateful
        self.module = torch_layer(torch, shape.layer, *params)
        self.state = None

    def forward(self, xs):
        """Return hs; record the graph for ``backward`` (a stateful layer runs
        under no_grad and carries its state, as generation does)."""
        if self.stateful:
            with self.torch.no_grad():
                out, self.state = self.module(self.torch.from_numpy(xs), self.state)
            return out.numpy()
        self.xs = self.torch.from_numpy(xs).requires_grad_()
        self.hs = self.module(self.xs)[0]
        return self.hs.detach().numpy()

    def backward(self, dhs):
        """Return dxs through the graph of the last forward (reused, as in
        ``test_bench_timernn.TorchTimeRNN.backward``)."""
        grads = self.torch.autograd.grad(self.hs, [self.xs, *self.module.parameters()],
                                         self.torch.from_numpy(dhs), retain_graph=True)
        return grads[0].numpy()


def _assert_torch_matches_fastrnn(torch, shape, params, xs, dhs):
    """Assert ``TorchLayer`` gives fastrnn's hs and dxs within float tolerance,
    with nonzero biases (``make_inputs`` gives zeros) so that every copy is checked."""
    params = list(params)
    for k in range(2, len(params), 3):
        params[k] = np.linspace(-0.5, 0.5, params[k].size, dtype=params[k].dtype)
    plain = shape._replace(stateful=False)
    layer, fast = TorchLayer(torch, plain, params), make_layer(plain, params, "fastrnn")
    rtol, atol = TOLERANCE[DTYPE]
    for actual, expected in [(layer.forward(xs), fast.forward(xs)),
                             (layer.backward(dhs), fast.backward(dhs))]:
        scale = max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * scale)


@pytest.mark.parametrize("shape, phase, impl", CASES,
                         ids=[f"{_id(s)}-{phase}-{impl}" for s, phase, impl in CASES])
def test_time_layer(benchmark, shape, phase, impl):
    if benchmark.disabled:
        shape = shape._replace(T=min(shape.T, SMOKE_T))  # keep the smoke run short
    *params, xs, dhs = make_inputs(shape, DTYPE, seed=0)
    info = {}
    if impl == "torch":
        torch = pytest.importorskip("torch", reason=TORCH_MISSING)
        layer = TorchLayer(torch, shape, params)
        info.update(torch=torch.__version__, torch_threads=torch.get_num_threads(),
                    torch_same_formula=kind(shape.layer).torch.same_formula)
        if benchmark.disabled and kind(shape.layer).torch.same_formula:
            _assert_torch_matches_fastrnn(torch, shape, params, xs, dhs)
    else:
        layer = make_layer(shape, params, impl)

    run = phase_call(layer, phase, xs, dhs)

    layer.forward(xs)  # warm-up: compile or load the kernels, ready the backward
    if not shape.stateful:
        layer.backward(dhs)
    benchmark.group = f"{phase} {_id(shape)} {DTYPE}"
    benchmark.extra_info.update(setup_info(), flops=shape.flops(phase), **info)
    out = benchmark(run)
    width = dhs.shape[2] if phase == "forward" else shape.D
    assert out.shape == (shape.N, shape.T, width) and out.dtype == DTYPE
    assert np.isfinite(out).all()
