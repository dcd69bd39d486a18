"""Train chapter 8's AttentionSeq2seq on a synthetic date-format set (dates written many ways -> YYYY-MM-DD), then answer test questions one step at a time, timing each phase."""

import argparse
import datetime
import sys
import time

sys.path.append('..')
import numpy as np  # noqa: E402

from common.sequence import load_pairs, train_and_answer  # noqa: E402
from attention_seq2seq import AttentionSeq2seq  # noqa: E402

# iterations: of the training loop (an epoch of the full set is 351); 0 = one epoch
FULL = dict(examples=50000, iterations=0, questions=300)
QUICK = dict(examples=600, iterations=3, questions=10)

MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
          'September', 'October', 'November', 'December']
DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']


def written(d, style):
    """The date ``d`` in one of ten human formats (at most 29 characters)."""
    month, day = MONTHS[d.month - 1], DAYS[d.weekday()]
    return [
        f"{month} {d.day}, {d.year}",
        f"{month[:3]} {d.day}, {d.year}",
        f"{d.day} {month} {d.year}",
        f"{d.month}/{d.day}/{d.year % 100:02d}",
        f"{d.month:02d}/{d.day:02d}/{d.year}",
        f"{d.year}.{d.month:02d}.{d.day:02d}",
        f"{day}, {month} {d.day}, {d.year}".upper(),
        f"{day}, {month} {d.day}, {d.year}",
        f"{d.day:02d}.{d.month:02d}.{d.year % 100:02d}",
        f"{month[:3]} {d.day} {d.year}".lower(),
    ][style]


def date_pairs(n, rng):
    """n random dates of 1970-2020, written in a random format, and "_" (the
    start mark) + the date as YYYY-MM-DD."""
    first = datetime.date(1970, 1, 1).toordinal()
    last = datetime.date(2020, 12, 31).toordinal()
    days = rng.randint(first, last + 1, n)
    styles = rng.randint(0, 10, n)
    dates = [datetime.date.fromordinal(int(k)) for k in days]
    return ([written(d, int(s)) for d, s in zip(dates, styles)],
            ['_' + d.isoformat() for d in dates])


parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument('--quick', action='store_true', help='a few iterations (a smoke run)')
args = parser.parse_args()
size = QUICK if args.quick else FULL

start = time.perf_counter()
questions, answers = date_pairs(size['examples'], np.random.RandomState(2024))
((x_train, t_train), (x_test, t_test)), char_to_id, id_to_char = load_pairs(questions, answers)
x_train, x_test = x_train[:, ::-1], x_test[:, ::-1]  # the book reverses the questions
if size['iterations']:
    x_train, t_train = x_train[:128 * size['iterations']], t_train[:128 * size['iterations']]
np.random.seed(8)
model = AttentionSeq2seq(len(char_to_id), wordvec_size=16, hidden_size=256)
train_and_answer(model, (x_train, t_train), (x_test, t_test), id_to_char, size, start)
