"""The book's chapter-6 models (``Rnnlm``, ``BetterRnnlm``) on fastrnn's layers
train as on the book's numpy layers (``backend="numpy"``)."""

from __future__ import annotations

import numpy as np
import pytest

from fastrnn.lm import SGD, BetterRnnlm, Rnnlm, SharedParams, clip_grads

V, D, H, N, T = 30, 8, 8, 4, 5


def _models(cls, **kw):
    return [cls(V, D, H, backend=b, rng=np.random.default_rng(0), **kw)
            for b in ("fastrnn", "numpy")]


def _train(model, batches, seeds):
    """SGD steps with clipping, the book's way; returns the losses. Each
    step re-seeds numpy's global generator, which the dropout layers draw from."""
    shared = SharedParams(model.params)
    sgd = SGD(lr=1.0)
    losses = []
    for (xs, ts), seed in zip(batches, seeds):
        np.random.seed(seed)
        losses.append(model.forward(xs, ts))
        model.backward()
        grads = shared.grads(model.grads)
        clip_grads(grads, 0.25)
        sgd.update(shared.params, grads)
    return np.array(losses)


def _batches(k=6):
    rng = np.random.default_rng(1)
    ids = rng.integers(0, V, (k, N, T + 1))
    return [(b[:, :-1], b[:, 1:]) for b in ids]


@pytest.mark.parametrize("cls, kw", [(Rnnlm, {}), (BetterRnnlm, {"dropout_ratio": 0.0}),
                                     (BetterRnnlm, {"dropout_ratio": 0.5})])
def test_fastrnn_and_numpy_layers_train_alike(cls, kw):
    """Same losses step by step, dropout off and on (same masks: the same
    seeded draws)."""
    fast, ref = _models(cls, **kw)
    for a, b in zip(fast.params, ref.params):
        np.testing.assert_array_equal(a, b)
    batches, seeds = _batches(), range(6)
    got, want = _train(fast, batches, seeds), _train(ref, batches, seeds)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert got[-1] < got[0]  # it learns
    for name, a, b in zip(fast.names, fast.params, ref.params):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=name)


def test_better_rnnlm_ties_and_drops():
    model = BetterRnnlm(V, D, H, dropout_ratio=0.5, rng=np.random.default_rng(0))
    assert np.shares_memory(model.layers[-1].params[0], model.layers[0].params[0])
    xs = _batches(1)[0][0]
    masked = []
    for seed in (0, 1, 0):
        model.reset_state()
        np.random.seed(seed)
        masked.append(model.predict(xs, train_flg=True))
    assert not np.allclose(masked[0], masked[1])  # other masks
    np.testing.assert_array_equal(masked[0], masked[2])  # the same masks
    model.reset_state()
    c = model.predict(xs)
    model.reset_state()
    np.testing.assert_array_equal(model.predict(xs), c)  # no dropout, same state
    with pytest.raises(ValueError, match="wordvec_size == hidden_size"):
        BetterRnnlm(V, D, H + 1)


@pytest.mark.parametrize("cls", [Rnnlm, BetterRnnlm])
def test_save_and_load_round_trip(cls, tmp_path):
    fast, ref = _models(cls)
    _train(fast, _batches(2), range(2))
    fast.save_params(tmp_path / "m.npz")
    ref.load_params(tmp_path / "m.npz")
    for a, b in zip(fast.params, ref.params):
        np.testing.assert_array_equal(a, b)
    fast.reset_state()
    xs = _batches(1)[0][0]
    np.testing.assert_allclose(fast.predict(xs), ref.predict(xs), rtol=1e-4, atol=1e-6)
    names = set(np.load(tmp_path / "m.npz").files)
    assert ("affine_W" in names) == (cls is Rnnlm)  # tied weights are stored once
