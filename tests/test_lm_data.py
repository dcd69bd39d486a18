"""fastrnn.lm.data: reading text, vocabulary, BPTT batches, the Markov corpus."""

import math

import numpy as np
import pytest

from fastrnn.lm import data
from fastrnn.lm import markov
from fastrnn.lm.data import BPTTBatcher, DataError, Vocabulary
from fastrnn.lm.markov import MarkovSource


def _write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def _raises_one_line(exc_type, match, func, *args, **kwargs):
    with pytest.raises(exc_type, match=match) as info:
        func(*args, **kwargs)
    assert "\n" not in str(info.value)
    return str(info.value)


# --------------------------------------------------------------------------
# read_words
# --------------------------------------------------------------------------


def test_read_words_puts_eos_between_words(tmp_path):
    path = _write(tmp_path, "a.txt", "the cat\nsat on\n\n the mat \n")
    assert data.read_words(path) == [
        "the", "cat", "<eos>", "sat", "on", "<eos>", "<eos>", "the", "mat", "<eos>"]


def test_read_words_never_glues_eos_unlike_the_book(tmp_path):
    path = _write(tmp_path, "a.txt", "a b\nc")
    # The book's loader would give ['a', 'b<eos>c'].
    assert data.read_words(str(path)) == ["a", "b", "<eos>", "c"]


def test_read_words_on_ptb_style_lines_matches_the_book(tmp_path):
    text = " no it was n't black monday \n but while the new york stock exchange \n"
    path = _write(tmp_path, "ptb.txt", text)
    assert data.read_words(path) == text.replace("\n", "<eos>").strip().split()


def test_read_words_crlf_and_bom(tmp_path):
    path = _write(tmp_path, "a.txt", "\ufeffx y\r\nz\rw\r\n")
    assert data.read_words(path) == ["x", "y", "<eos>", "z", "<eos>", "w", "<eos>"]


def test_read_words_utf8_words(tmp_path):
    path = _write(tmp_path, "a.txt", "café naïve\n日本語")
    assert data.read_words(path) == ["café", "naïve", "<eos>", "日本語"]


def test_read_words_missing_file(tmp_path):
    msg = _raises_one_line(DataError, "does not exist", data.read_words, tmp_path / "nope.txt")
    assert "nope.txt" in msg


def test_read_words_directory(tmp_path):
    msg = _raises_one_line(DataError, "is a directory", data.read_words, tmp_path)
    assert str(tmp_path) in msg


def test_read_words_binary(tmp_path):
    path = _write(tmp_path, "b.bin", b"ab\x00cd\n")
    msg = _raises_one_line(DataError, "binary", data.read_words, path)
    assert "b.bin" in msg and "offset 2" in msg


def test_read_words_not_utf8(tmp_path):
    path = _write(tmp_path, "latin1.txt", "abc caf\u00e9 x".encode("latin-1"))
    msg = _raises_one_line(DataError, "not valid UTF-8", data.read_words, path)
    # 'abc caf' is 7 bytes, then 0xe9 (Latin-1 e-acute) is not followed by
    # continuation bytes.
    assert "latin1.txt" in msg and "offset 7" in msg and "0xe9" in msg


@pytest.mark.parametrize("content", ["", "   ", " \n\t\n\r\n"])
def test_read_words_empty_or_whitespace(tmp_path, content):
    path = _write(tmp_path, "e.txt", content)
    msg = _raises_one_line(DataError, "no words", data.read_words, path)
    assert "e.txt" in msg


def test_read_words_unreadable(tmp_path, monkeypatch):
    path = _write(tmp_path, "secret.txt", "a b")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    # Tests may run as root, where chmod 000 does not stop reading.
    monkeypatch.setattr(data, "open_regular", refuse)
    msg = _raises_one_line(DataError, "cannot be read", data.read_words, path)
    assert "secret.txt" in msg and "Permission denied" in msg


# --------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------


def test_vocabulary_ids_in_order_of_first_appearance():
    vocab = Vocabulary.from_words(["b", "a", "b", "c", "a"])
    assert vocab.word_to_id == {"b": 0, "a": 1, "c": 2}
    assert vocab.id_to_word == {0: "b", 1: "a", 2: "c"}
    assert len(vocab) == 3
    assert "a" in vocab and "z" not in vocab


def test_encode_known_words():
    vocab = Vocabulary.from_words(["b", "a", "c"])
    ids, unknown = vocab.encode(["c", "a", "a", "b"])
    assert ids.dtype == np.int32
    np.testing.assert_array_equal(ids, [2, 1, 1, 0])
    assert unknown == 0
    assert len(vocab) == 3 and "<unk>" not in vocab
    assert vocab.decode(ids) == ["c", "a", "a", "b"]


def test_encode_unknown_words_adds_unk_once():
    vocab = Vocabulary.from_words(["b", "a", "c"])
    ids, unknown = vocab.encode(["a", "x", "c", "y", "x"])
    np.testing.assert_array_equal(ids, [1, 3, 2, 3, 3])
    assert unknown == 3
    assert vocab.word_to_id["<unk>"] == 3 and vocab.id_to_word[3] == "<unk>"
    assert len(vocab) == 4
    ids, unknown = vocab.encode(iter(["z", "b"]))  # any iterable
    np.testing.assert_array_equal(ids, [3, 0])
    assert unknown == 1 and len(vocab) == 4


def test_encode_uses_an_existing_unk():
    vocab = Vocabulary.from_words(["<unk>", "a"])
    ids, unknown = vocab.encode(["a", "q", "<unk>"])
    np.testing.assert_array_equal(ids, [1, 0, 0])
    assert unknown == 1 and len(vocab) == 2


def test_encode_without_unk_names_the_first_unknown_word():
    vocab = Vocabulary.from_words(["a", "b"])
    msg = _raises_one_line(DataError, "'q' is not in the vocabulary",
                           vocab.encode, ["a", "q", "r"], add_unk=False)
    assert "2 unknown" in msg
    assert len(vocab) == 2 and "<unk>" not in vocab


def test_encode_empty():
    ids, unknown = Vocabulary.from_words(["a"]).encode([])
    assert ids.shape == (0,) and ids.dtype == np.int32 and unknown == 0


# --------------------------------------------------------------------------
# load_corpus
# --------------------------------------------------------------------------


def test_load_corpus_with_valid_and_test(tmp_path):
    train = _write(tmp_path, "train.txt", "a b\nc a\n")
    valid = _write(tmp_path, "valid.txt", "a d\n")
    test = _write(tmp_path, "test.txt", "e e b")
    corpus = data.load_corpus(train, valid, test)
    # train words: a b <eos> c a <eos>
    assert corpus.vocab.word_to_id == {"a": 0, "b": 1, "<eos>": 2, "c": 3, "<unk>": 4}
    np.testing.assert_array_equal(corpus.train, [0, 1, 2, 3, 0, 2])
    np.testing.assert_array_equal(corpus.valid, [0, 4, 2])
    np.testing.assert_array_equal(corpus.test, [4, 4, 1])
    assert corpus.unknown == {"train": 0, "valid": 1, "test": 2}
    for ids in (corpus.train, corpus.valid, corpus.test):
        assert ids.dtype == np.int32


def test_load_corpus_train_only(tmp_path):
    train = _write(tmp_path, "train.txt", "x y x\n")
    corpus = data.load_corpus(train)
    np.testing.assert_array_equal(corpus.train, [0, 1, 0, 2])
    assert corpus.valid is None and corpus.test is None
    assert corpus.unknown == {"train": 0}
    assert len(corpus.vocab) == 3


def test_load_corpus_reports_the_bad_file(tmp_path):
    train = _write(tmp_path, "train.txt", "x y\n")
    msg = _raises_one_line(DataError, "does not exist", data.load_corpus, train,
                           tmp_path / "valid.txt")
    assert "valid.txt" in msg


# --------------------------------------------------------------------------
# BPTTBatcher
# --------------------------------------------------------------------------


def test_bptt_hand_worked_example():
    # xs = 0..19, ts = 1..20, data_size 20, jump 10, offsets [0, 10].
    b = BPTTBatcher(np.arange(21), batch_size=2, time_size=5)
    assert b.data_size == 20
    np.testing.assert_array_equal(b.offsets, [0, 10])
    assert b.iters_per_epoch == 2
    expected = [
        ([[0, 1, 2, 3, 4], [10, 11, 12, 13, 14]],
         [[1, 2, 3, 4, 5], [11, 12, 13, 14, 15]]),
        ([[5, 6, 7, 8, 9], [15, 16, 17, 18, 19]],
         [[6, 7, 8, 9, 10], [16, 17, 18, 19, 20]]),
        # time_idx 10..14: the second stream wraps around to the start.
        ([[10, 11, 12, 13, 14], [0, 1, 2, 3, 4]],
         [[11, 12, 13, 14, 15], [1, 2, 3, 4, 5]]),
    ]
    for k, (ex, et) in enumerate(expected):
        x, t = b.next_batch()
        assert x.dtype == np.int32 and t.dtype == np.int32
        assert x.shape == t.shape == (2, 5)
        np.testing.assert_array_equal(x, ex)
        np.testing.assert_array_equal(t, et)
        assert b.time_idx == 5 * (k + 1)


def test_bptt_hand_worked_uneven_wrap():
    # xs = 0..22, data_size 23, jump 7, offsets [0, 7, 14], 3 iterations
    # per epoch; the fourth batch (time_idx 6, 7) runs past the epoch.
    b = BPTTBatcher(np.arange(24, dtype=np.int64), batch_size=3, time_size=2)
    assert b.iters_per_epoch == 3
    batches = [b.next_batch() for _ in range(5)]
    np.testing.assert_array_equal(batches[3][0], [[6, 7], [13, 14], [20, 21]])
    # time_idx 8, 9: the last stream reaches xs[22] then wraps to xs[0].
    np.testing.assert_array_equal(batches[4][0], [[8, 9], [15, 16], [22, 0]])
    np.testing.assert_array_equal(batches[4][1], [[9, 10], [16, 17], [23, 1]])


def _book_batches(corpus, batch_size, time_size, n_batches):
    """The book's train_custom_loop.py, literally."""
    xs, ts = corpus[:-1], corpus[1:]
    data_size = len(xs)
    jump = data_size // batch_size
    offsets = [i * jump for i in range(batch_size)]
    time_idx = 0
    out = []
    for _ in range(n_batches):
        batch_x = np.empty((batch_size, time_size), dtype="i")
        batch_t = np.empty((batch_size, time_size), dtype="i")
        for t in range(time_size):
            for i, offset in enumerate(offsets):
                batch_x[i, t] = xs[(offset + time_idx) % data_size]
                batch_t[i, t] = ts[(offset + time_idx) % data_size]
            time_idx += 1
        out.append((batch_x, batch_t))
    return out


@pytest.mark.parametrize("n, batch_size, time_size", [
    (21, 2, 5), (11, 2, 5), (100, 7, 3), (57, 1, 56), (40, 39, 1), (1000, 10, 5)])
def test_bptt_matches_the_books_loop_across_epochs(n, batch_size, time_size):
    corpus = np.random.default_rng(n).integers(0, 50, size=n)
    b = BPTTBatcher(corpus, batch_size, time_size)
    assert b.iters_per_epoch == (n - 1) // (batch_size * time_size)
    ours = [batch for _ in range(3) for batch in b.epoch()]
    assert len(ours) == 3 * b.iters_per_epoch
    book = _book_batches(corpus, batch_size, time_size, len(ours))
    for (x, t), (bx, bt) in zip(ours, book):
        np.testing.assert_array_equal(x, bx)
        np.testing.assert_array_equal(t, bt)


def test_bptt_batches_are_independent_copies():
    corpus = np.arange(21)
    b = BPTTBatcher(corpus, 2, 5)
    x, t = b.next_batch()
    x[...] = -1
    t[...] = -1
    np.testing.assert_array_equal(corpus, np.arange(21))
    b.time_idx = 0
    x, _ = b.next_batch()
    np.testing.assert_array_equal(x[0], [0, 1, 2, 3, 4])


@pytest.mark.parametrize("name", ["batch_size", "time_size"])
@pytest.mark.parametrize("bad", [0, -1, 2.0, True, "2", None])
def test_bptt_bad_sizes(name, bad):
    sizes = {"batch_size": 2, "time_size": 2}
    sizes[name] = bad
    _raises_one_line(ValueError, name, BPTTBatcher, np.arange(10), **sizes)


def test_bptt_numpy_int_sizes_accepted():
    b = BPTTBatcher(np.arange(21), np.int64(2), np.int32(5))
    assert b.iters_per_epoch == 2


@pytest.mark.parametrize("corpus, what", [
    (list(range(20)), "numpy array"),
    (np.arange(20.0), "integer"),
    (np.arange(20).reshape(4, 5), "1-D"),
    (np.ones(20, dtype=bool), "integer"),
    (np.array([0, 1, -1] * 7), "word ids must be in"),
])
def test_bptt_bad_corpus(corpus, what):
    _raises_one_line(DataError, what, BPTTBatcher, corpus, 2, 2)


def test_bptt_corpus_too_short():
    msg = _raises_one_line(DataError, "corpus has 10 tokens and needs at least 11",
                           BPTTBatcher, np.arange(10), 2, 5)
    assert "batch_size=2" in msg and "time_size=5" in msg
    b = BPTTBatcher(np.arange(11), 2, 5)  # the shortest allowed
    assert b.iters_per_epoch == 1


# --------------------------------------------------------------------------
# MarkovSource
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def source():
    return MarkovSource()


def test_markov_transition_rows(source):
    V, S = source.vocab_size, source.successors
    assert (V, S) == (300, 4)
    P = source.transition_matrix()
    assert P.shape == (V, V)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert np.all(np.count_nonzero(P, axis=1) == S)
    assert np.all(P >= 0)
    # Irreducible by construction: i -> i + 1 (mod V); aperiodic: 0 -> 0.
    assert np.all(P[np.arange(V), (np.arange(V) + 1) % V] > 0)
    assert P[0, 0] > 0 and P[V - 1, 0] > 0


def test_markov_small_source_structure():
    src = MarkovSource(vocab_size=5, successors=2, seed=3)
    P = src.transition_matrix()
    # Word 0 has exactly its two required successors: itself and word 1.
    assert np.flatnonzero(P[0]).tolist() == [0, 1]
    for i in range(1, 5):
        nz = np.flatnonzero(P[i])
        assert len(nz) == 2 and (i + 1) % 5 in nz
    full = MarkovSource(vocab_size=4, successors=4, seed=1).transition_matrix()
    assert np.all(full > 0)


@pytest.mark.parametrize("kwargs, name", [
    ({"successors": 1}, "successors"),
    ({"vocab_size": 5, "successors": 6}, "successors"),
    ({"vocab_size": 1, "successors": 1}, "vocab_size"),
    ({"vocab_size": 0}, "vocab_size"),
    ({"successors": 2.5}, "successors"),
])
def test_markov_bad_parameters(kwargs, name):
    _raises_one_line(ValueError, name, MarkovSource, **kwargs)


def test_markov_stationary(source):
    pi = source.stationary()
    P = source.transition_matrix()
    assert pi.shape == (300,)
    assert np.all(pi > 0)
    assert math.isclose(pi.sum(), 1.0, abs_tol=1e-12)
    np.testing.assert_allclose(pi @ P, pi, rtol=1e-9, atol=1e-15)


def test_markov_entropy_rate_brute_force(source):
    P = source.transition_matrix()
    pi = source.stationary()
    brute = 0.0
    for i in range(source.vocab_size):
        for j in range(source.vocab_size):
            if P[i, j] > 0:
                brute -= pi[i] * P[i, j] * math.log(P[i, j])
    assert math.isclose(source.entropy_rate(), brute, rel_tol=1e-12)
    assert math.isclose(source.perplexity_floor(), math.exp(brute), rel_tol=1e-12)


def test_markov_entropy_rate_matches_sample_likelihood(source):
    # A stationary sample's mean per-token negative log-likelihood under the
    # true transitions is an unbiased estimate of the entropy rate. Its
    # standard error is estimated by batch means (100 batches of 2,000
    # tokens, long enough that batch means are nearly uncorrelated for this
    # fast-mixing chain): about 0.0015 nats for 200,000 tokens (per-token
    # s.d. ~0.66). 5 standard errors is a fixed-seed test that a real error
    # (e.g. a wrong pi or a sampler drawing the wrong successor) would fail
    # by far, while the sampling noise passes with overwhelming probability.
    x = source.sample_indices(200_001, seed=12345)
    P = source.transition_matrix()
    nll = -np.log(P[x[:-1], x[1:]])
    batch_means = nll.reshape(100, -1).mean(axis=1)
    se = batch_means.std(ddof=1) / math.sqrt(len(batch_means))
    assert se < 0.005
    assert abs(nll.mean() - source.entropy_rate()) < 5 * se


def test_markov_sample_follows_the_chain(source):
    x = source.sample_indices(5_000, seed=1)
    assert x.shape == (5_000,)
    P = source.transition_matrix()
    assert np.all(P[x[:-1], x[1:]] > 0)
    words = source.sample(5_000, seed=1)
    assert words == [f"w{i:03d}" for i in x]
    assert source.sample(3, seed=1, start_state=7)[0] == "w007"
    with pytest.raises(ValueError, match="start_state"):
        source.sample(3, start_state=300)
    with pytest.raises(ValueError, match="n_tokens"):
        source.sample(0)


def test_markov_word_names_and_vocab():
    assert MarkovSource(vocab_size=300).words[:2] == ["w000", "w001"]
    assert MarkovSource(vocab_size=300).words[-1] == "w299"
    assert MarkovSource(vocab_size=1000, successors=2).words[-1] == "w999"
    assert MarkovSource(vocab_size=1001, successors=2).words[0] == "w0000"
    src = MarkovSource(vocab_size=20, successors=3)
    assert all(src.vocab.word_to_id[w] == i for i, w in enumerate(src.words))


def test_markov_determinism():
    a, b = MarkovSource(seed=5), MarkovSource(seed=5)
    np.testing.assert_array_equal(a.transition_matrix(), b.transition_matrix())
    assert a.sample(1_000, seed=9) == b.sample(1_000, seed=9)
    assert a.sample(1_000, seed=9) != a.sample(1_000, seed=10)
    assert not np.array_equal(a.transition_matrix(), MarkovSource(seed=6).transition_matrix())
    assert markov.markov_corpus(500, seed=5) == markov.markov_corpus(500, seed=5)
    assert markov.markov_corpus(500, seed=5) != markov.markov_corpus(500, seed=6)


def test_markov_floor_bounds(source):
    floor = source.perplexity_floor()
    assert 1.0 < floor < source.vocab_size
    assert math.isclose(floor, 2.9398, rel_tol=1e-4)  # the documented default


# --------------------------------------------------------------------------
# builtin_corpus
# --------------------------------------------------------------------------


def test_builtin_corpus_defaults():
    corpus, src = markov.builtin_corpus()
    assert len(corpus.train) == 100_000
    assert len(corpus.valid) == len(corpus.test) == 10_000
    assert corpus.unknown == {"train": 0, "valid": 0, "test": 0}
    assert len(corpus.vocab) == 300
    # Vocabulary from the training split, in order of first appearance.
    words = corpus.vocab.decode(corpus.train)
    assert list(corpus.vocab.word_to_id) == list(dict.fromkeys(words))
    assert words == markov.markov_corpus(100_000)
    again, _ = markov.builtin_corpus()
    for a, b in [(corpus.train, again.train), (corpus.valid, again.valid),
                 (corpus.test, again.test)]:
        np.testing.assert_array_equal(a, b)
    # The splits are different samples.
    assert not np.array_equal(corpus.valid, corpus.test)
    assert not np.array_equal(corpus.train[:10_000], corpus.valid)
    assert src.perplexity_floor() == MarkovSource().perplexity_floor()


def test_builtin_corpus_small_train_maps_unknowns():
    corpus, src = markov.builtin_corpus(train_tokens=50, valid_tokens=400, test_tokens=300,
                                      seed=2, vocab_size=300)
    train_words = src.sample(50, seed=[2, 1])
    valid_words = src.sample(400, seed=[2, 2])
    test_words = src.sample(300, seed=[2, 3])
    known = set(train_words)
    n_valid = sum(w not in known for w in valid_words)
    n_test = sum(w not in known for w in test_words)
    assert n_valid > 0 and n_test > 0
    assert corpus.unknown == {"train": 0, "valid": n_valid, "test": n_test}
    unk = corpus.vocab.word_to_id["<unk>"]
    assert unk == len(known) == len(corpus.vocab) - 1
    assert corpus.vocab.decode(corpus.valid) == [
        w if w in known else "<unk>" for w in valid_words]
    assert corpus.vocab.decode(corpus.test) == [
        w if w in known else "<unk>" for w in test_words]
    # The batcher accepts the splits as they are.
    x, t = BPTTBatcher(corpus.valid, 10, 5).next_batch()
    assert x.shape == (10, 5)
