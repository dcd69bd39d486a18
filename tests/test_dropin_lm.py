"""Drop-in: a small language model trained with the reference layer and with
fastrnn's gives the same loss trajectory."""

import numpy as np
import pytest

import fastrnn
from fastrnn import reference

V, D, H, N, T = 30, 8, 12, 4, 5


class TinyLM:
    """Embedding -> TimeRNN (stateful) -> affine -> softmax cross-entropy,
    written as the book's chapter-5 model is (SGD on params in place)."""

    def __init__(self, time_rnn_cls, weights):
        self.W_emb, Wx, Wh, b, self.W_out, self.b_out = [w.copy() for w in weights]
        self.rnn = time_rnn_cls(Wx, Wh, b, stateful=True)
        self.params = [self.W_emb, *self.rnn.params, self.W_out, self.b_out]

    def step(self, ids, targets, lr):
        xs = self.W_emb[ids]
        hs = self.rnn.forward(xs)
        scores = hs.reshape(N * T, H) @ self.W_out + self.b_out
        scores -= scores.max(axis=1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=1, keepdims=True)
        t = targets.reshape(-1)
        loss = -np.mean(np.log(probs[np.arange(N * T), t] + 1e-7))
        dscores = probs
        dscores[np.arange(N * T), t] -= 1
        dscores /= N * T
        dW_out = hs.reshape(N * T, H).T @ dscores
        db_out = dscores.sum(axis=0)
        dxs = self.rnn.backward((dscores @ self.W_out.T).reshape(N, T, H))
        dW_emb = np.zeros_like(self.W_emb)
        np.add.at(dW_emb, ids, dxs)
        grads = [dW_emb, *self.rnn.grads, dW_out, db_out]
        for p, g in zip(self.params, grads):
            p -= lr * g
        return loss


def _train(time_rnn_cls, weights, corpus, steps=20, lr=1.0):
    model = TinyLM(time_rnn_cls, weights)
    jump = (len(corpus) - 1) // N
    offsets = [i * jump for i in range(N)]
    losses = []
    for it in range(steps):
        ids = np.array([[corpus[(o + it * T + t) % (len(corpus) - 1)] for t in range(T)]
                        for o in offsets])
        targets = np.array([[corpus[(o + it * T + t) % (len(corpus) - 1) + 1] for t in range(T)]
                            for o in offsets])
        losses.append(model.step(ids, targets, lr))
    return np.array(losses), model


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-4), (np.float64, 1e-10)])
def test_same_loss_trajectory_as_the_reference(dtype, rtol):
    rng = np.random.default_rng(5)
    corpus = np.tile(rng.permutation(V), 14)  # each word predicts the next
    weights = [(0.01 * rng.standard_normal((V, D))),
               rng.standard_normal((D, H)) / np.sqrt(D),
               rng.standard_normal((H, H)) / np.sqrt(H),
               np.zeros(H),
               rng.standard_normal((H, V)) / np.sqrt(H),
               np.zeros(V)]
    weights = [w.astype(dtype) for w in weights]
    ref_losses, ref_model = _train(reference.TimeRNN, weights, corpus)
    fast_losses, fast_model = _train(fastrnn.TimeRNN, weights, corpus)
    assert ref_losses[-1] < 0.9 * ref_losses[0]  # it does learn
    np.testing.assert_allclose(fast_losses, ref_losses, rtol=rtol)
    for p, q in zip(fast_model.params, ref_model.params):
        np.testing.assert_allclose(p, q, rtol=rtol * 10, atol=rtol)
