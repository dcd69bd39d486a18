"""The book's training loops (Trainer for seq2seq, RnnlmTrainer for language models), timed part by part.

Each iteration does what the book's trainers do: forward and backward of
the model, ``remove_duplicate`` (tied weights: one param, the grads
added), gradient clipping, the optimizer's update. They print nothing;
``losses`` holds every iteration's loss, ``step_times`` every iteration's
seconds, and ``parts`` the seconds spent in each part over all iterations
(what the benchmark reports as the bound of what swapping layers can gain).
"""

import time

import numpy

from common.np import *  # noqa: F401,F403 (np)
from common.util import clip_grads

PARTS = ('batch', 'model', 'remove_duplicate', 'clip', 'update')


def remove_duplicate(params, grads):
    """Merge params that are one array: the same object, or 2-D arrays equal to
    each other's transpose (weight tying, ``TimeAffine(embed_W.T, b)``).

    The grads of each merged pair are added into the first one's (the
    second's transposed for a tied transpose), and the second is dropped
    from both lists, which are copies: the model's lists stay as they are.
    As the book's, it compares every pair again after each merge.
    """
    params, grads = list(params), list(grads)
    merged = True
    while merged:
        merged = False
        for i in range(len(params) - 1):
            for j in range(i + 1, len(params)):
                a, b = params[i], params[j]
                if a is b:
                    grads[i] += grads[j]
                elif a.ndim == 2 and b.ndim == 2 and a.T.shape == b.shape and np.all(a.T == b):
                    grads[i] += grads[j].T
                else:
                    continue
                del params[j], grads[j]
                merged = True
                break
            if merged:
                break
    return params, grads


class _Timed:
    """Per-iteration bookkeeping shared by both trainers."""

    def __init__(self, model, optimizer):
        self.model, self.optimizer = model, optimizer
        self.losses, self.step_times = [], []
        self.parts = dict.fromkeys(PARTS, 0.0)

    def _step(self, batch, max_grad):
        """One iteration on the batch that ``batch()`` returns."""
        clock, parts = time.perf_counter, self.parts
        t0 = clock()
        x, t = batch()
        t1 = clock()
        loss = self.model.forward(x, t)
        self.model.backward()
        t2 = clock()
        params, grads = remove_duplicate(self.model.params, self.model.grads)
        t3 = clock()
        if max_grad is not None:
            clip_grads(grads, max_grad)
        t4 = clock()
        self.optimizer.update(params, grads)
        t5 = clock()
        for name, seconds in zip(PARTS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            parts[name] += seconds
        self.losses.append(float(loss))
        self.step_times.append(t5 - t0)


class Trainer(_Timed):
    """Mini-batch training on (questions, answers) arrays, shuffled every epoch."""

    def fit(self, x, t, max_epoch=1, batch_size=32, max_grad=None):
        n = len(x)
        iters = n // batch_size
        for _ in range(max_epoch):
            order = numpy.random.permutation(n)
            x, t = x[order], t[order]
            for k in range(iters):
                rows = slice(k * batch_size, (k + 1) * batch_size)
                self._step(lambda: (x[rows], t[rows]), max_grad)


class RnnlmTrainer(_Timed):
    """Truncated BPTT over one long corpus: row i of every batch reads on from
    offset i * (len / batch_size), ``time_size`` ids per batch."""

    def __init__(self, model, optimizer):
        super().__init__(model, optimizer)
        self.time_idx = 0

    def get_batch(self, xs, ts, batch_size, time_size):
        n = len(xs)
        offsets = numpy.arange(batch_size) * (n // batch_size)
        batch_x = np.empty((batch_size, time_size), dtype='i')
        batch_t = np.empty((batch_size, time_size), dtype='i')
        for step in range(time_size):
            where = (offsets + self.time_idx) % n
            batch_x[:, step], batch_t[:, step] = xs[where], ts[where]
            self.time_idx += 1
        return batch_x, batch_t

    def fit(self, xs, ts, max_epoch=1, batch_size=20, time_size=35, max_grad=None):
        iters = len(xs) // (batch_size * time_size)
        self.time_idx = 0
        for _ in range(max_epoch):
            for _ in range(iters):
                self._step(lambda: self.get_batch(xs, ts, batch_size, time_size), max_grad)
