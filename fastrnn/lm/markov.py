"""The built-in corpus: text drawn from a first-order Markov chain over words.

Its entropy rate is known exactly, so the best perplexity any model can
reach on it (the source's perplexity floor) is known too, and a trained
model can be judged against it without downloading anything.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

import numpy as np

from .data import Corpus, Vocabulary, check_positive_int, corpus_from_words

BUILTIN_TRAIN_TOKENS = 100_000
"""Training tokens of :func:`builtin_corpus` by default."""


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
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.successors = check_positive_int("successors", successors)
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
        n = check_positive_int("n_tokens", n_tokens)
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
