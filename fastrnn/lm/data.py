"""Corpora for the chapter-5 language model: reading, vocabulary, batching.

What this module provides:

- :func:`read_words` and :func:`load_corpus`: text files read as the book's PTB
  loader (``dataset/ptb.py``) reads them, with the vocabulary built from the
  training file and the validation/test files mapped onto it.
- :class:`BPTTBatcher`: the truncated-BPTT mini-batches of the book's
  chapter-5 training loop (``ch05/train_custom_loop.py``), gathered with numpy.
- :class:`MarkovSource`, :func:`markov_corpus` and :func:`builtin_corpus`: a
  built-in corpus drawn from a known first-order Markov chain over words, so
  the best achievable perplexity (the source's perplexity floor) is known
  exactly and a trained model can be judged against it without downloading
  anything.

Bad input data raises :class:`DataError` (a ``ValueError``) with a one-line
message naming the file or argument and what was wrong.
"""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from .._cli_checks import FileKindError, open_regular

__all__ = [
    "DataError",
    "read_words",
    "Vocabulary",
    "Corpus",
    "load_corpus",
    "BPTTBatcher",
    "MarkovSource",
    "markov_corpus",
    "builtin_corpus",
    "UNK",
    "EOS",
]

UNK = "<unk>"
"""The word that stands for any word missing from the vocabulary."""

EOS = "<eos>"

# Memory a text file takes while it is read and encoded (its bytes, its
# text, the word list and the ids; measured with tracemalloc, rounded up),
# per byte of the file: what the commands check is available first.
TEXT_BYTES_PER_BYTE = 20
"""The word that stands for a line break, as in the book's PTB loader."""

_INT32_MAX = int(np.iinfo(np.int32).max)

BUILTIN_TRAIN_TOKENS = 100_000
"""Training tokens of :func:`builtin_corpus` by default."""


class DataError(ValueError):
    """Bad input data: an unreadable or malformed file, or an unusable corpus."""


# --------------------------------------------------------------------------
# Reading text files
# --------------------------------------------------------------------------


def _name(path: str | os.PathLike) -> str:
    """The path as a quoted, single-line string for error messages."""
    return repr(os.fspath(path))


_SNIFF_BYTES = 1 << 16
_ENCODING_NAMES = {"utf-8": "UTF-8", "utf-16": "UTF-16"}


def _encoding(head: bytes, name: str) -> str:
    """The encoding of a file that starts with ``head``: UTF-16 if it starts
    with a UTF-16 byte-order mark, else UTF-8 if it holds no NUL byte."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"  # the codec reads the mark and the byte order from it
    nul = head.find(b"\x00")
    if nul >= 0:
        # ASCII text in UTF-16 has a NUL at offset 0 or 1.
        hint = "; UTF-16 text needs a byte-order mark (or save it as UTF-8)" if nul <= 1 else ""
        raise DataError(f"file {name} is binary, not text: NUL byte at offset {nul}{hint}")
    return "utf-8"


def read_words(path: str | os.PathLike) -> list[str]:
    """Read a text file as a list of words, line breaks becoming ``'<eos>'``.

    The book's PTB loader does
    ``open(path).read().replace('\\n', '<eos>').strip().split()``, which glues
    ``'<eos>'`` to the neighbouring words unless every line starts and ends
    with a space (as PTB's lines do): ``"a b\\nc"`` becomes
    ``['a', 'b<eos>c']``. Here each line break is replaced by ``' <eos> '``
    instead, so ``'<eos>'`` is always a word of its own; on PTB's files both
    give the same words. As with the book's loader, a final line break gives
    a final ``'<eos>'``, and blank lines give one ``'<eos>'`` each.

    The file must be UTF-8 (a leading byte-order mark is ignored) or UTF-16
    with a byte-order mark. Only a regular file is read (never a FIFO or a
    device, which could block or never end). ``'\\r\\n'``
    and ``'\\r'`` line breaks count as ``'\\n'``, as they do for Python's
    ``open()`` in text mode.

    Parameters
    ----------
    path : str or os.PathLike
        The text file.

    Returns
    -------
    list of str
        The words, in file order.

    Raises
    ------
    DataError
        If the file is missing, is not a regular file, cannot be read, is
        binary (contains a NUL byte), is not valid UTF-8 (or UTF-16 after its
        byte-order mark), or has no words (empty or whitespace only).
    """
    name = _name(path)
    try:
        with open_regular(path) as f:
            # The start decides binary or text before the rest is read: a
            # large binary file is refused without loading it.
            head = f.read(_SNIFF_BYTES)
            encoding = _encoding(head, name)
            raw = head + f.read()
    except FileNotFoundError:
        raise DataError(f"file {name} does not exist") from None
    except FileKindError as e:
        raise DataError(f"file {name} {e}") from None
    except OSError as e:
        raise DataError(f"file {name} cannot be read: {e.strerror or e}") from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as e:
        raise DataError(
            f"file {name} is not valid {_ENCODING_NAMES[encoding]}: byte "
            f"0x{raw[e.start]:02x} at offset {e.start} ({e.reason})") from None
    if "\x00" in text:
        raise DataError(f"file {name} is binary, not text: a NUL character")
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise DataError(f"file {name} has no words (it is empty or whitespace only)")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\n", f" {EOS} ").split()


# --------------------------------------------------------------------------
# Vocabulary and corpus
# --------------------------------------------------------------------------


class Vocabulary:
    """A word <-> id mapping: the book's ``word_to_id`` and ``id_to_word``.

    Ids are 0, 1, 2, ... in the order words were added.

    Attributes
    ----------
    word_to_id : dict of str to int
    id_to_word : dict of int to str
    """

    def __init__(self) -> None:
        self.word_to_id: dict[str, int] = {}
        self.id_to_word: dict[int, str] = {}

    @classmethod
    def from_words(cls, words: Iterable[str]) -> Vocabulary:
        """A vocabulary of ``words`` with ids in order of first appearance.

        This is how the book's ``ptb.py`` numbers the words.

        Parameters
        ----------
        words : iterable of str

        Returns
        -------
        Vocabulary
        """
        vocab = cls()
        for word in words:
            vocab.add(word)
        return vocab

    def add(self, word: str) -> int:
        """Add ``word`` if it is new (with the next free id); return its id."""
        word_id = self.word_to_id.get(word)
        if word_id is None:
            word_id = len(self.word_to_id)
            self.word_to_id[word] = word_id
            self.id_to_word[word_id] = word
        return word_id

    def __len__(self) -> int:
        return len(self.word_to_id)

    def __contains__(self, word: object) -> bool:
        return word in self.word_to_id

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} words)"

    def encode(self, words: Iterable[str], add_unk: bool = True) -> tuple[np.ndarray, int]:
        """Map ``words`` to ids; unknown words become ``'<unk>'``.

        Parameters
        ----------
        words : iterable of str
        add_unk : bool, default True
            If True, words not in the vocabulary are mapped to ``'<unk>'``,
            which is added to the vocabulary (with the next free id) the first
            time it is needed. If False, an unknown word is an error.

        Returns
        -------
        ids : np.ndarray
            int32 ids, one per word.
        unknown : int
            How many words were not in the vocabulary (mapped to ``'<unk>'``).

        Raises
        ------
        DataError
            If ``add_unk`` is False and a word is not in the vocabulary
            (the message names the first such word).
        """
        words = list(words)
        w2i = self.word_to_id
        ids = [w2i.get(w, -1) for w in words]
        arr = np.array(ids, dtype=np.int64)
        missing = arr < 0
        unknown = int(missing.sum())
        if unknown:
            if not add_unk:
                first = words[ids.index(-1)]
                raise DataError(
                    f"words: {first!r} is not in the vocabulary "
                    f"({unknown} unknown words in all; use add_unk=True to map them to "
                    f"{UNK!r})")
            arr[missing] = self.add(UNK)
        if len(self) - 1 > _INT32_MAX:
            raise DataError(f"vocabulary of {len(self)} words does not fit int32 ids")
        return arr.astype(np.int32), unknown

    def decode(self, ids: Iterable[int]) -> list[str]:
        """The words of ``ids`` (the inverse of :meth:`encode`)."""
        return [self.id_to_word[int(i)] for i in ids]


@dataclass
class Corpus:
    """Word-id arrays of the three splits and their shared vocabulary.

    Attributes
    ----------
    train : np.ndarray
        int32 ids of the training split.
    valid, test : np.ndarray or None
        int32 ids of the validation and test splits, if given.
    vocab : Vocabulary
        Built from the training split; ``'<unk>'`` is added if a validation or
        test word was not in it.
    unknown : dict of str to int
        Per split (``'train'`` and each given split), how many words were
        mapped to ``'<unk>'`` (always 0 for ``'train'``).
    """

    train: np.ndarray
    valid: np.ndarray | None
    test: np.ndarray | None
    vocab: Vocabulary
    unknown: dict[str, int] = field(default_factory=dict)


def corpus_from_words(train: list[str], valid: list[str] | None = None,
                      test: list[str] | None = None) -> Corpus:
    """A :class:`Corpus` from word lists, as :func:`load_corpus` builds it
    from files (vocabulary from ``train``; other splits mapped with <unk>)."""
    vocab = Vocabulary.from_words(train)
    train_ids, _ = vocab.encode(train, add_unk=False)
    unknown = {"train": 0}
    splits: dict[str, np.ndarray | None] = {"valid": None, "test": None}
    for split, words in (("valid", valid), ("test", test)):
        if words is not None:
            splits[split], unknown[split] = vocab.encode(words, add_unk=True)
    return Corpus(train_ids, splits["valid"], splits["test"], vocab, unknown)


def load_corpus(train: str | os.PathLike, valid: str | os.PathLike | None = None,
                test: str | os.PathLike | None = None) -> Corpus:
    """Read the training (and optional validation/test) text files.

    Each file is read with :func:`read_words`. The vocabulary is built from
    the training file only (ids in order of first appearance, as the book's
    ``ptb.py``); the validation and test words are mapped onto it, words it
    lacks becoming ``'<unk>'`` (counted in ``unknown['valid']`` and
    ``unknown['test']``).

    Parameters
    ----------
    train : str or os.PathLike
    valid, test : str or os.PathLike, optional

    Returns
    -------
    Corpus

    Raises
    ------
    DataError
        If a file cannot be read as text (see :func:`read_words`).
    """
    return corpus_from_words(
        read_words(train),
        None if valid is None else read_words(valid),
        None if test is None else read_words(test))


# --------------------------------------------------------------------------
# Truncated-BPTT mini-batches
# --------------------------------------------------------------------------


def _check_positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


class BPTTBatcher:
    """Truncated-BPTT mini-batches, as the book's chapter-5 training loop.

    The corpus is split into ``batch_size`` streams starting at evenly spaced
    offsets; each batch holds the next ``time_size`` inputs of every stream
    (and the words that follow them as targets). Exactly as
    ``ch05/train_custom_loop.py``::

        xs, ts = corpus[:-1], corpus[1:]
        data_size = len(xs)
        jump = data_size // batch_size
        offsets = [i * jump for i in range(batch_size)]
        # per batch, for t in range(time_size):
        #     batch_x[i, t] = xs[(offsets[i] + time_idx) % data_size]
        #     batch_t[i, t] = ts[(offsets[i] + time_idx) % data_size]
        #     time_idx += 1

    ``time_idx`` starts at 0 and is not reset between epochs, so the streams
    run on (wrapping around the corpus) from one epoch to the next.

    Parameters
    ----------
    corpus : np.ndarray
        1-D array of non-negative integer word ids, at least
        ``batch_size * time_size + 1`` long.
    batch_size : int
        Number of streams (rows of a batch), positive.
    time_size : int
        Time steps per batch (columns of a batch), positive.

    Attributes
    ----------
    batch_size, time_size : int
    data_size : int
        ``len(corpus) - 1``.
    offsets : np.ndarray
        Start of each stream in the corpus.
    time_idx : int
        Steps taken so far (the book's ``time_idx``).
    iters_per_epoch : int
        ``data_size // (batch_size * time_size)``.

    Raises
    ------
    ValueError
        If ``batch_size`` or ``time_size`` is not a positive int.
    DataError
        If ``corpus`` is not a 1-D array of non-negative int32-range integers,
        or is too short.
    """

    def __init__(self, corpus: np.ndarray, batch_size: int, time_size: int) -> None:
        self.batch_size = _check_positive_int("batch_size", batch_size)
        self.time_size = _check_positive_int("time_size", time_size)
        if not isinstance(corpus, np.ndarray):
            raise DataError(f"corpus must be a numpy array of word ids, got "
                            f"{type(corpus).__name__}")
        if corpus.ndim != 1 or corpus.dtype.kind not in "iu":
            raise DataError(f"corpus must be a 1-D integer array of word ids, got "
                            f"shape {corpus.shape} dtype {corpus.dtype}")
        needed = self.batch_size * self.time_size + 1
        if len(corpus) < needed:
            raise DataError(
                f"corpus has {len(corpus)} tokens and needs at least {needed} "
                f"(batch_size * time_size + 1) for batch_size={self.batch_size}, "
                f"time_size={self.time_size}")
        if corpus.min() < 0 or corpus.max() > _INT32_MAX:
            raise DataError(f"corpus word ids must be in [0, {_INT32_MAX}], got "
                            f"[{corpus.min()}, {corpus.max()}]")
        ids = corpus.astype(np.int32)
        self._xs = ids[:-1]
        self._ts = ids[1:]
        self.data_size = len(self._xs)
        jump = self.data_size // self.batch_size
        self.offsets = np.arange(self.batch_size, dtype=np.int64) * jump
        self.time_idx = 0
        self.iters_per_epoch = self.data_size // (self.batch_size * self.time_size)
        self._steps = np.arange(self.time_size, dtype=np.int64)

    def next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        """The next mini-batch; advances ``time_idx`` by ``time_size``.

        Returns
        -------
        batch_x, batch_t : np.ndarray
            int32 arrays of shape (batch_size, time_size): input ids and the
            ids that follow them.
        """
        idx = (self.offsets[:, None] + (self.time_idx + self._steps)[None, :]) % self.data_size
        self.time_idx += self.time_size
        return self._xs[idx], self._ts[idx]

    def epoch(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield the ``iters_per_epoch`` mini-batches of one epoch."""
        for _ in range(self.iters_per_epoch):
            yield self.next_batch()


# --------------------------------------------------------------------------
# Built-in corpus: a known Markov source
# --------------------------------------------------------------------------


def _word_names(vocab_size: int) -> list[str]:
    width = max(3, len(str(vocab_size - 1)))
    return [f"w{i:0{width}d}" for i in range(vocab_size)]


class MarkovSource:
    """A first-order Markov chain over words, with known entropy rate.

    Built deterministically from ``(vocab_size, successors, seed)`` with
    ``np.random.default_rng(seed)``: word ``i`` can be followed by exactly
    ``successors`` distinct words, always including ``(i + 1) % vocab_size``
    (so every word leads to every other: the chain is irreducible), word 0
    also by itself (a self-loop, so the chain is aperiodic), the others drawn
    uniformly at random; their probabilities are a Dirichlet(1, ..., 1) draw
    (uniform over the simplex). An irreducible aperiodic chain has a unique
    stationary distribution ``pi``, and text drawn from it has entropy rate
    ``sum_i pi_i * H(P_i)`` nats per word: no model can do better on average,
    so ``exp`` of it is the perplexity floor.

    Words are named ``'w000'``, ``'w001'``, ... (zero-padded to at least
    three digits); word index ``i`` has id ``i`` in :attr:`vocab`.

    Parameters
    ----------
    vocab_size : int, default 300
        Number of words, at least 2.
    successors : int, default 4
        Number of possible next words per word, from 2 to ``vocab_size``.
    seed : int, default 0
        Seed of the chain's structure and probabilities (not of samples).

    Attributes
    ----------
    vocab_size, successors, seed : int
    words : list of str
        Word names by index.
    vocab : Vocabulary
        ``words`` with id == index.
    next_words : np.ndarray
        (vocab_size, successors) int64: the possible successors of each word,
        sorted.
    next_probs : np.ndarray
        (vocab_size, successors) float64: their probabilities (rows sum to 1).
    """

    def __init__(self, vocab_size: int = 300, successors: int = 4, seed: int = 0) -> None:
        self.vocab_size = _check_positive_int("vocab_size", vocab_size)
        self.successors = _check_positive_int("successors", successors)
        if self.vocab_size < 2:
            raise ValueError(f"vocab_size must be at least 2, got {vocab_size!r}")
        if not 2 <= self.successors <= self.vocab_size:
            raise ValueError(f"successors must be in [2, vocab_size={self.vocab_size}], "
                             f"got {successors!r}")
        self.seed = seed
        V, S = self.vocab_size, self.successors
        rng = np.random.default_rng(seed)
        next_words = np.empty((V, S), dtype=np.int64)
        for i in range(V):
            required = [(i + 1) % V] + ([0] if i == 0 else [])
            # S distinct candidates; at most len(required) of them are
            # required words, so enough others remain after removing those.
            drawn = rng.choice(V, size=S, replace=False)
            others = [int(j) for j in drawn if j not in required][:S - len(required)]
            next_words[i] = sorted(required + others)
        self.next_words = next_words
        self.next_probs = rng.dirichlet(np.ones(S), size=V)
        self.words = _word_names(V)
        self.vocab = Vocabulary.from_words(self.words)
        cum = np.cumsum(self.next_probs, axis=1)
        cum[:, -1] = 1.0  # u < 1 always falls within the row
        self._cum = cum.tolist()
        self._succ = next_words.tolist()

    def __repr__(self) -> str:
        return (f"MarkovSource(vocab_size={self.vocab_size}, successors={self.successors}, "
                f"seed={self.seed!r})")

    def transition_matrix(self) -> np.ndarray:
        """The (V, V) transition matrix ``P[i, j] = P(next = j | current = i)``.

        Each row has exactly ``successors`` nonzeros and sums to 1.
        """
        P = np.zeros((self.vocab_size, self.vocab_size))
        np.put_along_axis(P, self.next_words, self.next_probs, axis=1)
        return P

    def stationary(self) -> np.ndarray:
        """The stationary distribution ``pi`` (``pi @ P == pi``, sums to 1).

        Solved exactly as the linear system ``(P^T - I) pi = 0`` with one
        equation replaced by ``sum(pi) = 1`` (nonsingular because the chain is
        irreducible).
        """
        V = self.vocab_size
        A = self.transition_matrix().T - np.eye(V)
        A[-1, :] = 1.0
        b = np.zeros(V)
        b[-1] = 1.0
        pi = np.linalg.solve(A, b)
        pi = np.clip(pi, 0.0, None)  # rounding only; pi > 0 for this chain
        return pi / pi.sum()

    def entropy_rate(self) -> float:
        """Entropy rate in nats per word: ``sum_i pi_i * H(P_i)``."""
        p = self.next_probs
        row_entropy = -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0),
                              axis=1)
        return float(self.stationary() @ row_entropy)

    def perplexity_floor(self) -> float:
        """``exp(entropy_rate())``: the best perplexity achievable on its text."""
        return math.exp(self.entropy_rate())

    def sample_indices(self, n_tokens: int, seed: int | Sequence[int] = 0,
                       start_state: int | None = None) -> np.ndarray:
        """Draw ``n_tokens`` word indices from the chain.

        Parameters
        ----------
        n_tokens : int
            Positive number of words.
        seed : int or sequence of int, default 0
            Seed for ``np.random.default_rng`` (the sample's own stream).
        start_state : int, optional
            First word index; by default drawn from the stationary
            distribution, so the whole sample is stationary.

        Returns
        -------
        np.ndarray
            int64 indices, shape (n_tokens,).
        """
        n = _check_positive_int("n_tokens", n_tokens)
        rng = np.random.default_rng(seed)
        u = rng.random(n)
        if start_state is None:
            cum_pi = np.cumsum(self.stationary())
            state = min(int(np.searchsorted(cum_pi, u[0], side="right")), self.vocab_size - 1)
        else:
            if (isinstance(start_state, bool) or not isinstance(start_state, (int, np.integer))
                    or not 0 <= start_state < self.vocab_size):
                raise ValueError(f"start_state must be an int in [0, {self.vocab_size}), "
                                 f"got {start_state!r}")
            state = int(start_state)
        # One uniform per step, looked up in the row's cumulative probabilities.
        cum, succ, bisect_right = self._cum, self._succ, bisect.bisect_right
        out = [state]
        append = out.append
        for x in u[1:].tolist():
            state = succ[state][bisect_right(cum[state], x)]
            append(state)
        return np.array(out, dtype=np.int64)

    def sample(self, n_tokens: int, seed: int | Sequence[int] = 0,
               start_state: int | None = None) -> list[str]:
        """Draw ``n_tokens`` words from the chain (see :meth:`sample_indices`)."""
        words = self.words
        return [words[i] for i in self.sample_indices(n_tokens, seed, start_state).tolist()]


def _split_seed(seed: int, split: int) -> list[int]:
    """Sample seed of split 1 (train), 2 (valid) or 3 (test) of ``seed``."""
    return [seed, split]


def markov_corpus(n_tokens: int, vocab_size: int = 300, successors: int = 4, seed: int = 0,
                  start_state: int | None = None) -> list[str]:
    """``n_tokens`` words from ``MarkovSource(vocab_size, successors, seed)``.

    The sample is drawn with seed ``[seed, 1]``, so with the same arguments it
    is the training split of :func:`builtin_corpus`.

    Parameters
    ----------
    n_tokens : int
    vocab_size, successors, seed : int
        See :class:`MarkovSource`.
    start_state : int, optional
        First word index (default: drawn from the stationary distribution).

    Returns
    -------
    list of str
    """
    source = MarkovSource(vocab_size, successors, seed)
    return source.sample(n_tokens, _split_seed(seed, 1), start_state)


def builtin_corpus(train_tokens: int = BUILTIN_TRAIN_TOKENS, valid_tokens: int = 10_000,
                   test_tokens: int = 10_000, seed: int = 0, vocab_size: int = 300,
                   successors: int = 4) -> tuple[Corpus, MarkovSource]:
    """The built-in corpus: three splits from one :class:`MarkovSource`.

    The splits are independent stationary samples of the same source (sample
    seeds ``[seed, 1]``, ``[seed, 2]``, ``[seed, 3]``), turned into a
    :class:`Corpus` as :func:`load_corpus` does: the vocabulary is built from
    the training split (ids in order of first appearance, so they differ from
    the source's indices), and validation/test words absent from it become
    ``'<unk>'`` (rare: with the defaults every word appears in training).

    Defaults, chosen so that the book's chapter-5 model (batch 10, time 5,
    word vectors 100, hidden 100, SGD lr 0.1) gets close to the floor in well
    under a minute of training:

    - 300 words with 4 successors each: 1,200 transition probabilities to
      learn, a softmax as wide as a small real vocabulary. With ``seed=0``
      the entropy rate is 1.0784 nats per word, a perplexity floor of 2.940
      (a uniform guess scores 300, the best unigram model 234).
    - 100,000 training tokens: 2,000 iterations per epoch, about 1 to 1.5 s
      per epoch (evaluation included) with fastrnn's ``TimeRNN`` and the
      book's other layers on a 2-core machine. Measured with ``seed=0``:
      validation perplexity 3.46 after 5 epochs and 3.26 after 10 (11% above
      the floor), still improving. 20,000 tokens (each transition seen about
      17 times) is too little: the model overfits and its validation
      perplexity bottoms out near 4.1, 38% above the floor.
    - 10,000 validation and test tokens: the per-word log-likelihood under
      the true source has a standard deviation of about 0.66 nats and almost
      no autocorrelation, so the standard error of a split's mean is about
      0.0066 nats, i.e. perplexity measured to within about 0.7%, at the
      cost of a forward pass only. (2,000 tokens would give 1.5%.)

    Every word of the default source appears in its default training split,
    so no validation or test word becomes ``'<unk>'``.

    Parameters
    ----------
    train_tokens, valid_tokens, test_tokens : int
        Split sizes (positive).
    seed : int, default 0
        Seed of the source and of the samples.
    vocab_size, successors : int
        See :class:`MarkovSource`.

    Returns
    -------
    corpus : Corpus
    source : MarkovSource
        The source, e.g. for :meth:`MarkovSource.perplexity_floor`.
    """
    source = MarkovSource(vocab_size, successors, seed)
    train = source.sample(train_tokens, _split_seed(seed, 1))
    valid = source.sample(valid_tokens, _split_seed(seed, 2))
    test = source.sample(test_tokens, _split_seed(seed, 3))
    return corpus_from_words(train, valid, test), source
