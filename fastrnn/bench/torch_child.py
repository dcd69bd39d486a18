"""PyTorch's side of ``fastrnn bench``: the same layer in ``torch.nn``, timed
in a child process (``python -m fastrnn.bench.torch_child --torch-child JSON``).

fastrnn never imports torch itself: the child does, and the benchmark
suite passes its own ``torch`` module to ``torch_rnn``/``torch_layer``.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
from typing import Any

import numpy as np

from .malloc import fix_malloc
from .measure import kind, make_inputs, time_alternating
from .shapes import Shape


def torch_available() -> bool:
    """Whether PyTorch can be imported (without importing it here)."""
    return importlib.util.find_spec("torch") is not None


def measure_torch(shape: Shape, dtype: np.dtype | str, seed: int, budget: float,
                  forward_only: bool = False) -> dict:
    """Time PyTorch's CPU layer of ``shape.layer`` (``torch_layer``) on one
    shape in a child process.

    Returns
    -------
    The child's report: ``seconds`` (best per call), ``version``,
    ``threads`` and ``diff_hs`` (None where torch's formula differs, GRU).
    Raises ``RuntimeError`` if the child fails, times out, or its hs differ
    from the reference's (a wrong weight mapping).
    """
    args = [sys.executable, "-m", "fastrnn.bench.torch_child", "--torch-child",
            json.dumps(dict(shape=list(shape), dtype=np.dtype(dtype).name, seed=seed,
                            budget=budget, forward_only=forward_only))]
    # cwd: a private empty folder. `python -m` imports from its working
    # folder first: a source checkout's fastrnn/ (without kernels) would
    # shadow the installed package, and the shared /tmp could hold anything.
    with tempfile.TemporaryDirectory() as cwd:
        try:
            done = subprocess.run(args, capture_output=True, text=True, cwd=cwd,
                                  timeout=600 + 10 * budget)
        except subprocess.TimeoutExpired:
            raise RuntimeError("the PyTorch process timed out") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"the PyTorch process failed: {last}")
    report = json.loads(done.stdout.splitlines()[-1])
    if report["diff_hs"] is not None and not report["diff_hs"] < (1e-3 if np.dtype(dtype) == np.float32 else 1e-9):
        raise RuntimeError(f"PyTorch's hs differ from the reference's by "
                           f"{report['diff_hs']:.2g}")
    return report


def torch_rnn(torch: Any, wx: np.ndarray, wh: np.ndarray, b: np.ndarray) -> Any:
    """PyTorch's CPU ``nn.RNN`` computing what ``TimeRNN(wx, wh, b)`` does.

    ``nn.RNN(D, H, nonlinearity="tanh", batch_first=True)`` computes
    ``h_t = tanh(x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh)`` from
    h_0 = 0; so W_ih = wx.T, W_hh = wh.T, b_ih = b, b_hh = 0 (copies).

    Parameters
    ----------
    torch : the torch module (passed in: fastrnn never imports it itself).
    wx, wh, b : the weights, as for ``TimeRNN``.
    """
    rnn = torch.nn.RNN(wx.shape[0], wx.shape[1], nonlinearity="tanh", batch_first=True,
                       dtype=getattr(torch, wx.dtype.name))
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(wx.T)))
        rnn.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(wh.T)))
        rnn.bias_ih_l0.copy_(torch.from_numpy(b))
        rnn.bias_hh_l0.zero_()
    return rnn


def torch_layer(torch: Any, layer: str, *params: np.ndarray) -> Any:
    """PyTorch's CPU module for ``layer`` ("rnn", "lstm", "gru", "bilstm")
    with the weights ``params`` (copied), as ``make_inputs`` gives them.

    RNN: ``torch_rnn``. LSTM: ``nn.LSTM(D, H, batch_first=True)`` computes
    the book's cell with gate blocks i, f, g, o (the book's are f, g, i, o)
    and two biases: weight_ih_l0 (4H, D) is Wx's column blocks reordered and
    transposed, weight_hh_l0 the same of Wh, bias_ih_l0 b reordered,
    bias_hh_l0 zero. TimeBiLSTM: a bidirectional ``nn.LSTM`` with the second
    direction's weights in the ``_reverse`` parameters (torch reads the
    sequence reversed and re-reverses the output, as the book does).
    GRU: ``nn.GRU`` with blocks r, z, n taken from the book's z, r, h~; its
    formula is not the book's, so only the shapes and cost match.
    """
    if layer == "rnn":
        return torch_rnn(torch, *params)
    k = kind(layer)
    d, h = params[0].shape[0], params[1].shape[0]
    module = getattr(torch.nn, k.torch.module)(
        d, h, batch_first=True, bidirectional=k.torch.bidirectional,
        dtype=getattr(torch, params[0].dtype.name))
    order = k.torch.gate_order
    cols = np.concatenate([np.arange(k * h, (k + 1) * h) for k in order])
    with torch.no_grad():
        for direction, suffix in enumerate(("", "_reverse")[:k.directions]):
            wx, wh, b = params[3 * direction:3 * direction + 3]
            getattr(module, "weight_ih_l0" + suffix).copy_(
                torch.from_numpy(np.ascontiguousarray(wx[:, cols].T)))
            getattr(module, "weight_hh_l0" + suffix).copy_(
                torch.from_numpy(np.ascontiguousarray(wh[:, cols].T)))
            getattr(module, "bias_ih_l0" + suffix).copy_(torch.from_numpy(b[cols].copy()))
            getattr(module, "bias_hh_l0" + suffix).zero_()
    return module


def _torch_child(request: dict) -> dict:
    """In the child process: time torch's layer as ``measure`` times fastrnn's."""
    import torch

    fix_malloc()  # as in the parent, for the same conditions
    shape = Shape(*request["shape"])
    dtype = request["dtype"]
    layer = kind(shape.layer)
    *params, xs, dhs = make_inputs(shape, dtype, request["seed"])
    for k in range(2, len(params), 3):  # nonzero biases: the check below sees them
        params[k] = np.linspace(-0.5, 0.5, params[k].size).astype(dtype)
    module = torch_layer(torch, shape.layer, *params)
    x = torch.from_numpy(xs).requires_grad_(True)
    dout = torch.from_numpy(dhs)
    state = None  # a stateful row carries torch's (h, c) from call to call

    def forward():
        nonlocal state
        with torch.no_grad():
            out, new_state = module(x, state)
        if shape.stateful:
            state = new_state
        return out

    def forward_backward():
        module.zero_grad(set_to_none=True)
        x.grad = None
        module(x)[0].backward(dout)

    hs = forward().numpy()  # from zero states, as the reference's below
    diff = None
    if layer.torch.same_formula:
        expected = layer.reference(*params).forward(xs)
        diff = float(np.max(np.abs(hs - expected), initial=0.0))
    call = forward if request["forward_only"] or shape.stateful else forward_backward
    call()  # warm-up
    (seconds,) = time_alternating([call], request["budget"] / 2)
    return dict(seconds=seconds, version=torch.__version__,
                threads=torch.get_num_threads(), diff_hs=diff)


def _main(argv: list[str]) -> int:
    """``python -m fastrnn.bench.torch_child --torch-child JSON``: the PyTorch child process."""
    if len(argv) != 2 or argv[0] != "--torch-child":
        print("usage: python -m fastrnn.bench.torch_child --torch-child JSON (used by fastrnn bench)",
              file=sys.stderr)
        return 2
    print(json.dumps(_torch_child(json.loads(argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
