"""Train chapter 7's Seq2seq for one epoch on a synthetic addition set, then answer test questions one step at a time, timing each phase."""

import argparse
import sys
import time

sys.path.append('..')
import numpy as np  # noqa: E402

from common.sequence import load_pairs, train_and_answer  # noqa: E402
from seq2seq import Seq2seq  # noqa: E402

FULL = dict(examples=50000, questions=300)
QUICK = dict(examples=1400, questions=20)


def addition_pairs(n, rng):
    """n sums of two numbers below 1000: "a+b" and "_" (the start mark) + the result."""
    a, b = rng.randint(0, 1000, n), rng.randint(0, 1000, n)
    return [f"{x}+{y}" for x, y in zip(a, b)], [f"_{x + y}" for x, y in zip(a, b)]


parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument('--quick', action='store_true', help='a small data set (a smoke run)')
args = parser.parse_args()
size = QUICK if args.quick else FULL

start = time.perf_counter()
questions, answers = addition_pairs(size['examples'], np.random.RandomState(2024))
((x_train, t_train), (x_test, t_test)), char_to_id, id_to_char = load_pairs(questions, answers)
np.random.seed(7)
model = Seq2seq(len(char_to_id), wordvec_size=16, hidden_size=128)
train_and_answer(model, (x_train, t_train), (x_test, t_test), id_to_char, size, start)
