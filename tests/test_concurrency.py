"""Threads, shared layers, pickling and processes.

- Threads: the kernels release the GIL, so layers in different threads run
  at once; each thread's results must be bitwise those of the same work done
  serially, on both time-loop paths (``fastrnn.tuning``).
- One layer shared by two threads: the second call is refused with a clear
  RuntimeError and changes nothing.
- Pickle: layers and the language model round-trip with params, grads,
  state and forward caches, and carry on exactly as the originals would.
- Processes: a multiprocessing pool ('spawn' and 'fork') gives the serial
  results.

Everything is compared bitwise (``assert_array_equal``): the same code on the
same inputs on the same machine must give the same bits, whatever thread or
process runs it. (OpenBLAS splits a GEMM between its threads by rows and
columns of the output, never along the summed dimension, so even the
numpy-BLAS path cannot depend on how many BLAS threads a call gets.)
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import multiprocessing
import pickle
import pkgutil
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import pytest

import fastrnn
import fastrnn_kernels
import fastrnn.layers.rnn
from fastrnn.layers.recurrent import Loops
from fastrnn import tuning as _tuning
from fastrnn.lm.layers import TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss
from fastrnn.lm.model import SimpleRnnlm
from fastrnn.lm.optim import SGD, SharedParams

assert_equal = np.testing.assert_array_equal

TIMEOUT = 120  # seconds; only a deadlock comes near it
REFUSAL_TIMEOUT = 20  # a refused call returns at once; more means it waited

# Shapes of the two time-loop paths (fastrnn.tuning): per-step products of
# N * H * H <= NUMBA_STEP_MAX_MACS multiply-adds run in the Numba loop
# (SciPy's BLAS called from Numba), larger ones in a Python loop on numpy's
# BLAS (multi-threaded OpenBLAS).
CASES = {
    "numba-loop": dict(N=4, T=200, D=16, H=32),          # N*H*H = 4096
    "numba-loop-largest": dict(N=4, T=30, D=24, H=256),  # N*H*H = 262144, the limit
    "numpy-loop": dict(N=8, T=30, D=24, H=256),         # N*H*H = 524288
}
NUMBA_PATH = {"numba-loop": True, "numba-loop-largest": True, "numpy-loop": False}
N_BLOCKS = 3


# --------------------------------------------------------------------------
# Helpers (module level: the process tests send them to pool workers)

def make_problem(seed, case, dtype=np.float32, n_blocks=N_BLOCKS):
    """Params (book's initialisation) and n_blocks of (xs, dhs) for ``case``."""
    c = CASES[case]
    N, T, D, H = c["N"], c["T"], c["D"], c["H"]
    rng = np.random.default_rng(seed)
    params = ((rng.standard_normal((D, H)) / np.sqrt(D)).astype(dtype),
              (rng.standard_normal((H, H)) / np.sqrt(H)).astype(dtype),
              (0.1 * rng.standard_normal(H)).astype(dtype))
    blocks = [(rng.standard_normal((N, T, D)).astype(dtype),
               rng.standard_normal((N, T, H)).astype(dtype)) for _ in range(n_blocks)]
    return params, blocks


def run_blocks(layer, blocks):
    """Forward + backward of every block on ``layer``; copies of all outputs."""
    out = []
    for xs, dhs in blocks:
        hs = layer.forward(xs)
        dxs = layer.backward(dhs)
        out.append(dict(hs=hs.copy(), dxs=dxs.copy(), h=layer.h.copy(),
                        dh=layer.dh.copy(), grads=[g.copy() for g in layer.grads]))
    return out


def run_case(seed, case, dtype=np.float32, barrier=None):
    """A fresh stateful TimeRNN doing all blocks of problem (seed, case)."""
    params, blocks = make_problem(seed, case, dtype)
    layer = fastrnn.TimeRNN(*params, stateful=True)
    if barrier is not None:
        barrier.wait(timeout=TIMEOUT)  # all threads start their kernels together
    return run_blocks(layer, blocks)


def process_worker(layer, blocks):
    """Pool task: run the blocks on a (pickled) layer; send results and layer back."""
    return run_blocks(layer, blocks), layer


def assert_results_equal(got, want):
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        for key in ("hs", "dxs", "h", "dh"):
            assert g[key].dtype == w[key].dtype
            assert_equal(g[key], w[key], err_msg=f"block {i}: {key}")
        for name, a, b in zip(("dWx", "dWh", "db"), g["grads"], w["grads"]):
            assert_equal(a, b, err_msg=f"block {i}: {name}")


def snapshot(obj):
    """A deep copy of a layer's __dict__ without its lock, for comparisons
    (lists as plain lists)."""
    return copy.deepcopy({k: list(v) if isinstance(v, list) else v
                          for k, v in vars(obj).items() if k != "_lock"})


def assert_tree_equal(got, want, path="state"):
    """Equal nested containers of arrays and plain values (arrays bitwise)."""
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), path
        assert got.dtype == want.dtype and got.shape == want.shape, path
        assert_equal(got, want, err_msg=path)
    elif isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), path
        for k in want:
            assert_tree_equal(got[k], want[k], f"{path}.{k}")
    elif isinstance(want, (list, tuple)):
        assert type(got) is type(want) and len(got) == len(want), path
        for i, (a, b) in enumerate(zip(got, want)):
            assert_tree_equal(a, b, f"{path}[{i}]")
    elif isinstance(want, (fastrnn.layers.base.Layer, SimpleRnnlm)):
        assert type(got) is type(want), path
        assert_tree_equal(snapshot(got), snapshot(want), path)
    else:
        assert got == want, path


def assert_lock_free(layer):
    """The layer's lock exists and nobody holds it."""
    assert isinstance(layer._lock, type(threading.Lock()))
    assert layer._lock.acquire(blocking=False)
    layer._lock.release()


# --------------------------------------------------------------------------
# 1. Threads

def test_all_kernels_release_the_gil():
    """Every Numba kernel of fastrnn_kernels is compiled with nogil=True."""
    found = []
    for info in pkgutil.iter_modules(fastrnn_kernels.__path__):
        module = importlib.import_module(f"fastrnn_kernels.{info.name}")
        for name, obj in vars(module).items():
            if isinstance(obj, numba.core.dispatcher.Dispatcher):
                found.append(name)
                assert obj.targetoptions.get("nogil") is True, name
    assert {"forward_steps", "backward_steps", "forward_step", "backward_step",
            "sum_rows", "embedding_backward", "softmax_cross_entropy",
            "softmax_cross_entropy_backward"} <= set(found)


@pytest.mark.parametrize("case", list(CASES))
def test_cases_take_the_intended_path(case, monkeypatch):
    """The shapes above really run the Numba time loop, or the numpy one."""
    c = CASES[case]
    assert (c["N"] * c["H"] ** 2 <= _tuning.NUMBA_STEP_MAX_MACS) == NUMBA_PATH[case]
    calls = {}

    def counted(loops, direction):
        def wrap(field):
            real = getattr(loops, field)

            def count(*args):
                key = f"{direction}.{field}"
                calls[key] = calls.get(key, 0) + 1
                return real(*args)
            return count
        return Loops(*(wrap(field) if getattr(loops, field) else None
                       for field in Loops._fields))
    cell = fastrnn.layers.rnn.CELL
    monkeypatch.setattr(fastrnn.layers.rnn.TimeRNN, "cell", dataclasses.replace(
        cell, forward=counted(cell.forward, "forward"),
        backward=counted(cell.backward, "backward")))
    run_case(0, case)
    if NUMBA_PATH[case]:
        assert calls == {"forward.small": N_BLOCKS, "backward.small": N_BLOCKS}
    else:
        steps = N_BLOCKS * c["T"]
        assert calls == {"forward.step": steps, "backward.step": steps}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", list(CASES))
def test_threads_match_serial(case, dtype):
    """4 threads, each with its own stateful TimeRNN and inputs, running at
    the same time, give bitwise the results of the same work done serially."""
    seeds = [11, 12, 13, 14]
    serial = [run_case(s, case, dtype) for s in seeds]
    barrier = threading.Barrier(len(seeds))
    with ThreadPoolExecutor(max_workers=len(seeds)) as pool:
        futures = [pool.submit(run_case, s, case, dtype, barrier) for s in seeds]
        threaded = [f.result(timeout=TIMEOUT) for f in futures]
    for got, want in zip(threaded, serial):
        assert_results_equal(got, want)


# A TimeLSTM shape whose forward and backward loops both run on fastrnn's
# own product (fastrnn.tuning.OWN_FORWARD, OWN_BACKWARD).
OWN_LSTM = dict(N=4, T=16, D=16, H=256)


def run_own_lstm(seed, barrier=None):
    """A fresh stateful TimeLSTM doing 3 blocks of OWN_LSTM's shape."""
    N, T, D, H = OWN_LSTM.values()
    rng = np.random.default_rng(seed)
    layer = fastrnn.TimeLSTM(*(a.astype(np.float32) for a in (
        rng.standard_normal((D, 4 * H)) / np.sqrt(D),
        rng.standard_normal((H, 4 * H)) / np.sqrt(H), rng.standard_normal(4 * H))),
        stateful=True)
    blocks = [(rng.standard_normal((N, T, D)).astype(np.float32),
               rng.standard_normal((N, T, H)).astype(np.float32)) for _ in range(3)]
    if barrier is not None:
        barrier.wait(timeout=TIMEOUT)
    out = run_blocks(layer, blocks)
    for o in out:
        o["c"] = layer.c.copy()
    return out


def test_own_product_path_in_threads_and_forked_processes_matches_serial():
    """TimeLSTMs on the own path: 4 threads at once, and a forked pool after
    the parent ran them, give bitwise the serial results."""
    N, T, H = OWN_LSTM["N"], OWN_LSTM["T"], OWN_LSTM["H"]
    for reverse in (False, True):
        assert _tuning.time_loop_path(N, H, 4, backward=reverse, own=True, n_steps=T) == "own"
    seeds = [41, 42, 43, 44]
    serial = [run_own_lstm(s) for s in seeds]
    barrier = threading.Barrier(len(seeds))
    with ThreadPoolExecutor(max_workers=len(seeds)) as pool:
        threaded = [f.result(timeout=TIMEOUT) for f in
                    [pool.submit(run_own_lstm, s, barrier) for s in seeds]]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "This process .* is multi-threaded",
                                DeprecationWarning)
        with multiprocessing.get_context("fork").Pool(processes=2) as pool:
            forked = pool.map_async(run_own_lstm, seeds).get(timeout=TIMEOUT)
    for got in (threaded, forked):
        for g, w in zip(got, serial):
            assert_results_equal(g, w)
            for block_g, block_w in zip(g, w):
                assert_equal(block_g["c"], block_w["c"])


def test_threads_mixed_paths_and_lm_match_serial():
    """Both TimeRNN paths and whole language-model steps in 6 threads at once
    (Numba kernels, SciPy's BLAS from Numba and numpy's multi-threaded BLAS
    all busy together) give bitwise the serial results."""
    def lm_step(seed, barrier=None):
        rng = np.random.default_rng(seed)
        model = SimpleRnnlm(50, 16, 16, tied=seed % 2 == 0, rng=rng)
        data = [(rng.integers(0, 50, (5, 7)), rng.integers(0, 50, (5, 7)))
                for _ in range(N_BLOCKS)]
        if barrier is not None:
            barrier.wait(timeout=TIMEOUT)
        out = []
        for xs, ts in data:
            loss = model.forward(xs, ts)
            model.backward()
            out.append((loss, [g.copy() for g in model.grads], model.rnn_layer.h.copy()))
        return out

    tasks = [(run_case, (21, "numba-loop")), (run_case, (22, "numpy-loop")),
             (run_case, (23, "numba-loop-largest")), (run_case, (24, "numpy-loop")),
             (lm_step, (25,)), (lm_step, (26,))]
    serial = [f(*args) for f, args in tasks]
    barrier = threading.Barrier(len(tasks))
    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        futures = [pool.submit(f, *args, barrier=barrier) for f, args in tasks]
        threaded = [f.result(timeout=TIMEOUT) for f in futures]
    for (f, _), got, want in zip(tasks, threaded, serial):
        if f is run_case:
            assert_results_equal(got, want)
        else:
            for (loss_g, grads_g, h_g), (loss_w, grads_w, h_w) in zip(got, want):
                assert loss_g == loss_w
                assert_equal(h_g, h_w)
                for a, b in zip(grads_g, grads_w):
                    assert_equal(a, b)


# --------------------------------------------------------------------------
# 2. One layer shared between threads

def _trained_time_rnn():
    """A stateful TimeRNN after one forward + backward, and its next block."""
    params, blocks = make_problem(3, "numba-loop", n_blocks=2)
    layer = fastrnn.TimeRNN(*params, stateful=True)
    run_blocks(layer, blocks[:1])
    return layer, blocks[1]


def _trained_affine():
    rng = np.random.default_rng(4)
    layer = TimeAffine(rng.standard_normal((6, 9)).astype("f"),
                       rng.standard_normal(9).astype("f"))
    layer.forward(rng.standard_normal((3, 4, 6)).astype("f"))
    layer.backward(rng.standard_normal((3, 4, 9)).astype("f"))
    return layer, (rng.standard_normal((3, 4, 6)).astype("f"),
                   rng.standard_normal((3, 4, 9)).astype("f"))


def _calls(layer, block):
    """Every guarded method of ``layer``, as (name, zero-argument call)."""
    x, dout = block
    calls = [("forward", lambda: layer.forward(x)), ("backward", lambda: layer.backward(dout))]
    if isinstance(layer, fastrnn.TimeRNN):
        calls.append(("set_state", lambda: layer.set_state(np.zeros_like(layer.h))))
    return calls


def _in_other_thread(func):
    """Run ``func`` in another thread; return its exception (or None).

    A daemon thread, not an executor: should a call block on the lock the
    test holds instead of being refused, the test fails rather than hangs.
    """
    outcome = []

    def target():
        try:
            func()
            outcome.append(None)
        except BaseException as e:  # noqa: BLE001 - handed to the test
            outcome.append(e)
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout=REFUSAL_TIMEOUT)
    assert not thread.is_alive(), "the call waited for the other call instead of refusing"
    return outcome[0]


@pytest.mark.parametrize("make", [_trained_time_rnn, _trained_affine],
                         ids=["TimeRNN", "TimeAffine"])
def test_call_in_progress_refuses_other_threads(make):
    """While a call holds the layer (simulated: the test holds its lock), a
    call from another thread raises RuntimeError naming the problem, and
    changes nothing; afterwards the layer works as if nothing had happened."""
    layer, block = make()
    twin = copy.deepcopy(layer)  # the same layer, never disturbed
    before = snapshot(layer)
    with layer._exclusive():     # "a call in progress"
        for name, call in _calls(layer, block):
            err = _in_other_thread(call)
            assert isinstance(err, RuntimeError), (name, err)
            assert "another thread" in str(err), name
            assert type(layer).__name__ in str(err), name
            assert_tree_equal(snapshot(layer), before, f"after refused {name}")
    assert_lock_free(layer)
    x, dout = block
    assert_equal(layer.forward(x), twin.forward(x))
    assert_equal(layer.backward(dout), twin.backward(dout))
    assert_tree_equal(snapshot(layer), snapshot(twin))


class _GatedParams(list):
    """A params list that, once armed, stops the first call that reads it
    until released: a real call held in progress, inside the layer's lock."""

    def arm(self):
        self.entered, self.release = threading.Event(), threading.Event()

    def _gate(self):
        if getattr(self, "release", None) is not None:
            release, self.release = self.release, None
            self.entered.set()
            assert release.wait(timeout=REFUSAL_TIMEOUT)

    def __len__(self):
        self._gate()
        return super().__len__()

    def __iter__(self):
        self._gate()
        return super().__iter__()


@pytest.mark.parametrize("make", [_trained_time_rnn, _trained_affine],
                         ids=["TimeRNN", "TimeAffine"])
def test_real_call_in_progress_refuses_other_threads(make):
    """As above with a real forward held inside the layer by its params list."""
    layer, block = make()
    x, dout = block
    twin = copy.deepcopy(layer)
    before = snapshot(layer)
    gated = _GatedParams(layer.params)
    layer.params = gated
    gated.arm()
    release = gated.release
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(layer.forward, x)
        assert gated.entered.wait(timeout=REFUSAL_TIMEOUT)  # first call is inside forward
        try:
            for name, call in _calls(layer, block):
                with pytest.raises(RuntimeError, match="another thread"):
                    call()
            assert_tree_equal(snapshot(layer), before, "after refused calls")
        finally:
            release.set()
        hs = first.result(timeout=TIMEOUT)
    assert_lock_free(layer)
    assert_equal(hs, twin.forward(x))
    assert_equal(layer.backward(dout), twin.backward(dout))
    assert_tree_equal(snapshot(layer), snapshot(twin))


# --------------------------------------------------------------------------
# 3. Pickle

PROTOCOLS = sorted({2, pickle.DEFAULT_PROTOCOL, pickle.HIGHEST_PROTOCOL})


def _roundtrip(obj, protocol):
    return pickle.loads(pickle.dumps(obj, protocol=protocol))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_pickle_rnn(protocol):
    rng = np.random.default_rng(5)
    params, _ = make_problem(5, "numba-loop", np.float64)
    layer = fastrnn.RNN(*params)
    N, D, H = 3, params[0].shape[0], params[0].shape[1]
    layer.forward(rng.standard_normal((N, D)), rng.standard_normal((N, H)))
    layer.backward(rng.standard_normal((N, H)))
    with layer._exclusive():  # pickled while "in a call": the copy is unlocked
        copy_ = _roundtrip(layer, protocol)
    assert_lock_free(copy_)
    assert_tree_equal(copy_, layer)
    assert len(copy_.cache) == 3 and len(copy_.grads) == 3
    # The copy's grads and params are its own arrays.
    assert not any(np.shares_memory(a, b) for a, b in zip(copy_.grads, layer.grads))
    # It carries on exactly like the original.
    for a, b in zip(copy_.backward(np.ones((N, H))), layer.backward(np.ones((N, H)))):
        assert_equal(a, b)
    x, h = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    assert_equal(copy_.forward(x, h), layer.forward(x, h))
    dh = rng.standard_normal((N, H))
    for a, b in zip(copy_.backward(dh), layer.backward(dh)):
        assert_equal(a, b)
    assert_tree_equal(copy_, layer)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("case", ["numba-loop", "numpy-loop"])
def test_pickle_time_rnn(case, protocol):
    """A stateful TimeRNN with h, dh, grads and a forward cache round-trips;
    the copy's next blocks (forward + backward) are bitwise the original's."""
    params, blocks = make_problem(6, case, n_blocks=4)
    layer = fastrnn.TimeRNN(*params, stateful=True)
    run_blocks(layer, blocks[:2])
    assert layer.h is not None and layer.dh is not None and layer._tape is not None
    copy_ = _roundtrip(layer, protocol)
    assert_lock_free(copy_)
    assert copy_.stateful is True
    assert_tree_equal(copy_, layer)
    # The cached forward state works: a second backward of the last block.
    dhs = blocks[1][1]
    assert_equal(copy_.backward(dhs), layer.backward(dhs))
    # And so does the hidden state: the next blocks.
    assert_results_equal(run_blocks(copy_, blocks[2:]), run_blocks(layer, blocks[2:]))
    assert_tree_equal(copy_, layer)


def _lm_layers():
    rng = np.random.default_rng(7)
    V, D, N, T = 13, 5, 3, 4
    emb = TimeEmbedding(rng.standard_normal((V, D)).astype("f"))
    aff = TimeAffine(rng.standard_normal((D, V)).astype("f"), rng.standard_normal(V).astype("f"))
    loss = TimeSoftmaxWithLoss()
    ids = rng.integers(0, V, (N, T))
    ts = rng.integers(0, V, (N, T))
    ts[0, 0] = -1  # an ignored target in the cache too
    loss.forward(aff.forward(emb.forward(ids)), ts)
    emb.backward(aff.backward(loss.backward()))
    return emb, aff, loss, rng.standard_normal((N, T, V)).astype("f"), rng.standard_normal((N, T, D)).astype("f")


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("which", ["TimeEmbedding", "TimeAffine", "TimeSoftmaxWithLoss"])
def test_pickle_lm_layers(which, protocol):
    """Each LM layer round-trips with params, grads and its forward cache, and
    its backward from the cache is bitwise the original's."""
    emb, aff, loss, dscores, dvectors = _lm_layers()
    layer = {"TimeEmbedding": emb, "TimeAffine": aff, "TimeSoftmaxWithLoss": loss}[which]
    cache = {"TimeEmbedding": "_ids", "TimeAffine": "_x", "TimeSoftmaxWithLoss": "_cache"}[which]
    assert getattr(layer, cache) is not None
    copy_ = _roundtrip(layer, protocol)
    assert_lock_free(copy_)
    assert_tree_equal(copy_, layer)
    if which == "TimeEmbedding":
        assert copy_.backward(dvectors) is None and layer.backward(dvectors) is None
    elif which == "TimeAffine":
        assert_equal(copy_.backward(dscores), layer.backward(dscores))
    else:
        assert_equal(copy_.backward(2.5), layer.backward(2.5))
    assert_tree_equal(copy_, layer)


def _trained_model(tied):
    rng = np.random.default_rng(8)
    model = SimpleRnnlm(40, 12, 12, tied=tied, rng=rng)
    batches = [(rng.integers(0, 40, (4, 6)), rng.integers(0, 40, (4, 6))) for _ in range(4)]
    optimizer, shared = SGD(0.5), SharedParams(model.params)
    for xs, ts in batches[:2]:
        model.forward(xs, ts)
        model.backward()
        optimizer.update(shared.params, shared.grads(model.grads))
    return model, batches[2:]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
def test_pickle_simple_rnnlm(tied, protocol):
    """The model round-trips: params, grads, the RNN's h and dh, every layer's
    cache, and the links between the model's lists and its layers'; its next
    training steps are bitwise the original's."""
    model, batches = _trained_model(tied)
    copy_ = _roundtrip(model, protocol)
    assert_tree_equal(copy_, model)
    assert copy_.rnn_layer is copy_.layers[1]
    layer_params = [p for layer in copy_.layers for p in layer.params]
    layer_grads = [g for layer in copy_.layers for g in layer.grads]
    assert all(a is b for a, b in zip(copy_.params, layer_params))
    assert all(a is b for a, b in zip(copy_.grads, layer_grads))
    for layer in copy_.layers + [copy_.loss_layer]:
        assert_lock_free(layer)
    # The next blocks continue the stateful RNN from the pickled h. (No
    # optimizer step here: for tied weights it depends on the sharing, which
    # test_copied_tied_model_keeps_weights_shared checks.)
    for xs, ts in batches:
        assert copy_.forward(xs, ts) == model.forward(xs, ts)
        copy_.backward()
        model.backward()
        assert_tree_equal(copy_, model)


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_copied_tied_model_keeps_weights_shared(how):
    """With tied=True the affine W is a transposed view of the embedding W;
    a copy must keep it so (else training unties the weights silently)."""
    model, batches = _trained_model(tied=True)
    assert np.shares_memory(model.layers[2].params[0], model.layers[0].params[0])
    copy_ = _roundtrip(model, pickle.HIGHEST_PROTOCOL) if how == "pickle" else copy.deepcopy(model)
    embed_W, affine_W = copy_.layers[0].params[0], copy_.layers[2].params[0]
    assert_equal(affine_W, embed_W.T)
    assert np.shares_memory(affine_W, embed_W), \
        f"{how} of a tied SimpleRnnlm gives independent embedding and affine weights"
    # What the sharing is for: training keeps the two equal.
    shared = SharedParams(copy_.params)
    assert len(shared.params) == 5
    copy_.forward(*batches[0])
    copy_.backward()
    SGD(0.5).update(shared.params, shared.grads(copy_.grads))
    assert_equal(copy_.layers[2].params[0], copy_.layers[0].params[0].T)


# --------------------------------------------------------------------------
# 4. Processes

FORK_WARNING = "ignore:This process .* is multi-threaded:DeprecationWarning"


@pytest.mark.parametrize("method", [
    "spawn",
    # Python >= 3.12 warns that fork() in a process with threads (OpenBLAS's
    # pool, which this test starts on purpose) may deadlock the child; that
    # deadlock is exactly what the pool timeout below would catch.
    pytest.param("fork", marks=pytest.mark.filterwarnings(FORK_WARNING)),
])
def test_process_pool_matches_serial(method):
    """Pickled stateful TimeRNNs run their blocks in a pool's processes and
    give bitwise the serial results; the layers sent back carry the state."""
    cases = ["numba-loop", "numpy-loop"]
    jobs = []
    for seed, case in enumerate(cases, start=31):
        params, blocks = make_problem(seed, case)
        layer = fastrnn.TimeRNN(*params, stateful=True)
        run_blocks(layer, blocks[:1])  # some state to carry over
        jobs.append((layer, blocks[1:]))
    # Serial, in the parent, on copies. This runs the kernels (both paths) and
    # numpy's multi-threaded BLAS before the pool forks.
    serial = [(run_blocks(layer, blocks), layer)
              for layer, blocks in copy.deepcopy(jobs)]
    np.ones((512, 512)) @ np.ones((512, 512))  # numpy's BLAS pool busy just now
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(processes=2) as pool:
        pending = [pool.apply_async(process_worker, job) for job in jobs]
        results = [r.get(timeout=TIMEOUT) for r in pending]
    for (got, got_layer), (want, want_layer) in zip(results, serial):
        assert_results_equal(got, want)
        assert_lock_free(got_layer)
        assert_tree_equal(got_layer, want_layer)
