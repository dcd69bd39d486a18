"""Time training steps of chapter 6's BetterRnnlm on random word ids, as the book's train_better_rnnlm.py trains it (SGD, lr 20, clipping at 0.25)."""

import argparse
import sys
import time

sys.path.append('..')
import numpy as np  # noqa: E402

from common.optimizer import SGD  # noqa: E402
from common.report import emit, layer_classes  # noqa: E402
from common.trainer import RnnlmTrainer  # noqa: E402
from better_rnnlm import BetterRnnlm  # noqa: E402

FULL = dict(vocab=10000, units=650, batch=20, time=35, steps=20)
QUICK = dict(vocab=500, units=32, batch=4, time=5, steps=3)

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument('--quick', action='store_true', help='tiny sizes (a smoke run)')
parser.add_argument('--steps', type=int, help='training steps (default 20; quick 3)')
args = parser.parse_args()
size = dict(QUICK if args.quick else FULL)
size['steps'] = args.steps or size['steps']

np.random.seed(1)
start = time.perf_counter()
corpus = np.random.randint(0, size['vocab'],
                           size['steps'] * size['batch'] * size['time'] + 1).astype(np.int32)
model = BetterRnnlm(size['vocab'], size['units'], size['units'], dropout_ratio=0.5)
trainer = RnnlmTrainer(model, SGD(lr=20.0))
built = time.perf_counter()
trainer.fit(corpus[:-1], corpus[1:], max_epoch=1, batch_size=size['batch'],
            time_size=size['time'], max_grad=0.25)
trained = time.perf_counter()

emit(size=size, losses=trainer.losses, answers=[], step_times=trainer.step_times,
     parts=trainer.parts, times={'build': built - start, 'train': trained - built},
     layers=layer_classes(model))
