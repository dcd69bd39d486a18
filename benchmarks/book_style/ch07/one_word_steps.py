"""Time TimeLSTM on one word at a time (N = 1, T = 1), as seq2seq answering and text generation call it, at the chapters' decoder sizes (wordvec 16, hidden 128 and 256)."""

import argparse
import sys
import time

sys.path.append('..')
import numpy as np  # noqa: E402

from common.report import emit, layer_classes  # noqa: E402
from common.time_layers import TimeLSTM  # noqa: E402

FULL = dict(calls=2000, blocks=7)
QUICK = dict(calls=20, blocks=2)
D = 16


def per_call(step, calls, blocks):
    """Seconds per call of ``step()``: each of ``blocks`` blocks of ``calls`` calls."""
    times = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(calls):
            step()
        times.append((time.perf_counter() - start) / calls)
    return times


parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument('--quick', action='store_true', help='a few calls (a smoke run)')
args = parser.parse_args()
size = QUICK if args.quick else FULL

np.random.seed(3)
checks, times, layers = [], {}, {}
for H in (128, 256):
    Wx = (np.random.randn(D, 4 * H) / np.sqrt(D)).astype('f')
    Wh = (np.random.randn(H, 4 * H) / np.sqrt(H)).astype('f')
    b = np.zeros(4 * H, dtype='f')
    x = np.random.randn(1, 1, D).astype('f')
    dh = np.random.randn(1, 1, H).astype('f')

    # training-style: a fresh state, forward and backward
    lstm = TimeLSTM(Wx, Wh, b, stateful=False)
    hs = lstm.forward(x)
    dxs = lstm.backward(dh)
    checks += [float(np.abs(a).sum()) for a in (hs, dxs, *lstm.grads, lstm.dh)]

    def train_step():
        lstm.forward(x)
        lstm.backward(dh)

    times[f'fwd+bwd H={H}'] = per_call(train_step, size['calls'], size['blocks'])

    # generation-style: stateful, forward alone, the state carried from call to call
    gen = TimeLSTM(Wx, Wh, b, stateful=True)
    times[f'forward H={H}'] = per_call(lambda: gen.forward(x), size['calls'], size['blocks'])
    checks.append(float(np.abs(gen.forward(x)).sum()))
    layers[f'H={H}'] = layer_classes([lstm])['[0]']

emit(size=size, losses=checks, answers=[], per_call=times, layers=layers)
