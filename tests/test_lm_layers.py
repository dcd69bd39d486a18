"""fastrnn.lm layers, model, optimizers and parameter files."""

import json
import stat

import numpy as np
import pytest

from fastrnn import reference
from fastrnn.lm.layers import TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss
from fastrnn.lm.model import ParamsFileError, SimpleRnnlm, checkpoint_meta, read_params_file
from fastrnn.lm.optim import SGD, Adam, SharedParams, clip_grads
from conftest import assert_close, numeric_grad




@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_matches_reference_with_repeated_ids(rng, dtype):
    W = rng.standard_normal((7, 4)).astype(dtype)
    ids = np.array([[1, 1, 3], [3, 1, 0]])  # repeated ids, within and across rows
    dout = rng.standard_normal((2, 3, 4)).astype(dtype)
    fast, ref = TimeEmbedding(W), reference.TimeEmbedding(W)
    assert_close(fast.forward(ids), ref.forward(ids))
    assert fast.backward(dout) is None
    ref.backward(dout)
    assert_close(fast.grads[0], ref.grads[0])
    expected = np.zeros_like(W)
    for n in range(2):
        for t in range(3):
            expected[ids[n, t]] += dout[n, t]
    assert_close(fast.grads[0], expected)


def test_affine_and_softmax_match_reference_and_finite_differences(rng):
    N, T, D, V = 3, 4, 5, 6
    W, b = rng.standard_normal((D, V)), rng.standard_normal(V)
    x = rng.standard_normal((N, T, D))
    ts = rng.integers(0, V, (N, T))
    ts[1, 2] = -1  # ignored
    fast_aff, ref_aff = TimeAffine(W, b), reference.TimeAffine(W, b)
    fast_loss, ref_loss = TimeSoftmaxWithLoss(), reference.TimeSoftmaxWithLoss()
    scores = fast_aff.forward(x)
    assert_close(scores, ref_aff.forward(x))
    loss = fast_loss.forward(scores, ts)
    np.testing.assert_allclose(loss, ref_loss.forward(scores, ts), rtol=1e-12)
    dscores = fast_loss.backward(1.0)
    assert_close(dscores, ref_loss.backward(1.0))
    dx = fast_aff.backward(dscores)
    assert_close(dx, ref_aff.backward(dscores))
    for g, r in zip(fast_aff.grads, ref_aff.grads):
        assert_close(g, r)

    def total():
        return TimeSoftmaxWithLoss().forward(TimeAffine(W, b).forward(x), ts)

    for analytic, arr in [(fast_aff.grads[0], W), (fast_aff.grads[1], b), (dx, x)]:
        np.testing.assert_allclose(analytic, numeric_grad(total, arr), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "transposed"])
def test_affine_backward_through_softmax_matches_the_reference_chain(rng, dtype, layout):
    """backward_through(loss) == the book's loss.backward then affine.backward,
    with repeated targets, dout != 1 and W as given or a transposed view (tied
    weights); with an ignored target (-1) as well, which takes the plain chain.
    The loss's cache comes back unchanged: a second call gives the same."""
    N, T, D, V = 3, 5, 4, 7
    W = rng.standard_normal((D, V)).astype(dtype)
    if layout == "transposed":
        W = np.ascontiguousarray(W.T).T
    b = rng.standard_normal(V).astype(dtype)
    x = rng.standard_normal((N, T, D)).astype(dtype)
    ts = rng.integers(0, 3, (N, T))  # few ids: many repeats
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-14}
    for ignored in (False, True):
        if ignored:
            ts[2, 1] = -1
        fast_aff, ref_aff = TimeAffine(W, b), reference.TimeAffine(W, b)
        fast_loss, ref_loss = TimeSoftmaxWithLoss(), reference.TimeSoftmaxWithLoss()
        fast_loss.forward(fast_aff.forward(x), ts)
        ref_loss.forward(ref_aff.forward(x), ts)
        ref_dx = ref_aff.backward(ref_loss.backward(0.7))
        for _ in range(2):
            dx = fast_aff.backward_through(fast_loss, 0.7)
            assert dx.shape == x.shape and dx.dtype == dtype
            np.testing.assert_allclose(dx, ref_dx, **tol)
            for g, r in zip(fast_aff.grads, ref_aff.grads):
                np.testing.assert_allclose(g, r, **tol)


@pytest.mark.parametrize("rows", [1, 3, 8, 40])  # below and above D = 8: both ways of adding b
@pytest.mark.parametrize("tied", [False, True])
def test_affine_matches_the_reference_with_few_and_many_rows(rng, rows, tied):
    from fastrnn.tuning import bias_in_product
    D, M = 8, 11
    W = rng.standard_normal((M, D)).T if tied else rng.standard_normal((D, M))
    b, x = rng.standard_normal(M), rng.standard_normal((rows, 1, D))
    dout = rng.standard_normal((rows, 1, M))
    fast, ref = TimeAffine(W, b), reference.TimeAffine(W, b)
    assert bias_in_product(rows, D) == (rows >= D)
    assert_close(fast.forward(x), ref.forward(x), "out")
    assert_close(fast.backward(dout), ref.backward(dout), "dx")
    for g, r, name in zip(fast.grads, ref.grads, ("dW", "db")):
        assert_close(g, r, name)


def test_affine_backward_through_checks_before_writing(rng):
    W, b = rng.standard_normal((3, 4)), rng.standard_normal(4)
    aff, loss = TimeAffine(W, b), TimeSoftmaxWithLoss()
    with pytest.raises(RuntimeError, match=r"backward_through\(\) called before forward\(\)"):
        aff.backward_through(loss)
    with pytest.raises(TypeError, match="loss must be a fastrnn.lm.TimeSoftmaxWithLoss, "
                                        "got fastrnn.reference.lm.TimeSoftmaxWithLoss"):
        aff.backward_through(reference.TimeSoftmaxWithLoss())
    out = aff.forward(rng.standard_normal((2, 6, 3)))
    with pytest.raises(RuntimeError, match=r"called before the loss's forward\(\)"):
        aff.backward_through(loss)
    aff.params[0] = rng.standard_normal((5, 4))  # not the W of the forward
    with pytest.raises(ValueError, match=r"W must keep 3 rows, as in the last forward"):
        aff.backward_through(loss)
    with pytest.raises(ValueError, match=r"W must keep 3 rows"):
        aff.backward(np.zeros((2, 6, 4)))
    aff.params[0] = W
    grads_before = [g.copy() for g in aff.grads]
    ts = np.zeros((2, 6), np.int64)
    ts_ignored = ts.copy()
    ts_ignored[0, 0] = -1
    for scores, targets in [(out[:, :4], ts[:, :4]),  # not all of it
                            (out.reshape(6, 2, 4), ts.reshape(6, 2)),  # as many rows, reshaped
                            (out.astype(np.float32), ts),  # another dtype
                            (out.astype(np.float32), ts_ignored)]:  # also with a -1
        loss.forward(scores, targets)
        with pytest.raises(ValueError, match="loss must have been fed this layer's output"):
            aff.backward_through(loss)
    loss.forward(out, ts)
    exps_before = loss._cache[0].copy()
    aff.grads[1] = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match=r"grads \(db\) must stay"):
        aff.backward_through(loss)
    np.testing.assert_array_equal(aff.grads[0], grads_before[0])
    np.testing.assert_array_equal(loss._cache[0], exps_before)


def test_affine_backward_through_restores_the_loss_on_failure(rng, monkeypatch):
    """If a product fails midway, the loss's exps come back as they were and
    both layers are free again."""
    from fastrnn.layers import lm as layers

    class FailingThirdMatmul:
        def __init__(self):
            self.calls = 0

        def __getattr__(self, name):
            return getattr(np, name)

        def matmul(self, *args, **kwargs):
            self.calls += 1
            if self.calls == 3:
                raise MemoryError("injected")
            return np.matmul(*args, **kwargs)

    W, b = rng.standard_normal((3, 4)), rng.standard_normal(4)
    aff, loss = TimeAffine(W, b), TimeSoftmaxWithLoss()
    loss.forward(aff.forward(rng.standard_normal((2, 5, 3))), rng.integers(0, 4, (2, 5)))
    exps_before = loss._cache[0].copy()
    monkeypatch.setattr(layers, "np", FailingThirdMatmul())
    with pytest.raises(MemoryError, match="injected"):
        aff.backward_through(loss)
    monkeypatch.undo()
    np.testing.assert_array_equal(loss._cache[0], exps_before)
    dx = aff.backward_through(loss)  # neither lock is still held
    np.testing.assert_allclose(dx, aff.backward(loss.backward()), rtol=1e-12)


@pytest.mark.parametrize("N, T", [(0, 4), (3, 0)])
def test_lm_layers_take_empty_batches(rng, N, T):
    """No rows: empty outputs, zero grads, NaN loss (no target counts). The
    book's TimeAffine cannot reshape these; ours must not fail either way."""
    V, D = 6, 5
    emb = TimeEmbedding(rng.standard_normal((V, D)).astype(np.float32))
    aff = TimeAffine(rng.standard_normal((D, V)).astype(np.float32),
                     rng.standard_normal(V).astype(np.float32))
    loss = TimeSoftmaxWithLoss()
    for layer in (emb, aff):
        for g in layer.grads:
            g[...] = 1  # so that zeroing them is seen
    ids = np.zeros((N, T), dtype=np.int64)
    scores = aff.forward(emb.forward(ids))
    assert scores.shape == (N, T, V) and scores.dtype == np.float32
    assert np.isnan(loss.forward(scores, ids))
    dscores = loss.backward()
    assert dscores.shape == (N, T, V)
    assert aff.backward(dscores).shape == (N, T, D)
    for g in aff.grads:
        g[...] = 1
    assert aff.backward_through(loss).shape == (N, T, D)
    emb.backward(np.zeros((N, T, D), np.float32))
    assert all(not g.any() for g in emb.grads + aff.grads)


def test_affine_rejects_bad_grads_before_writing_any(rng):
    W, b = rng.standard_normal((3, 4)), rng.standard_normal(4)
    layer = TimeAffine(W, b)
    x = rng.standard_normal((2, 5, 3))
    layer.forward(x)
    dW_before = layer.grads[0].copy()
    for bad in (np.zeros(4, dtype=np.int64), np.zeros(4, dtype=np.float32),
                np.zeros(5), np.zeros(4)[::-1]):
        layer.grads[1] = bad
        with pytest.raises(ValueError, match=r"grads \(db\) must stay a writable C-contiguous"):
            layer.backward(rng.standard_normal((2, 5, 4)))
        np.testing.assert_array_equal(layer.grads[0], dW_before)
    read_only = np.zeros(4)
    read_only.flags.writeable = False
    layer.grads[1] = read_only
    with pytest.raises(ValueError, match=r"grads \(db\)"):
        layer.backward(rng.standard_normal((2, 5, 4)))
    np.testing.assert_array_equal(layer.grads[0], dW_before)


def test_embedding_gradient_by_finite_differences(rng):
    W = rng.standard_normal((5, 3))
    ids = np.array([[0, 2, 2], [4, 2, 0]])
    g = rng.standard_normal((2, 3, 3))
    layer = TimeEmbedding(W)
    layer.forward(ids)
    layer.backward(g)
    numeric = numeric_grad(lambda: float(np.sum(TimeEmbedding(W).forward(ids) * g)), W)
    np.testing.assert_allclose(layer.grads[0], numeric, rtol=1e-7, atol=1e-9)


def test_softmax_is_stable_and_propagates_nan():
    scores = np.array([[[1000.0, 0.0, -1000.0], [np.nan, 0.0, 1.0]]])
    layer = TimeSoftmaxWithLoss()
    with np.errstate(invalid="ignore"):
        loss = layer.forward(scores[:, :1], np.array([[0]]))
    assert loss == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(layer.forward(scores, np.array([[0, 1]])))


def test_softmax_gradient_keeps_its_precision_where_the_target_is_nearly_certain():
    """Where p(target) is near 1, the target's gradient p - 1 is tiny: float32
    keeps it to relative precision (computed as exps - sum), where the book's
    rounded p - 1 is 0, and with one word (V = 1) it is exactly 0."""
    scores = np.array([[[20.0, 0.0], [0.0, 20.0], [3.0, 1.0]]], dtype=np.float32)
    ts = np.array([[0, 1, 0]])
    layer = TimeSoftmaxWithLoss()
    layer.forward(scores, ts)
    ds = layer.backward()
    s64 = scores.astype(np.float64)[0]
    p = np.exp(s64 - s64.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    exact = (p - np.eye(2)[ts[0]]) / 3
    np.testing.assert_allclose(ds[0], exact, rtol=1e-6)  # -2.06e-9 / 3 where p = 1 - 2.06e-9
    one_word = TimeSoftmaxWithLoss()
    one_word.forward(np.array([[[1e30], [-3.0]]], dtype=np.float32), np.zeros((1, 2), np.int64))
    np.testing.assert_array_equal(one_word.backward(), 0)


@pytest.mark.parametrize("bad, exc, match", [
    (np.array([[0, 7]]), ValueError, r"xs holds id 7, outside \[0, 7\)"),
    (np.array([[0, -1]]), ValueError, r"xs holds id -1"),
    (np.array([[0.0, 1.0]]), TypeError, "xs must be an integer array"),
    (np.array([0, 1]), ValueError, "xs must be 2-D"),
])
def test_embedding_rejects_bad_ids(rng, bad, exc, match):
    layer = TimeEmbedding(rng.standard_normal((7, 3)))
    with pytest.raises(exc, match=match):
        layer.forward(bad)


def test_softmax_rejects_bad_targets(rng):
    scores = rng.standard_normal((2, 3, 4))
    with pytest.raises(ValueError, match=r"ts holds id 4, outside \[0, 4\) or -1"):
        TimeSoftmaxWithLoss().forward(scores, np.full((2, 3), 4))
    with pytest.raises(ValueError, match=r"ts must have shape \(2, 3\)"):
        TimeSoftmaxWithLoss().forward(scores, np.zeros((3, 2), int))


def test_optimizers_follow_their_formulas_and_clipping_matches_the_book(rng):
    params = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    # SGD: p - lr * g; Adam (Kingma & Ba, the book's form): moments m and v
    # of the gradient, step lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + 1e-7).
    sgd = [p.copy() for p in params]
    SGD(0.1).update(sgd, grads)
    for got, p, g in zip(sgd, params, grads):
        np.testing.assert_allclose(got, p - 0.1 * g, rtol=1e-15)
    adam, opt = [p.copy() for p in params], Adam(0.01, 0.8, 0.95)
    expected = [p.copy() for p in params]
    m, v = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    for t in range(1, 4):
        opt.update(adam, grads)
        for i, g in enumerate(grads):
            m[i] = 0.8 * m[i] + 0.2 * g
            v[i] = 0.95 * v[i] + 0.05 * g * g
            step = 0.01 * np.sqrt(1 - 0.95 ** t) / (1 - 0.8 ** t)
            expected[i] -= step * m[i] / (np.sqrt(v[i]) + 1e-7)
    for got, want in zip(adam, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    g1, g2 = [g.copy() for g in grads], [g.copy() for g in grads]
    clip_grads(g1, 0.5)
    reference.clip_grads(g2, 0.5)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert np.sqrt(sum(np.sum(g * g) for g in g1)) == pytest.approx(0.5, rel=1e-5)


def test_tied_weights_merge_gradients_as_the_book_does(rng):
    model = SimpleRnnlm(11, 6, 6, tied=True, rng=rng)
    W = model.params[0]
    assert model.params[4].base is W
    shared = SharedParams(model.params)
    assert len(shared.params) == 5 and shared.params[0] is W
    xs, ts = rng.integers(0, 11, (2, 3)), rng.integers(0, 11, (2, 3))
    model.forward(xs, ts)
    model.backward()
    expected = model.grads[0] + model.grads[4].T
    merged = shared.grads(model.grads)
    np.testing.assert_allclose(merged[0], expected)


@pytest.mark.parametrize("through", [False, True], ids=["chain", "backward_through"])
@pytest.mark.parametrize("tied", [False, True])
def test_fastrnn_and_numpy_backends_train_alike(tied, through, monkeypatch):
    """Also with the output layer's backward through the loss, which the
    model otherwise takes only for large vocabularies and batches."""
    from fastrnn.lm import model as model_module
    from fastrnn.lm.data import BPTTBatcher
    monkeypatch.setattr(model_module, "THROUGH_MIN_SCORES", 0 if through else 1 << 62)
    rng = np.random.default_rng(0)
    corpus = np.tile(rng.permutation(40), 30)
    losses = {}
    for backend in ("numpy", "fastrnn"):
        model = SimpleRnnlm(40, 16, 16, tied=tied, backend=backend,
                            rng=np.random.default_rng(1))
        batcher, opt = BPTTBatcher(corpus, 4, 5), SGD(0.5)
        shared = SharedParams(model.params)
        run = []
        for _ in range(50):
            xs, ts = batcher.next_batch()
            run.append(model.forward(xs, ts))
            model.backward()
            opt.update(shared.params, shared.grads(model.grads))
        losses[backend] = np.array(run)
        assert model._through == (through and backend == "fastrnn")
    assert losses["numpy"][-1] < 0.9 * losses["numpy"][0]  # it learns
    np.testing.assert_allclose(losses["fastrnn"], losses["numpy"], rtol=2e-4)


def test_model_goes_through_the_loss_from_the_threshold_on(rng):
    from fastrnn.lm.model import THROUGH_MIN_SCORES
    V = THROUGH_MIN_SCORES // 8
    for backend in ("fastrnn", "numpy"):
        model = SimpleRnnlm(V, 4, 4, backend=backend, rng=rng)
        for n_steps, expected in ((7, False), (8, backend == "fastrnn")):  # N*T*V vs 8*V
            model.forward(rng.integers(0, V, (1, n_steps)), rng.integers(0, V, (1, n_steps)))
            assert model._through == expected, (backend, n_steps)
            model.backward()


def test_save_load_round_trip_is_exact_and_mismatches_change_nothing(tmp_path, rng):
    model = SimpleRnnlm(9, 4, 5, rng=rng)
    path = tmp_path / "m.npz"
    model.save_params(path, vocab=[f"w{i}" for i in range(9)])
    other = SimpleRnnlm(9, 4, 5, rng=np.random.default_rng(99))
    other.load_params(path, vocab=[f"w{i}" for i in range(9)])
    for a, b in zip(model.params, other.params):
        np.testing.assert_array_equal(a, b)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]  # no temp file left

    for bad_model, vocab, match in [
        # the sizes the file records, before any array's shape
        (SimpleRnnlm(9, 4, 6, rng=rng), None, "H=5; this is a SimpleRnnlm .simple. with V=9"),
        (SimpleRnnlm(9, 5, 5, tied=True, rng=rng), None, "holds"),
        (SimpleRnnlm(9, 4, 5, rng=rng), [f"v{i}" for i in range(9)], "another vocabulary"),
    ]:
        before = [p.copy() for p in bad_model.params]
        with pytest.raises(ParamsFileError, match=match):
            bad_model.load_params(path, vocab=vocab)
        for a, b in zip(bad_model.params, before):
            np.testing.assert_array_equal(a, b)

    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ParamsFileError, match="cannot read"):
        other.load_params(truncated)


def _with(path, out, **changes):
    """Write ``out``: the arrays of ``path`` with ``changes``; a change of
    "meta" is a dict merged into the recorded one."""
    arrays = dict(np.load(path))
    if "meta" in changes:
        meta = {**json.loads(str(arrays["meta"][()])), **changes.pop("meta")}
        arrays["meta"] = np.array(json.dumps(meta))
    np.savez(out, **{**arrays, **changes})
    return out


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_load_params_refuses_non_finite_weights_naming_the_array(tmp_path, rng, bad):
    """Issue #22, item 5: a checkpoint saved from a diverged model used to
    load without complaint."""
    model = SimpleRnnlm(9, 4, 5, rng=rng)
    path = tmp_path / "m.npz"
    model.save_params(path)
    Wh = model.params[model.names.index("rnn_Wh")].copy()
    Wh[1, 2] = bad
    _with(path, path, rnn_Wh=Wh)
    other = SimpleRnnlm(9, 4, 5, rng=np.random.default_rng(5))
    before = [p.copy() for p in other.params]
    with pytest.raises(ParamsFileError, match=f"{path}: its rnn_Wh holds NaN or infinite "
                                              "values"):
        other.load_params(path)
    for a, b in zip(other.params, before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("fmt, match", [
    (2, r"was written by a newer fastrnn \(format 2; this one reads up to 1\)"),
    (-1, "has format -1, not a format number fastrnn writes"),
    (1.5, "has format 1.5, not a format number"),
    ("1", "has format '1', not a format number"),
    (True, "has format True, not a format number"),
    (None, "has format None, not a format number"),
])
def test_checkpoint_meta_refuses_formats_it_does_not_read(tmp_path, rng, fmt, match):
    path = tmp_path / "m.npz"
    SimpleRnnlm(9, 4, 5, rng=rng).save_params(path)
    _with(path, path, meta={"format": fmt})
    with pytest.raises(ParamsFileError, match=match):
        checkpoint_meta(str(path), read_params_file(path))
    with pytest.raises(ParamsFileError, match=match):
        SimpleRnnlm(9, 4, 5, rng=rng).load_params(path)


def test_a_mismatch_names_the_fields_that_differ(tmp_path, rng):
    """Issue #22, item 6: the two descriptions alone may read the same."""
    path = tmp_path / "m.npz"
    SimpleRnnlm(6, 4, 4, tied=True, rng=rng).save_params(path, vocab=list("abcdef"))
    with pytest.raises(ParamsFileError, match=r"\(they differ in tied \(yes in the file, no "
                                              r"here\)\)"):
        SimpleRnnlm(6, 4, 4, rng=rng).load_params(path)
    with pytest.raises(ParamsFileError, match=r"they differ in V \(6 in the file, 7 here\), "
                                              r"H \(4 in the file, 5 here\)"):
        SimpleRnnlm(7, 4, 5, rng=rng).load_params(path)
    with pytest.raises(ParamsFileError, match=r"another vocabulary \(2 of its 6 words differ, "
                                              r"the first at id 1: 'b' in the file, 'x' "
                                              r"here\)"):
        SimpleRnnlm(6, 4, 4, tied=True, rng=rng).load_params(path, vocab=list("axcdey"))


def test_save_params_keeps_the_mode_and_never_replaces_a_read_only_file(tmp_path, rng):
    """Issue #22, item 2: the rename gave a replaced file the default mode
    (a 0444 file came back 0644); root may replace a read-only file, so its
    mode is checked, not the access."""
    model = SimpleRnnlm(9, 4, 5, rng=rng)
    path = tmp_path / "m.npz"
    path.write_bytes(b"old")
    path.chmod(0o640)
    model.save_params(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and path.read_bytes() != b"old"
    path.chmod(0o444)
    before = path.read_bytes()
    with pytest.raises(PermissionError, match="read-only"):
        model.save_params(path)
    assert path.read_bytes() == before and stat.S_IMODE(path.stat().st_mode) == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
