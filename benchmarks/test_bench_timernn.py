"""pytest-benchmark suite: fastrnn against the numpy reference.

In the normal test run these run once each as smoke tests (the project's
pytest options include ``--benchmark-disable``); see benchmarks/README.md
for real runs. Shapes come from ``fastrnn.shapes``, the registry that
``fastrnn bench`` uses too.
"""

import numpy as np
import pytest

import fastrnn
from fastrnn import reference
from fastrnn.lm.train import TrainConfig, Trainer, make_model
from fastrnn.shapes import BENCH_SHAPES

IMPLEMENTATIONS = {"fastrnn": fastrnn.TimeRNN, "reference": reference.TimeRNN}


def _layer_and_inputs(shape, cls, dtype):
    rng = np.random.default_rng(0)
    Wx = (rng.standard_normal((shape.D, shape.H)) / np.sqrt(shape.D)).astype(dtype)
    Wh = (rng.standard_normal((shape.H, shape.H)) / np.sqrt(shape.H)).astype(dtype)
    layer = cls(Wx, Wh, np.zeros(shape.H, dtype))
    xs = rng.standard_normal((shape.N, shape.T, shape.D)).astype(dtype)
    dhs = rng.standard_normal((shape.N, shape.T, shape.H)).astype(dtype)
    return layer, xs, dhs


def _blas_info():
    import threadpoolctl
    return [f"{i.get('internal_api')} {i.get('version')} {i.get('num_threads')} threads"
            for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("impl", sorted(IMPLEMENTATIONS))
@pytest.mark.parametrize("shape", BENCH_SHAPES, ids=lambda s: f"{s.N}x{s.T}x{s.D}x{s.H}")
def test_forward_backward(benchmark, shape, impl, dtype):
    if impl == "reference" and benchmark.disabled and shape.T > 100:
        shape = shape._replace(T=10)  # keep the smoke run short
    layer, xs, dhs = _layer_and_inputs(shape, IMPLEMENTATIONS[impl], dtype)
    benchmark.group = f"fwd+bwd {shape.N}x{shape.T}x{shape.D}x{shape.H} {dtype}"
    benchmark.extra_info.update(blas=_blas_info(), flops=shape.flops())

    def run():
        layer.forward(xs)
        return layer.backward(dhs)

    run()  # warm-up: compile or load the kernels
    dxs = benchmark(run)
    assert dxs.shape == xs.shape and np.isfinite(dxs).all()


@pytest.mark.parametrize("backend", ["fastrnn", "numpy"])
@pytest.mark.parametrize("vocab, batch, time", [(300, 10, 5), (10000, 20, 35)],
                         ids=["ch5-V300", "ch6-V10000"])
def test_language_model_training_step(benchmark, backend, vocab, batch, time):
    cfg = TrainConfig(batch_size=batch, time_size=time)
    corpus = np.random.default_rng(0).integers(0, vocab, 20 * batch * time + 1)
    trainer = Trainer(make_model(cfg, vocab, backend), corpus, cfg)
    trainer.step()  # warm-up
    benchmark.group = f"LM training step V={vocab} N={batch} T={time}"
    benchmark.extra_info.update(blas=_blas_info(), tokens_per_step=batch * time)
    loss = benchmark(trainer.step)
    assert np.isfinite(loss)
