"""Text pairs (question, answer) as padded id arrays with a vocabulary, split into training and test sets, as the book's dataset.sequence gives them."""

import time

import numpy

from common.optimizer import Adam
from common.report import emit, layer_classes
from common.trainer import Trainer
from common.util import eval_seq2seq


def load_pairs(questions, answers, seed=1984):
    """Encode the pairs and split off a tenth for testing.

    Characters get ids in order of first appearance (questions first). The
    questions are padded with spaces to the longest question, the answers
    likewise. Returns ``((x_train, t_train), (x_test, t_test)), char_to_id,
    id_to_char``; the pairs are shuffled with ``seed`` before the split.
    """
    width_q = max(map(len, questions))
    width_a = max(map(len, answers))
    questions = [q.ljust(width_q) for q in questions]
    answers = [a.ljust(width_a) for a in answers]
    char_to_id = {}
    for text in questions + answers:
        for ch in text:
            char_to_id.setdefault(ch, len(char_to_id))
    id_to_char = {i: ch for ch, i in char_to_id.items()}
    x = numpy.array([[char_to_id[ch] for ch in q] for q in questions], dtype=numpy.int32)
    t = numpy.array([[char_to_id[ch] for ch in a] for a in answers], dtype=numpy.int32)
    order = numpy.random.RandomState(seed).permutation(len(x))
    x, t = x[order], t[order]
    split = len(x) - len(x) // 10
    return ((x[:split], t[:split]), (x[split:], t[split:])), char_to_id, id_to_char


def train_and_answer(model, train, test, id_to_char, size, start):
    """The tail every seq2seq script shares: one epoch with Adam (batch 128,
    gradients clipped to 5), then ``size['questions']`` test questions
    answered one step at a time; prints the JSON line with the phases'
    times, measured from ``start`` (before the data was made)."""
    (x_train, t_train), (x_test, t_test) = train, test
    trainer = Trainer(model, Adam())
    built = time.perf_counter()
    trainer.fit(x_train, t_train, max_epoch=1, batch_size=128, max_grad=5.0)
    trained = time.perf_counter()
    guesses, correct = [], 0
    for i in range(size['questions']):
        guess, ok = eval_seq2seq(model, x_test[[i]], t_test[[i]], id_to_char)
        guesses.append(guess)
        correct += ok
    answered = time.perf_counter()
    emit(size=size, losses=trainer.losses, answers=guesses,
         accuracy=correct / size['questions'], step_times=trainer.step_times,
         parts=trainer.parts,
         times={'build': built - start, 'train': trained - built, 'answer': answered - trained},
         layers=layer_classes(model))
