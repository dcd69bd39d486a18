"""The book's helpers that the chapters' scripts call: gradient clipping and answering one seq2seq question."""

from common.np import *  # noqa: F401,F403 (np)


def clip_grads(grads, max_norm):
    """Scale every grad in place so that their global L2 norm is at most ``max_norm``."""
    total = 0
    for g in grads:
        total += np.sum(g ** 2)
    rate = max_norm / (np.sqrt(total) + 1e-6)
    if rate < 1:
        for g in grads:
            g *= rate


def eval_seq2seq(model, question, correct, id_to_char):
    """Answer one question (1, T_in) and compare with ``correct`` (1, T_out).

    The first id of ``correct`` is the start mark the decoder begins from;
    the model generates as many ids as follow it, one step at a time.
    Returns (the answer as text, 1 if it is the correct one else 0).
    """
    correct = correct.flatten()
    start_id, correct = correct[0], correct[1:]
    guess = model.generate(question, start_id, len(correct))
    guess = ''.join(id_to_char[int(c)] for c in guess)
    return guess, int(guess == ''.join(id_to_char[int(c)] for c in correct))
