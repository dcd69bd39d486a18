"""pytest-benchmark: one very long sequence, time and peak memory.

``TimeRNN`` forward+backward at N=1, T=100,000, D=H=32 (fastrnn only: the
numpy reference would take minutes). The time loop is the whole cost here
(N*H*H is tiny, so it runs inside the Numba kernels), and the memory is
whatever the layer keeps per step. The peak that numpy allocations reach
during one forward+backward (tracemalloc, measured in a separate untimed
call so that tracing does not slow the timed ones) goes to ``extra_info``
beside the bytes of the arrays that must exist: hs and dts (N, T, H) and
dxs (N, T, D).

In the normal test run this runs once as a smoke test (``--benchmark-disable``
is in the project's pytest options); see benchmarks/README.md for real runs.
"""

import numpy as np
import pytest

import fastrnn
from fastrnn.bench import make_inputs, needed_bytes, peak_memory
from fastrnn.bench.shapes import Shape

from bench_env import setup_info

N, T, D, H = 1, 100_000, 32, 32


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_long_sequence_forward_backward(benchmark, dtype):
    shape = Shape(N, T, D, H, "long sequence")
    Wx, Wh, b, xs, dhs = make_inputs(shape, dtype, seed=0)
    layer = fastrnn.TimeRNN(Wx, Wh, b)

    def run():
        layer.forward(xs)
        return layer.backward(dhs)

    run()  # warm-up: compile or load the kernels
    required = needed_bytes(shape, dtype, forward_only=False)
    peak = peak_memory(run)
    benchmark.group = f"fwd+bwd long sequence {N}x{T}x{D}x{H} {dtype}"
    benchmark.extra_info.update(setup_info(), steps=T, peak_bytes=peak,
                                required_bytes=required, peak_over_required=peak / required,
                                peak_bytes_per_step=peak / T)
    dxs = benchmark(run)
    assert dxs.shape == xs.shape and np.isfinite(dxs).all()
    # The same derivation as tests/test_robustness.py: at most the arrays
    # that must exist, plus 20% and 256 KiB.
    assert peak <= 1.2 * required + 256 * 1024, (peak, required)
