"""Chapter 7's encoder-decoder, book-style: an LSTM encoder whose last hidden state starts a stateful LSTM decoder."""

import sys

sys.path.append('..')
from common.time_layers import *  # noqa: E402,F401,F403 (the layers and np)
from common.base_model import BaseModel  # noqa: E402


def _lstm(D, H, stateful):
    randn = np.random.randn
    return TimeLSTM((randn(D, 4 * H) / np.sqrt(D)).astype('f'),
                    (randn(H, 4 * H) / np.sqrt(H)).astype('f'),
                    np.zeros(4 * H, dtype='f'), stateful=stateful)


def _embedding(V, D):
    return TimeEmbedding((np.random.randn(V, D) / 100).astype('f'))


class Encoder:
    """ids (N, T) -> embedding -> LSTM; gives the last step's h (N, H)."""

    def __init__(self, vocab_size, wordvec_size, hidden_size):
        self.embed = _embedding(vocab_size, wordvec_size)
        self.lstm = _lstm(wordvec_size, hidden_size, stateful=False)
        self.params = self.embed.params + self.lstm.params
        self.grads = self.embed.grads + self.lstm.grads
        self.hs = None

    def forward(self, xs):
        self.hs = self.lstm.forward(self.embed.forward(xs))
        return self.hs[:, -1, :]  # a view, not contiguous

    def backward(self, dh):
        dhs = np.zeros_like(self.hs)
        dhs[:, -1, :] = dh
        return self.embed.backward(self.lstm.backward(dhs))


class Decoder:
    """ids (N, T) -> embedding -> stateful LSTM started from h -> affine scores."""

    def __init__(self, vocab_size, wordvec_size, hidden_size):
        V, D, H = vocab_size, wordvec_size, hidden_size
        self.embed = _embedding(V, D)
        self.lstm = _lstm(D, H, stateful=True)
        self.affine = TimeAffine((np.random.randn(H, V) / np.sqrt(H)).astype('f'),
                                 np.zeros(V, dtype='f'))
        layers = (self.embed, self.lstm, self.affine)
        self.params = [p for layer in layers for p in layer.params]
        self.grads = [g for layer in layers for g in layer.grads]

    def forward(self, xs, h):
        self.lstm.set_state(h)
        return self.affine.forward(self.lstm.forward(self.embed.forward(xs)))

    def backward(self, dscore):
        dout = self.lstm.backward(self.affine.backward(dscore))
        self.embed.backward(dout)
        return self.lstm.dh

    def generate(self, h, start_id, sample_size):
        """Greedy decoding from h, one id (N = 1, T = 1) per step."""
        self.lstm.set_state(h)
        sampled, sample_id = [], start_id
        for _ in range(sample_size):
            x = np.array(sample_id).reshape(1, 1)
            score = self.affine.forward(self.lstm.forward(self.embed.forward(x)))
            sample_id = int(np.argmax(score.flatten()))
            sampled.append(sample_id)
        return sampled


class Seq2seq(BaseModel):
    """Encoder, decoder, softmax loss over the decoder's steps."""

    def __init__(self, vocab_size, wordvec_size, hidden_size):
        args = vocab_size, wordvec_size, hidden_size
        self.encoder = Encoder(*args)
        self.decoder = Decoder(*args)
        self.softmax = TimeSoftmaxWithLoss()
        self.params = self.encoder.params + self.decoder.params
        self.grads = self.encoder.grads + self.decoder.grads

    def forward(self, xs, ts):
        decoder_xs, decoder_ts = ts[:, :-1], ts[:, 1:]
        h = self.encoder.forward(xs)
        score = self.decoder.forward(decoder_xs, h)
        return self.softmax.forward(score, decoder_ts)

    def backward(self, dout=1):
        dh = self.decoder.backward(self.softmax.backward(dout))
        return self.encoder.backward(dh)

    def generate(self, xs, start_id, sample_size):
        return self.decoder.generate(self.encoder.forward(xs), start_id, sample_size)
