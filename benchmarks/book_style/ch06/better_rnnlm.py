"""Chapter 6's improved language model, book-style: two LSTM layers, dropout around them, the output layer tied to the embedding."""

import sys

sys.path.append('..')
from common.time_layers import *  # noqa: E402,F401,F403 (the layers and np)
from common.base_model import BaseModel  # noqa: E402


class BetterRnnlm(BaseModel):
    """embedding -> dropout -> LSTM -> dropout -> LSTM -> dropout -> affine.

    The affine layer's weight is the embedding's, transposed
    (``TimeAffine(embed_W.T, b)``: the same memory), so ``params`` holds
    it twice and the trainer's ``remove_duplicate`` merges its grads.
    """

    def __init__(self, vocab_size=10000, wordvec_size=650, hidden_size=650,
                 dropout_ratio=0.5):
        V, D, H = vocab_size, wordvec_size, hidden_size
        randn = np.random.randn
        embed_W = (randn(V, D) / 100).astype('f')

        def lstm_weights(d):
            return ((randn(d, 4 * H) / np.sqrt(d)).astype('f'),
                    (randn(H, 4 * H) / np.sqrt(H)).astype('f'),
                    np.zeros(4 * H, dtype='f'))

        self.lstm_layers = [TimeLSTM(*lstm_weights(D), stateful=True),
                            TimeLSTM(*lstm_weights(H), stateful=True)]
        self.drop_layers = [TimeDropout(dropout_ratio) for _ in range(3)]
        self.layers = [TimeEmbedding(embed_W),
                       self.drop_layers[0], self.lstm_layers[0],
                       self.drop_layers[1], self.lstm_layers[1],
                       self.drop_layers[2],
                       TimeAffine(embed_W.T, np.zeros(V, dtype='f'))]
        self.loss_layer = TimeSoftmaxWithLoss()
        self.params = [p for layer in self.layers for p in layer.params]
        self.grads = [g for layer in self.layers for g in layer.grads]

    def predict(self, xs, train_flg=False):
        for layer in self.drop_layers:
            layer.train_flg = train_flg
        for layer in self.layers:
            xs = layer.forward(xs)
        return xs

    def forward(self, xs, ts, train_flg=True):
        return self.loss_layer.forward(self.predict(xs, train_flg), ts)

    def backward(self, dout=1):
        dout = self.loss_layer.backward(dout)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def reset_state(self):
        for layer in self.lstm_layers:
            layer.reset_state()
