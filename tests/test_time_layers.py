"""Every recurrent time layer of the registry against the numpy reference.

Equivalence over random shapes, layouts and every time-loop path; float64
finite differences; stateful blocks; ``set_state`` semantics; bad input;
pickling; threads. ``layer_registry.TIME_LAYERS`` lists the layers.
"""

from __future__ import annotations

import pickle
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastrnn
from fastrnn import reference, tuning as _tuning
from fastrnn.layers import recurrent
from conftest import (assert_arrays_unchanged, assert_close, numeric_grad, outputs_scale,
                      relayout, snapshot_arrays)
from layer_registry import BY_NAME, TIME_LAYERS

SPECS = [pytest.param(s, id=s.name) for s in TIME_LAYERS]
LAYOUTS = ("C", "F", "strided", "time-major", "float16-in", "other-float-in")


def _states(spec, rng, N, H, dtype):
    return [(0.5 * rng.standard_normal((N, H))).astype(dtype) for _ in spec.state_names()]


def _run(spec, cls, params, xs, dhs, states=None):
    """One forward+backward of ``cls``, stateful from ``states`` if given;
    returns the layer's outputs (see ``Spec.outputs``)."""
    layer = cls(*params, stateful=states is not None)
    if states is not None:
        spec.set_state(layer, states)
    hs = layer.forward(xs)
    dxs = layer.backward(dhs)
    return spec.outputs(layer, hs, dxs)


def _assert_matches_reference(spec, params, xs, dhs, states, actual):
    """``actual`` against the reference of the params' dtype and the exact
    (float64) result, as ``conftest.assert_close`` defines."""
    expected = _run(spec, spec.ref, params, xs, dhs, states)
    wide = lambda arrays: None if arrays is None else [a.astype(np.float64) for a in arrays]
    exact = _run(spec, spec.ref, wide(params), xs.astype(np.float64), dhs.astype(np.float64),
                 wide(states))
    scale = outputs_scale(exact)
    for name, a, e, x in zip(spec.output_names(), actual, expected, exact):
        assert_close(a, e, f"{spec.name} {name}", exact=x, scale=scale)


def _problem(spec, N, T, D, H, dtype, seed):
    rng = np.random.default_rng(seed)
    params = spec.params(rng, D, H, dtype)
    xs = rng.standard_normal((N, T, D)).astype(dtype)
    dhs = rng.standard_normal((N, T, H)).astype(dtype)
    return rng, params, xs, dhs


@settings(max_examples=60)
@given(spec=st.sampled_from(TIME_LAYERS), N=st.integers(1, 24), T=st.integers(1, 60),
       D=st.integers(1, 40), H=st.integers(1, 40),
       dtype=st.sampled_from([np.float32, np.float64]), layout=st.sampled_from(LAYOUTS),
       stateful=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_matches_reference(spec, N, T, D, H, dtype, layout, stateful, seed):
    rng, params, xs, dhs = _problem(spec, N, T, D, H, dtype, seed)
    other = np.float64 if dtype == np.float32 else np.float32
    if layout.endswith("-in"):  # both sides see the same rounded values
        narrow = np.float16 if layout == "float16-in" else np.float32
        xs, dhs = xs.astype(narrow).astype(dtype), dhs.astype(narrow).astype(dtype)
    states = None
    if stateful:
        states = [s.astype(np.float16).astype(dtype) for s in _states(spec, rng, N, H, dtype)]
    layer = spec.fast(*params, stateful=stateful)
    if stateful:
        spec.set_state(layer, [relayout(s, layout, other) for s in states])
    hs = layer.forward(relayout(xs, layout, other))
    dxs = layer.backward(relayout(dhs, layout, other))
    actual = spec.outputs(layer, hs, dxs)
    for a in actual:
        assert a.dtype == np.dtype(dtype) and a.flags.c_contiguous
    _assert_matches_reference(spec, params, xs, dhs, states, actual)


# (N, H) of each time-loop path (see fastrnn.tuning), for every cell.
PATH_SHAPES = {"one_row": [(1, 1), (1, 9), (1, 64)], "small": [(1, 65), (3, 16), (2, 96)],
               "large": [(40, 130), (1, 600)]}


def _paths(spec, N, T, H, dtype):
    """The paths the forward and the backward loop of ``spec`` take."""
    return {recurrent.loop_path(loops, N, T, H, spec.gates, np.dtype(dtype), reverse)
            for loops, reverse in ((spec.fast.cell.forward, False),
                                   (spec.fast.cell.backward, True))}


# Backwards over fewer steps than this multiply by the transposed view of Wh,
# over more by a C-contiguous copy: every path is tested with both.
FEW, MANY = _tuning.TRANSPOSED_COPY_MIN_STEPS - 1, _tuning.TRANSPOSED_COPY_MIN_STEPS


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("steps", ["few", "many"])
@pytest.mark.parametrize("path", list(PATH_SHAPES))
@pytest.mark.parametrize("spec", SPECS)
def test_every_time_loop_path_matches_reference(spec, path, steps, dtype):
    for N, H in PATH_SHAPES[path]:
        T = FEW if steps == "few" else MANY if path == "large" else 40
        assert _paths(spec, N, T, H, dtype) == {path}
        rng, params, xs, dhs = _problem(spec, N, T, 7, H, dtype, seed=N * H)
        states = _states(spec, rng, N, H, dtype)
        layer = spec.fast(*params, stateful=True)
        spec.set_state(layer, states)
        actual = spec.outputs(layer, layer.forward(xs), layer.backward(dhs))
        _assert_matches_reference(spec, params, xs, dhs, states, actual)


# The own-product loops (fastrnn's own product, float32 only): (N, T, H) with
# partial blocks of 4 rows and 4 columns, forward and backward both on them
# (the forward needs OWN_FORWARD.min_steps), and T = 1 (backward only).
OWN_SPECS = [pytest.param(s, id=s.name) for s in TIME_LAYERS if s.fast.cell.forward.own]
OWN_SHAPES = [(7, 16, 257), (2, 20, 512), (30, 17, 130)]


@pytest.fixture
def own_calls(monkeypatch):
    """Count the time loops dispatched on each path, and the calls that reach
    a cell's ``own`` loop, by direction."""
    calls = {"paths": [], "own": 0}
    real = recurrent.run_loop

    def spy(loops, path, args, n_steps, reverse=False):
        calls["paths"].append(("backward" if reverse else "forward", path.value))
        if loops.own is not None:
            def own(*a):
                calls["own"] += 1
                return real_own(*a)
            real_own = loops.own
            loops = loops._replace(own=own)
        return real(loops, path, args, n_steps, reverse)
    monkeypatch.setattr(recurrent, "run_loop", spy)
    return calls


@pytest.mark.parametrize("spec", OWN_SPECS)
def test_own_product_loops_run_and_match_reference(spec, own_calls):
    for N, T, H in OWN_SHAPES:
        assert _paths(spec, N, T, H, np.float32) == {"own"}
        rng, params, xs, dhs = _problem(spec, N, T, 7, H, np.float32, seed=N * H)
        states = _states(spec, rng, N, H, np.float32)
        layer = spec.fast(*params, stateful=True)
        spec.set_state(layer, states)
        actual = spec.outputs(layer, layer.forward(xs), layer.backward(dhs))
        _assert_matches_reference(spec, params, xs, dhs, states, actual)
    assert own_calls["paths"] == [("forward", "own"), ("backward", "own")] * len(OWN_SHAPES)
    assert own_calls["own"] == 2 * len(OWN_SHAPES)


@pytest.mark.parametrize("spec", OWN_SPECS)
def test_own_product_backward_of_one_step_matches_reference(spec, own_calls, rng):
    """A one-step layer (T = 1) runs its backward on the own product."""
    N, H = 7, 130
    params = spec.params(rng, 5, H, np.float32)
    states = _states(spec, rng, N, H, np.float32)
    x = rng.standard_normal((N, 5)).astype(np.float32)
    douts = _states(spec, rng, N, H, np.float32)
    fast, ref = spec.step(*params), spec.ref_step(*params)
    actual = [fast.forward(x, *states), fast.backward(*douts), fast.grads]
    expected = [ref.forward(x, *states), ref.backward(*douts), ref.grads]
    for a, e in zip(sum(map(list, actual), []), sum(map(list, expected), [])):
        assert_close(a, e)
    assert own_calls["paths"][1] == ("backward", "own") and own_calls["own"] == 1


def test_own_product_bilstm_matches_reference(own_calls, rng):
    N, T, H = 7, 16, 257
    params = _bilstm_params(rng, 5, H, np.float32)
    xs = rng.standard_normal((N, T, 5)).astype(np.float32)
    dhs = rng.standard_normal((N, T, 2 * H)).astype(np.float32)
    fast, ref = fastrnn.TimeBiLSTM(*params), reference.TimeBiLSTM(*params)
    assert_close(fast.forward(xs), ref.forward(xs), "hs")
    assert_close(fast.backward(dhs), ref.backward(dhs), "dxs")
    for a, e in zip(fast.grads, ref.grads):
        assert_close(a, e, "grads")
    assert own_calls["own"] == 4


@pytest.mark.parametrize("N, T", [(0, 4), (3, 0), (0, 0)])
@pytest.mark.parametrize("spec", SPECS)
def test_empty_batches(spec, N, T):
    rng, params, xs, dhs = _problem(spec, N, T, 3, 4, np.float64, seed=1)
    layer = spec.fast(*params)
    hs = layer.forward(xs)
    dxs = layer.backward(dhs)
    assert hs.shape == (N, T, 4) and dxs.shape == (N, T, 3)
    assert not any(g.any() for g in layer.grads)
    assert layer.dh.shape == (N, 4) and not layer.dh.any()


def test_long_lstm_sequence(rng):
    """T in the thousands, float32: c accumulates over all steps."""
    spec = BY_NAME["TimeLSTM"]
    rng, params, xs, dhs = _problem(spec, 2, 2000, 10, 12, np.float32, seed=5)
    layer = spec.fast(*params)
    actual = spec.outputs(layer, layer.forward(xs), layer.backward(dhs))
    _assert_matches_reference(spec, params, xs, dhs, None, actual)


# --- gradients -------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS)
def test_time_layer_gradients_match_central_differences(spec):
    rng = np.random.default_rng(2)
    N, T, D, H = 2, 4, 3, 3
    params = spec.params(rng, D, H, np.float64, contractive=False)
    xs = rng.standard_normal((N, T, D))
    states = _states(spec, rng, N, H, np.float64)
    g = rng.standard_normal((N, T, H))
    probe = spec.fast(*params, stateful=True)  # reads the same arrays

    def loss():
        spec.set_state(probe, states)
        return float(np.sum(probe.forward(xs) * g))

    layer = spec.fast(*params, stateful=True)
    spec.set_state(layer, states)
    layer.forward(xs)
    dxs = layer.backward(g)
    analytic = dict(zip(("Wx", "Wh", "b"), (gr.copy() for gr in layer.grads)),
                    xs=dxs, h0=layer.dh)
    for name, arr in dict(zip(("Wx", "Wh", "b"), params), xs=xs, h0=states[0]).items():
        np.testing.assert_allclose(analytic[name], numeric_grad(loss, arr), rtol=1e-6,
                                   atol=1e-8, err_msg=f"{spec.name} {name}")


@pytest.mark.parametrize("spec", SPECS)
def test_step_layer_matches_reference_and_central_differences(spec):
    rng = np.random.default_rng(3)
    N, D, H = 3, 4, 5
    for dtype in (np.float32, np.float64):
        params = spec.params(rng, D, H, dtype)
        x = rng.standard_normal((N, D)).astype(dtype)
        states = _states(spec, rng, N, H, dtype)
        douts = [rng.standard_normal((N, H)).astype(dtype) for _ in states]
        fast, ref = spec.step(*params), spec.ref_step(*params)
        # views of the states: the book passes slices
        got = fast.forward(x, *[s[:, ::-1][:, ::-1] for s in states])
        want = ref.forward(x, *states)
        got, want = (got, want) if spec.has_c else ((got,), (want,))
        for a, e in zip(got, want):
            assert_close(a, e, f"{spec.name} step forward")
        back, back_ref = fast.backward(*douts), ref.backward(*douts)
        for a, e in zip(back, back_ref):
            assert_close(a, e, f"{spec.name} step backward")
        for a, e in zip(fast.grads, ref.grads):
            assert_close(a, e, f"{spec.name} step grads")
    if spec.has_c:  # dc_prev, which no time layer exposes, by central differences
        params = spec.params(rng, D, H, np.float64, contractive=False)
        x = rng.standard_normal((N, D))
        h, c = _states(spec, rng, N, H, np.float64)
        gh, gc = rng.standard_normal((N, H)), rng.standard_normal((N, H))
        step = spec.step(*params)
        step.forward(x, h, c)
        _, _, dc_prev = step.backward(gh, gc)

        def loss():
            h_next, c_next = spec.step(*params).forward(x, h, c)
            return float(np.sum(h_next * gh) + np.sum(c_next * gc))
        np.testing.assert_allclose(dc_prev, numeric_grad(loss, c), rtol=1e-6, atol=1e-8)


# --- state -----------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS)
def test_stateful_blocks_equal_one_long_sequence(spec):
    rng, params, xs, _ = _problem(spec, 3, 30, 5, 6, np.float64, seed=4)
    whole = spec.fast(*params, stateful=True).forward(xs)
    blocks = spec.fast(*params, stateful=True)
    parts = [blocks.forward(xs[:, t:t + 10]) for t in range(0, 30, 10)]
    np.testing.assert_allclose(np.concatenate(parts, axis=1), whole, rtol=1e-12, atol=1e-12)
    blocks.reset_state()
    np.testing.assert_allclose(blocks.forward(xs[:, :10]), whole[:, :10], rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("spec", SPECS)
def test_not_stateful_ignores_the_held_state(spec):
    rng, params, xs, _ = _problem(spec, 2, 5, 3, 4, np.float64, seed=6)
    layer = spec.fast(*params)
    first = layer.forward(xs)
    spec.set_state(layer, _states(spec, rng, 2, 4, np.float64))
    np.testing.assert_array_equal(layer.forward(xs), first)


def test_lstm_set_state_semantics():
    """set_state(h) starts from h and a zero c (the book's seq2seq decoder);
    set_state(h, c) from both; views such as hs[:, -1, :] are fine."""
    spec = BY_NAME["TimeLSTM"]
    rng, params, xs, _ = _problem(spec, 3, 6, 4, 5, np.float64, seed=7)
    enc = spec.fast(*params)
    h_view = enc.forward(xs)[:, -1, :]  # non-contiguous
    c = rng.standard_normal((3, 5))
    for states in ([h_view], [h_view, c]):
        fast = spec.fast(*params, stateful=True)
        fast.set_state(*states)
        ref = spec.ref(*params, stateful=True)
        ref.set_state(*[np.array(s) for s in states])
        assert_close(fast.forward(xs), ref.forward(xs), f"hs from {len(states)} states")
        assert_close(fast.c, ref.c, "c")
    zero_c = spec.fast(*params, stateful=True)
    zero_c.set_state(h_view, np.zeros((3, 5)))
    only_h = spec.fast(*params, stateful=True)
    only_h.set_state(h_view)
    assert only_h.c is None
    np.testing.assert_array_equal(only_h.forward(xs), zero_c.forward(xs))
    only_h.reset_state()
    assert only_h.h is None and only_h.c is None


# --- bad input ---------------------------------------------------------------


def _used_layer(spec, rng, N=2, T=5, D=4, H=3):
    params = spec.params(rng, D, H, np.float32)
    layer = spec.fast(*params, stateful=True)
    layer.forward(rng.standard_normal((N, T, D)).astype(np.float32))
    layer.backward(rng.standard_normal((N, T, H)).astype(np.float32))
    return layer


@pytest.mark.parametrize("spec", SPECS)
def test_bad_input_raises_naming_it_and_changes_nothing(spec, rng):
    layer = _used_layer(spec, rng)
    snap = snapshot_arrays(layer)
    bad_calls = [
        (lambda: layer.forward(np.zeros((2, 5, 5), np.float32)), ValueError,
         r"xs must have shape \(\?, \?, 4\), got shape \(2, 5, 5\)"),
        (lambda: layer.forward(np.zeros((2, 5, 4), np.int32)), TypeError,
         "xs must be a floating-point array"),
        (lambda: layer.forward(np.zeros((3, 5, 4), np.float32)), ValueError,
         r"hidden state h of shape \(2, 3\).*batch size 3; call reset_state\(\)"),
        (lambda: layer.backward(np.zeros((2, 5, 4), np.float32)), ValueError,
         r"dhs must have shape \(2, 5, 3\)"),
        (lambda: layer.set_state(np.zeros((2, 4), np.float32)), ValueError,
         r"h must have shape \(\?, 3\)"),
    ]
    if spec.has_c:
        bad_calls.append((lambda: layer.set_state(np.zeros((2, 3)), np.zeros((3, 3))),
                          ValueError, r"c must have shape \(2, 3\)"))
    for call, exc, match in bad_calls:
        with pytest.raises(exc, match=match):
            call()
        assert_arrays_unchanged(layer, snap)


@pytest.mark.parametrize("spec", SPECS)
def test_bad_params_name_the_gate_layout(spec):
    G, D, H = spec.gates, 4, 3
    gh = "H" if G == 1 else f"{G}H"
    cases = [
        ((np.zeros((D, G * H)), np.zeros((H + 1, G * H)), np.zeros(G * H)), ValueError,
         rf"Wh must be .*\(H, {gh}\)" if G > 1 else r"Wh must be square \(H, H\)"),
        ((np.zeros((D, G * H)), np.zeros((H, G * H)), np.zeros(G * H + 1)), ValueError,
         rf"b must have shape \({gh},\) = \({G * H},\)"),
        ((np.zeros((D, G * H), np.float32), np.zeros((H, G * H)), np.zeros(G * H)), TypeError,
         r"Wh must have the dtype of Wx \(float32\)"),
    ]
    if G > 1:
        cases.append(((np.zeros((D, G * H + 1)), np.zeros((H, G * H)), np.zeros(G * H)),
                      ValueError, rf"not a multiple of {G}"))
    for cls in (spec.fast, spec.step):
        for params, exc, match in cases:
            with pytest.raises(exc, match=match):
                cls(*params)


@pytest.mark.parametrize("spec", SPECS)
def test_backward_before_forward(spec, rng):
    params = spec.params(rng, 4, 3, np.float32)
    layer = spec.fast(*params)
    with pytest.raises(RuntimeError, match=rf"{spec.name}.backward\(\) called before forward"):
        layer.backward(np.zeros((2, 5, 3), np.float32))
    assert layer.dh is None and not any(g.any() for g in layer.grads)
    step = spec.step(*params)
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward"):
        step.backward(*[np.zeros((2, 3), np.float32)] * len(spec.state_names()))


def _replaced(p, change):
    """A new array for param ``p`` (float32) with another dtype, shape or both,
    and the change the error must name."""
    shape = (p.shape[0] + 1,) + p.shape[1:]
    if change == "dtype":
        return p.astype(np.float64), "dtype float64, forward ran with float32"
    if change == "shape":
        return np.zeros(shape, p.dtype), f"shape {shape}, forward ran with {p.shape}"
    return (np.zeros(shape, np.float64),
            f"shape {shape} and dtype float64, forward ran with shape {p.shape} and "
            "dtype float32")


def _check_replacement_is_refused(layers, params, index, name, change, backward):
    """Replace ``params[index]`` of a layer that has run forward; its backward
    must name the change and leave the params, grads and states of ``layers``
    as they were."""
    snaps = [(layer, snapshot_arrays(layer)) for layer in layers]
    good = params[index]
    params[index], change_text = _replaced(good, change)
    with pytest.raises(ValueError) as e:
        backward()
    assert str(e.value) == f"params changed since forward: {name} now has {change_text}"
    params[index] = good
    for layer, snap in snaps:
        assert_arrays_unchanged(layer, snap)
    backward()  # the forward's tape survived


CHANGES = ["dtype", "shape", "dtype and shape"]
PARAM_NAMES = list(enumerate(("Wx", "Wh", "b")))


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("index, name", PARAM_NAMES)
@pytest.mark.parametrize("spec", SPECS)
def test_param_replaced_between_forward_and_backward_is_named(spec, index, name, change, rng):
    layer = _used_layer(spec, rng)
    layer.forward(rng.standard_normal((2, 5, 4)).astype(np.float32))
    dhs = rng.standard_normal((2, 5, 3)).astype(np.float32)
    _check_replacement_is_refused([layer], layer.params, index, name, change,
                                  lambda: layer.backward(dhs))


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("index, name", PARAM_NAMES)
@pytest.mark.parametrize("spec", SPECS)
def test_step_param_replaced_between_forward_and_backward_is_named(spec, index, name, change,
                                                                   rng):
    step = spec.step(*spec.params(rng, 4, 3, np.float32))
    states = [rng.standard_normal((2, 3)).astype(np.float32) for _ in spec.state_names()]
    step.forward(rng.standard_normal((2, 4)).astype(np.float32), *states)
    step.backward(*states)
    _check_replacement_is_refused([step], step.params, index, name, change,
                                  lambda: step.backward(*states))


# (the list holding the param, its index there, the param's position of six)
BILSTM_PLACES = ([("TimeBiLSTM.params", k, k) for k in range(6)]
                 + [("forward_lstm", k, k) for k in range(3)]
                 + [("backward_lstm", k, k + 3) for k in range(3)])


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("where, index, position", BILSTM_PLACES)
def test_bilstm_param_replaced_between_forward_and_backward_is_named(where, index, position,
                                                                     change, rng):
    layer = fastrnn.TimeBiLSTM(*_bilstm_params(rng, 4, 3, np.float32))
    xs = rng.standard_normal((2, 5, 4)).astype(np.float32)
    dhs = rng.standard_normal((2, 5, 6)).astype(np.float32)
    layer.forward(xs)
    layer.backward(dhs)
    layer.forward(xs)
    params = layer.params if where == "TimeBiLSTM.params" else getattr(layer, where).params
    name = ("Wx", "Wh", "b")[position % 3] + str(position // 3 + 1)
    _check_replacement_is_refused([layer, layer.forward_lstm, layer.backward_lstm], params,
                                  index, name, change, lambda: layer.backward(dhs))


def test_lstm_step_names_c_prev_and_dc_next(rng):
    step = fastrnn.LSTM(*BY_NAME["TimeLSTM"].params(rng, 4, 3, np.float64))
    with pytest.raises(ValueError, match=r"c_prev must have shape \(2, 3\)"):
        step.forward(np.zeros((2, 4)), np.zeros((2, 3)), np.zeros((2, 4)))
    assert step.cache is None
    step.forward(np.zeros((2, 4)), np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(TypeError, match="dc_next must be a numpy.ndarray"):
        step.backward(np.zeros((2, 3)), None)


# --- pickling and threads ------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS)
def test_pickled_layer_carries_on_exactly(spec, rng):
    layer = _used_layer(spec, rng)
    xs = rng.standard_normal((2, 5, 4)).astype(np.float32)
    dhs = rng.standard_normal((2, 5, 3)).astype(np.float32)
    layer.forward(xs)
    copy = pickle.loads(pickle.dumps(layer))
    for a, b in ((layer.backward(dhs), copy.backward(dhs)),
                 (layer.forward(xs), copy.forward(xs))):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(layer.grads + [layer.dh], copy.grads + [copy.dh]):
        np.testing.assert_array_equal(a, b)


def _work(spec, seed, barrier=None):
    N, T, D, H = (3, 40, 8, 16) if seed % 2 else (8, 6, 24, 140)  # small and large paths
    rng, params, xs, dhs = _problem(spec, N, T, D, H, np.float32, seed)
    layer = spec.fast(*params, stateful=True)
    if barrier is not None:
        barrier.wait()
    out = []
    for _ in range(3):
        out.append(layer.forward(xs))
        out.append(layer.backward(dhs))
        out.extend(g.copy() for g in layer.grads)
    return out


@pytest.mark.parametrize("spec", SPECS)
def test_threads_match_serial(spec):
    """4 threads, each with its own layer, at once: bitwise the serial results."""
    seeds = [1, 2, 3, 4]
    serial = [_work(spec, s) for s in seeds]
    barrier = threading.Barrier(len(seeds))
    with ThreadPoolExecutor(max_workers=len(seeds)) as pool:
        threaded = [f.result(timeout=120)
                    for f in [pool.submit(_work, spec, s, barrier) for s in seeds]]
    for got, want in zip(threaded, serial):
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)


# --- TimeBiLSTM ------------------------------------------------------------------


def _bilstm_params(rng, D, H, dtype):
    spec = BY_NAME["TimeLSTM"]
    return list(spec.params(rng, D, H, dtype)) + list(spec.params(rng, D, H, dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bilstm_matches_reference(dtype, rng):
    params = _bilstm_params(rng, 5, 4, dtype)
    xs = rng.standard_normal((3, 7, 5)).astype(dtype)
    dhs = rng.standard_normal((3, 7, 8)).astype(dtype)
    fast, ref = fastrnn.TimeBiLSTM(*params), reference.TimeBiLSTM(*params)
    assert all(a is b for a, b in zip(fast.params, params))
    assert all(a is b for a, b in zip(fast.grads[:3], fast.forward_lstm.grads))
    assert all(a is b for a, b in zip(fast.grads[3:], fast.backward_lstm.grads))
    hs = fast.forward(xs[:, :, ::-1][:, :, ::-1])
    assert_close(hs, ref.forward(xs), "hs")
    assert_close(fast.backward(dhs), ref.backward(dhs), "dxs")
    for a, e in zip(fast.grads, ref.grads):
        assert_close(a, e, "grads")


def test_bilstm_second_half_reads_the_sequence_reversed(rng):
    params = _bilstm_params(rng, 3, 2, np.float64)
    xs = rng.standard_normal((2, 6, 3))
    hs = fastrnn.TimeBiLSTM(*params).forward(xs)
    back = fastrnn.TimeLSTM(*params[3:]).forward(np.ascontiguousarray(xs[:, ::-1]))
    np.testing.assert_allclose(hs[:, :, 2:], back[:, ::-1], rtol=1e-13, atol=1e-13)


def test_bilstm_bad_input_changes_nothing(rng):
    params = _bilstm_params(rng, 3, 2, np.float32)
    layer = fastrnn.TimeBiLSTM(*params, stateful=True)
    layer.forward(rng.standard_normal((2, 4, 3)).astype(np.float32))
    h_before = [layer.forward_lstm.h.copy(), layer.backward_lstm.h.copy()]
    with pytest.raises(ValueError, match="batch size 3"):
        layer.forward(np.zeros((3, 4, 3), np.float32))
    with pytest.raises(ValueError, match=r"dhs must have shape \(2, 4, 4\)"):
        layer.backward(np.zeros((2, 4, 2), np.float32))
    np.testing.assert_array_equal(layer.forward_lstm.h, h_before[0])
    np.testing.assert_array_equal(layer.backward_lstm.h, h_before[1])
    # a check of the second LSTM fails: the first one's grads and dh stay as they were
    layer.backward(np.ones((2, 4, 4), np.float32))
    before = [g.copy() for g in layer.grads] + [layer.forward_lstm.dh.copy()]
    good = layer.params[4]
    layer.backward_lstm.params[1] = good.astype(np.float64)
    with pytest.raises(ValueError, match="params changed since forward: Wh2 now has dtype "
                                         "float64, forward ran with float32"):
        layer.backward(np.zeros((2, 4, 4), np.float32))
    layer.backward_lstm.params[1] = good
    for a, b in zip(layer.grads + [layer.forward_lstm.dh], before):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="Wx2 must have the shape and dtype of Wx1"):
        fastrnn.TimeBiLSTM(*params[:3], *_bilstm_params(rng, 4, 2, np.float32)[3:])
    with pytest.raises(RuntimeError, match="before forward"):
        fastrnn.TimeBiLSTM(*params).backward(np.zeros((2, 4, 4), np.float32))
