"""What every recurrent cell (RNN, LSTM, GRU) shares, written once.

A cell is described by a ``Cell``: its number of gate blocks, whether it
carries a cell state c, which per-step arrays its backward needs, and its
two time loops (``Loops`` on its own kernels, with the functions that give
them their arrays); ``run_loop`` runs either on the path ``fastrnn.tuning``
chooses.
Everything else is here: the checks, the stateful h (and c), one call at a
time, the input projection of all steps as one GEMM, and the backward's
products over all steps (dxs, dWx, db, dWh).

The split: what is one large product over all steps goes to numpy's BLAS;
only the chain through the state, which must run step by step, goes to the
cell's Numba kernels (see ``fastrnn.tuning`` for where each time loop runs).

Why one module: the ``Cell`` description, the forward and backward that
every cell shares and the two base classes that call them are one contract;
split, a cell's author would read it in several files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from fastrnn_kernels.products import sum_rows

from .base import Layer
from .products import at_b
from ..tuning import TRANSPOSED_COPY_MIN_STEPS, LoopPath, time_loop_path
from .validate import as_input, check_grads, check_params, check_sequence

Params = tuple[np.ndarray, np.ndarray, np.ndarray]


class Loops(NamedTuple):
    """One direction of a cell's time loop, one function per ``LoopPath``.

    All take the same arguments, the tuple the cell's ``*_args`` function
    builds; ``step`` then takes the step index t.

    Attributes
    ----------
    one_row : Numba kernel that runs every step, with Numba's own product.
    small : Numba kernel that runs every step, with ``np.dot`` per step.
    step : Python function that runs step t on the large path: numpy's
        matmul for the product, then the cell's per-step kernel(s).
    own : Numba kernel that runs every step with fastrnn's own product
        (``fastrnn_kernels.products.times_transposed``), or None if the
        cell has none. Its forward takes Wh as given and packs Wh.T itself;
        its backward takes Wh.T as the transposed view of Wh.
    """

    one_row: Callable[..., None]
    small: Callable[..., None]
    step: Callable[..., None]
    own: Callable[..., None] | None = None


class Tape(NamedTuple):
    """What a forward keeps for its backward (all C-contiguous, checked)."""

    xs: np.ndarray           # (N, T, D) inputs, in the params' dtype
    h0: np.ndarray           # (N, H) initial h
    c0: np.ndarray | None    # (N, H) initial c, or None without c
    hs: np.ndarray           # (N, T, H) all h
    gates: np.ndarray        # (N, T, G*H), x_t @ Wx on entry; what the backward reads
    saved: tuple[np.ndarray, ...]


@dataclass(frozen=True)
class Cell:
    """A recurrent cell, as the shared code needs to know it.

    Attributes
    ----------
    name : the book's name of the one-step layer ("RNN", "LSTM", "GRU").
    gates : G, the number of H-wide blocks in Wx (D, G*H), Wh and b.
    has_c : True if the cell carries a cell state c beside h (LSTM).
    saved : how many (N, T, H) arrays besides hs the forward keeps.
    forward_args : ``forward_args(wh, b, h, c, tape)`` -> the arguments of
        the ``forward`` loops (the arrays they read and write, workspaces
        made here). On entry ``tape.gates`` holds x_t @ Wx (for G = 1 it is
        ``tape.hs`` itself), h and c (None without c) the initial states;
        the loops fill ``tape.hs`` and ``tape.saved``, leave the last states
        in h and c, and in ``tape.gates`` whatever the backward reads.
    forward : the forward time loop (``Loops``).
    backward_args : ``backward_args(wh_t, tape, dhs, dh, dc, da)`` -> the
        arguments of the ``backward`` loops, which write the gradient with
        respect to each step's gate inputs into ``da`` (N, T, G*H) and leave
        in dh (zero on entry) and dc (the last c's gradient on entry, None
        without c) those of h0 and c0. ``wh_t`` is Wh.T: a C-contiguous copy,
        or over fewer than ``TRANSPOSED_COPY_MIN_STEPS`` steps, and always
        for the ``own`` loop, the (F-ordered) transposed view of the
        caller's Wh; the loops may not write to it.
    backward : the reverse time loop (``Loops``; steps run from T-1 to 0).
    wh_inputs : for dWh, the blocks of Wh's columns and what multiplies each
        per step: ``(first block, end block, source)``, where source -1 is
        h_{t-1} and k >= 0 is ``saved[k]``; None: h_{t-1} for all blocks.
    wh_t_view : whether the backward loops may take Wh.T as the transposed
        view of Wh over a few steps (see ``backward``); False for a cell
        whose loops need row blocks of Wh.T, C-contiguous only in a copy.
    """

    name: str
    gates: int
    has_c: bool
    saved: int
    forward_args: Callable[..., tuple]
    forward: Loops
    backward_args: Callable[..., tuple]
    backward: Loops
    wh_inputs: tuple[tuple[int, int, int], ...] | None = None
    wh_t_view: bool = True


def loop_path(loops: Loops, n_batch: int, n_steps: int, d_h: int, gates: int,
              dtype: np.dtype, reverse: bool) -> LoopPath:
    """``time_loop_path`` for ``loops``: OWN only if the cell has such a loop."""
    return time_loop_path(n_batch, d_h, gates, backward=reverse, own=loops.own is not None,
                          n_steps=n_steps, dtype=dtype.name)


def run_loop(loops: Loops, path: LoopPath, args: tuple, n_steps: int,
             reverse: bool = False) -> None:
    """Run a time loop on the path ``loop_path`` chose: the one dispatcher
    of every cell's loops."""
    if path is LoopPath.OWN:
        loops.own(*args)
    elif path is LoopPath.ONE_ROW:
        loops.one_row(*args)
    elif path is LoopPath.SMALL:
        loops.small(*args)
    else:
        for t in (range(n_steps - 1, -1, -1) if reverse else range(n_steps)):
            loops.step(*args, t)


def forward(cell: Cell, params: Params, xs: np.ndarray, h0: np.ndarray,
            c0: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None, Tape]:
    """Run ``cell`` over all steps of checked arrays; return (h, c, tape)."""
    wx, wh, b = params
    n_batch, n_steps, d_in = xs.shape
    d_h, width = wh.shape
    hs = np.empty((n_batch, n_steps, d_h), dtype=wh.dtype)
    gates = hs if cell.gates == 1 else np.empty((n_batch, n_steps, width), dtype=wh.dtype)
    saved = tuple(np.empty_like(hs) for _ in range(cell.saved))
    tape = Tape(xs, h0, c0, hs, gates, saved)
    h = h0.copy()
    c = None if c0 is None else c0.copy()
    if hs.size:
        # The input projection of all steps is one GEMM.
        np.matmul(xs.reshape(-1, d_in), wx, out=gates.reshape(-1, width))
        path = loop_path(cell.forward, n_batch, n_steps, d_h, cell.gates, wh.dtype, False)
        run_loop(cell.forward, path, cell.forward_args(wh, b, h, c, tape), n_steps)
    return h, c, tape


def backward(cell: Cell, params: Params, grads: list[np.ndarray], tape: Tape,
             dhs: np.ndarray, dc: np.ndarray | None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Run the backward of ``tape`` on checked arrays; overwrite ``grads``.

    ``dc`` is the gradient with respect to the last c (cells with c only;
    None means zero). Returns (dxs, dh0, dc0).
    """
    wx, wh, _ = params
    dwx, dwh, db = grads
    xs, h0, c0, hs, gates, saved = tape
    n_batch, n_steps, d_in = xs.shape
    d_h, width = wh.shape
    dxs = np.empty(xs.shape, dtype=xs.dtype)
    dh = np.zeros_like(h0)
    if cell.has_c:
        dc = np.zeros_like(h0) if dc is None else dc.copy()
    if hs.size == 0:
        for g in grads:
            g[...] = 0
        return dxs, dh, dc
    da = np.empty((n_batch, n_steps, width), dtype=wh.dtype)
    # Every step multiplies by Wh.T. Over many steps a C-contiguous copy
    # pays for itself (OpenBLAS runs the plain product faster than the one
    # on the transposed view); over a few it costs more than it saves.
    # fastrnn's own product reads Wh itself, through the view.
    path = loop_path(cell.backward, n_batch, n_steps, d_h, cell.gates, wh.dtype, True)
    private = path is not LoopPath.OWN and (n_steps >= TRANSPOSED_COPY_MIN_STEPS
                                            or not cell.wh_t_view)
    wh_t = wh.T.copy() if private else wh.T
    run_loop(cell.backward, path, cell.backward_args(wh_t, tape, dhs, dh, dc, da),
             n_steps, reverse=True)
    # The rest is one GEMM or reduction over all steps.
    flat = da.reshape(-1, width)
    np.matmul(flat, wx.T, out=dxs.reshape(-1, d_in))
    at_b(xs.reshape(-1, d_in), flat, dwx)
    sum_rows(flat, db)
    # Scratch for the products below: numpy's matmul leaves BLAS for a slow
    # loop when its output is a column slice, so a block of columns is
    # computed here first, then copied. A private wh_t is no longer needed.
    scratch = wh_t.reshape(-1) if private else None
    for first, end, source in cell.wh_inputs or ((0, cell.gates, -1),):
        cols = slice(first * d_h, end * d_h)
        n_cols = cols.stop - cols.start
        if n_cols == width:
            out = dwh
        else:
            if scratch is None:
                scratch = np.empty(d_h * width, dtype=wh.dtype)
            out = scratch[:d_h * n_cols].reshape(d_h, n_cols)
        if source >= 0:
            at_b(saved[source].reshape(-1, d_h), flat[:, cols], out)
        elif n_steps == 1:  # h_{t-1} is h0
            at_b(h0, flat[:, cols], out)
        else:
            # sum over t of h_{t-1}.T @ da_t. In the flattened (N*T, .)
            # layout, row r of hs is h_{t-1} of row r + 1 of da, except
            # across a sample boundary, where row n*T + T-1 meets da[n+1, 0],
            # whose h_{t-1} is h0[n+1]. So: set the t = 0 rows of da aside
            # and zero them, one GEMM over the shifted rows, plus
            # h0.T @ (those rows).
            da0 = flat[::n_steps, cols].copy()
            flat[::n_steps, cols] = 0
            np.matmul(hs.reshape(-1, d_h)[:-1].T, flat[1:, cols], out=out)
            if out is dwh and scratch is not None:  # no H x G*H temporary
                h0_term = scratch.reshape(d_h, width)
                at_b(h0, da0, h0_term)
                out += h0_term
            else:
                out += h0.T @ da0
        if out is not dwh:
            dwh[:, cols] = out
    return dxs, dh, dc


def check_unchanged(params: object, tape: Tape,
                    names: tuple[str, str, str] = ("Wx", "Wh", "b")) -> None:
    """Check that no param was replaced since the forward of ``tape`` by an
    array of another shape or dtype.

    Parameters
    ----------
    params : the layer's ``[Wx, Wh, b]`` as it is now.
    tape : what the forward kept (its shapes and dtype are the params' then).
    names : the params' names in the message.

    Raises
    ------
    ValueError
        Naming the param and the change, e.g. "params changed since forward:
        Wh now has dtype float64, forward ran with float32". What is not an
        array is left to ``check_params``.
    """
    check_sequence("params", params, f"[{', '.join(names)}]")
    d_in, d_h, width = tape.xs.shape[-1], tape.hs.shape[-1], tape.gates.shape[-1]
    dtype = tape.hs.dtype
    for name, p, shape in zip(names, params, ((d_in, width), (d_h, width), (width,))):
        if not isinstance(p, np.ndarray):
            continue
        changes = [(what, now, then) for what, now, then in
                   (("shape", p.shape, shape), ("dtype", p.dtype, dtype)) if now != then]
        if len(changes) == 1:  # "Wh now has dtype float64, forward ran with float32"
            (what, now, then), = changes
            raise ValueError(f"params changed since forward: {name} now has {what} {now}, "
                             f"forward ran with {then}")
        if changes:
            raise ValueError(f"params changed since forward: {name} now has shape {p.shape} "
                             f"and dtype {p.dtype}, forward ran with shape {shape} and "
                             f"dtype {dtype}")


def check_backward_params(layer: "Step | TimeRecurrent", tape: Tape,
                          names: tuple[str, str, str] = ("Wx", "Wh", "b")) -> Params:
    """Check params and grads again, and that they still fit the forward pass
    (``check_unchanged`` first: a param replaced by one of another dtype is
    named as a change, not as a mismatch with the other params)."""
    check_unchanged(layer.params, tape, names)
    params = check_params(layer.params, layer.cell.gates)
    check_grads(layer.grads, params)
    return params


def _zero_grads(params: list[np.ndarray]) -> list[np.ndarray]:
    return [np.zeros(p.shape, dtype=p.dtype) for p in params]


class Step(Layer):
    """Base of the one-step layers (``RNN``, ``LSTM``, ``GRU``): T = 1 of
    the shared forward and backward. Subclasses set ``cell``; ``forward``
    and ``backward`` here have the book's signatures for cells with h alone
    (a cell with c, the LSTM, gives them its own)."""

    cell: Cell

    def __init__(self, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray) -> None:
        check_params([Wx, Wh, b], self.cell.gates)
        super().__init__()
        self.params = [Wx, Wh, b]
        self.grads = _zero_grads(self.params)
        self.cache: tuple | None = None
        self._tape: Tape | None = None

    def forward(self, x: np.ndarray, h_prev: np.ndarray) -> np.ndarray:
        """Return ``h_next`` (N, H) for ``x`` (N, D) and ``h_prev`` (N, H)."""
        return self._step_forward(x, h_prev)[0]

    def backward(self, dh_next: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(dx, dh_prev)`` and overwrite ``grads``.

        ``dh_next`` is the gradient with respect to the last forward's output.
        """
        dx, dh_prev, _ = self._step_backward(dh_next)
        return dx, dh_prev

    def _step_forward(self, x: np.ndarray, h_prev: np.ndarray,
                      c_prev: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        with self._exclusive():
            params = check_params(self.params, self.cell.gates)
            wx, wh, _ = params
            x = as_input("x", x, (None, wx.shape[0]), wx.dtype)
            state = (x.shape[0], wh.shape[0])
            h_prev = as_input("h_prev", h_prev, state, wx.dtype)
            if self.cell.has_c:
                c_prev = as_input("c_prev", c_prev, state, wx.dtype)
            h, c, tape = forward(self.cell, params, x[:, None, :], h_prev, c_prev)
            self._tape = tape
            self.cache = self._book_cache(x, h_prev, c_prev, h, c, tape)
            return h, c

    def _book_cache(self, x, h_prev, c_prev, h, c, tape) -> tuple:
        """The ``cache`` tuple the book's layer keeps (for code that reads it)."""
        return (x, h_prev, h)

    def _step_backward(self, dh_next: np.ndarray, dc_next: np.ndarray | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        with self._exclusive():
            if self._tape is None:
                raise RuntimeError(f"{type(self).__name__}.backward() called before forward()")
            tape = self._tape
            params = check_backward_params(self, tape)
            shape = tape.h0.shape
            dh_next = as_input("dh_next", dh_next, shape, tape.hs.dtype)
            if self.cell.has_c:
                dc_next = as_input("dc_next", dc_next, shape, tape.hs.dtype)
            dxs, dh, dc = backward(self.cell, params, self.grads, tape, dh_next[:, None, :],
                                   dc_next)
            return dxs[:, 0, :], dh, dc


class TimeRecurrent(Layer):
    """Base of the T-step layers (``TimeRNN``, ``TimeLSTM``, ``TimeGRU``).

    Subclasses set ``cell`` (and, with a cell state, give ``set_state`` its
    ``c``). Attributes: ``params``, ``grads``, ``h``, ``dh``, ``stateful``,
    and ``c`` for cells that carry one.
    """

    cell: Cell
    directions = 1  # one cell over the sequence (TimeBiLSTM: 2)

    def __init__(self, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray,
                 stateful: bool = False) -> None:
        check_params([Wx, Wh, b], self.cell.gates)
        super().__init__()
        self.params = [Wx, Wh, b]
        self.grads = _zero_grads(self.params)
        self.h: np.ndarray | None = None
        if self.cell.has_c:
            self.c: np.ndarray | None = None
        self.dh: np.ndarray | None = None
        self.stateful = stateful
        self._tape: Tape | None = None

    def _initial(self, name: str, xs: np.ndarray, d_h: int) -> np.ndarray:
        """The state ``name`` ("h" or "c") a forward over ``xs`` (checked)
        starts from: the held one if stateful and set, else zeros."""
        held = getattr(self, name)
        if not self.stateful or held is None:
            return np.zeros((xs.shape[0], d_h), dtype=xs.dtype)
        state = as_input(name, held, (None, d_h), xs.dtype)
        if state.shape[0] != xs.shape[0]:
            kind = "hidden state h" if name == "h" else "cell state c"
            raise ValueError(
                f"this stateful {type(self).__name__} holds a {kind} of shape "
                f"{state.shape}, but xs of shape {xs.shape} has batch size {xs.shape[0]}; "
                "call reset_state() (or set_state()) before changing the batch size")
        return state

    def forward(self, xs: np.ndarray) -> np.ndarray:
        """Return all hidden states hs (N, T, H) for inputs ``xs`` (N, T, D)."""
        with self._exclusive():
            params = check_params(self.params, self.cell.gates)
            wx, wh, _ = params
            xs = as_input("xs", xs, (None, None, wx.shape[0]), wx.dtype)
            d_h = wh.shape[0]
            h0 = self._initial("h", xs, d_h)
            c0 = self._initial("c", xs, d_h) if self.cell.has_c else None
            h, c, self._tape = forward(self.cell, params, xs, h0, c0)
            self.h = h
            if self.cell.has_c:
                self.c = c
            return self._tape.hs

    def backward(self, dhs: np.ndarray) -> np.ndarray:
        """Return dxs (N, T, D) for ``dhs`` (N, T, H); overwrite grads and dh.

        Like the book's layer, it does not add any incoming ``dh``: the
        gradient of the next block's initial state is the caller's to add.
        """
        with self._exclusive():
            if self._tape is None:
                raise RuntimeError(f"{type(self).__name__}.backward() called before forward()")
            params = check_backward_params(self, self._tape)
            dhs = as_input("dhs", dhs, self._tape.hs.shape, self._tape.hs.dtype)
            dxs, self.dh, _ = backward(self.cell, params, self.grads, self._tape, dhs, None)
            return dxs

    def _set_state(self, h: np.ndarray, c: np.ndarray | None = None) -> None:
        with self._exclusive():
            wx, wh, _ = check_params(self.params, self.cell.gates)
            h = as_input("h", h, (None, wh.shape[0]), wx.dtype, copy=True)
            if c is not None:
                c = as_input("c", c, h.shape, wx.dtype, copy=True)
            self.h = h
            if self.cell.has_c:
                self.c = c

    def set_state(self, h: np.ndarray) -> None:
        """Set the hidden state (N, H) the next stateful forward starts from.

        A copy of ``h`` in the params' dtype is kept; views are fine.
        """
        self._set_state(h)

    def reset_state(self) -> None:
        """Forget the state: the next forward starts from zeros."""
        with self._exclusive():
            self.h = None
            if self.cell.has_c:
                self.c = None
