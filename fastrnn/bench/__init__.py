"""``fastrnn bench`` and the benchmarks' tools: time a layer of
``fastrnn.registry`` against its numpy reference (and PyTorch's CPU module,
in a child process, when torch is installed).

``shapes``: the shapes measured; ``measure``: timing, memory, the GEMM peak
and start-up costs; ``report``: the table, JSON and chart; ``torch_child``:
PyTorch's side; ``malloc``: fixed malloc thresholds for steady timings.
"""

from .malloc import fix_malloc
from .measure import (BLAS_ENV, DEFAULT_BUDGET, MIN_ROUNDS, PATH_SIZES, PAUSE, QUICK_BUDGET,
                      Result, forward_backward, gemm_peak, make_inputs, make_layer, measure,
                      needed_bytes, peak_memory, startup_times, time_alternating, time_calls)
from .shapes import LayerKind, kind
from .report import (TABLE_HEADER, format_row, header_lines, plot_report, roofline_share,
                     run_bench)

__all__ = ["fix_malloc", "BLAS_ENV", "DEFAULT_BUDGET", "MIN_ROUNDS", "PATH_SIZES", "PAUSE",
           "QUICK_BUDGET", "LayerKind", "Result", "forward_backward", "gemm_peak", "kind",
           "make_inputs", "make_layer", "measure", "needed_bytes", "peak_memory",
           "startup_times", "time_alternating", "time_calls", "TABLE_HEADER", "format_row",
           "header_lines", "plot_report", "roofline_share", "run_bench"]
