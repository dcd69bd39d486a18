"""Text corpora for the language models: reading, vocabulary, batching.

What this module provides:

- :func:`read_words` and :func:`load_corpus`: text files read as the book's PTB
  loader (``dataset/ptb.py``) reads them, with the vocabulary built from the
  training file and the validation/test files mapped onto it.
- :class:`BPTTBatcher`: the truncated-BPTT mini-batches of the book's
  chapter-5 training loop (``ch05/train_custom_loop.py``), gathered with numpy.

The built-in corpus, drawn from a Markov source whose perplexity floor is
known, is :mod:`fastrnn.lm.markov`.

Bad input data raises :class:`DataError` (a ``ValueError``) with a one-line
message naming the file or argument and what was wrong.

Why one module: reading text, the vocabulary, the corpus and its batches
are the one pipeline a model trains from, and share ``DataError``'s checks.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from ..files import FileKindError, open_regular

__all__ = [
    "DataError",
    "read_words",
    "Vocabulary",
    "Corpus",
    "load_corpus",
    "BPTTBatcher",
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


def check_positive_int(name: str, value: object) -> int:
    """Return ``value`` as an int if it is a positive integer, else raise a
    ValueError naming ``name``."""
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
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.time_size = check_positive_int("time_size", time_size)
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
