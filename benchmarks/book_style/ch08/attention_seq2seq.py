"""Chapter 8's encoder-decoder with attention, book-style: the decoder attends over all the encoder's hidden states at every step."""

import sys

sys.path.append('..')
from common.time_layers import *  # noqa: E402,F401,F403 (the layers and np)
from ch07.seq2seq import Encoder, Seq2seq  # noqa: E402
from ch08.attention_layer import TimeAttention  # noqa: E402


class AttentionEncoder(Encoder):
    """The chapter-7 encoder, giving all of its hidden states (N, T, H)."""

    def forward(self, xs):
        return self.lstm.forward(self.embed.forward(xs))

    def backward(self, dhs):
        return self.embed.backward(self.lstm.backward(dhs))


class AttentionDecoder:
    """embedding -> stateful LSTM (from the encoder's last h) -> attention over
    the encoder's hs -> affine on [context, h] (2H inputs)."""

    def __init__(self, vocab_size, wordvec_size, hidden_size):
        V, D, H = vocab_size, wordvec_size, hidden_size
        randn = np.random.randn
        self.embed = TimeEmbedding((randn(V, D) / 100).astype('f'))
        self.lstm = TimeLSTM((randn(D, 4 * H) / np.sqrt(D)).astype('f'),
                             (randn(H, 4 * H) / np.sqrt(H)).astype('f'),
                             np.zeros(4 * H, dtype='f'), stateful=True)
        self.attention = TimeAttention()
        self.affine = TimeAffine((randn(2 * H, V) / np.sqrt(2 * H)).astype('f'),
                                 np.zeros(V, dtype='f'))
        layers = (self.embed, self.lstm, self.attention, self.affine)
        self.params = [p for layer in layers for p in layer.params]
        self.grads = [g for layer in layers for g in layer.grads]

    def _scores(self, xs, enc_hs):
        dec_hs = self.lstm.forward(self.embed.forward(xs))
        context = self.attention.forward(enc_hs, dec_hs)
        return self.affine.forward(np.concatenate((context, dec_hs), axis=2))

    def forward(self, xs, enc_hs):
        self.lstm.set_state(enc_hs[:, -1])
        return self._scores(xs, enc_hs)

    def backward(self, dscore):
        dout = self.affine.backward(dscore)
        H = dout.shape[2] // 2
        dcontext, ddec_hs = dout[:, :, :H], dout[:, :, H:]
        denc_hs, ddec_hs_attention = self.attention.backward(dcontext)
        dout = self.lstm.backward(ddec_hs + ddec_hs_attention)
        denc_hs[:, -1] += self.lstm.dh
        self.embed.backward(dout)
        return denc_hs

    def generate(self, enc_hs, start_id, sample_size):
        """Greedy decoding, one id (N = 1, T = 1) per step."""
        self.lstm.set_state(enc_hs[:, -1])
        sampled, sample_id = [], start_id
        for _ in range(sample_size):
            score = self._scores(np.array([sample_id]).reshape(1, 1), enc_hs)
            sample_id = int(np.argmax(score.flatten()))
            sampled.append(sample_id)
        return sampled


class AttentionSeq2seq(Seq2seq):
    """Seq2seq with the attention encoder and decoder."""

    def __init__(self, vocab_size, wordvec_size, hidden_size):
        args = vocab_size, wordvec_size, hidden_size
        self.encoder = AttentionEncoder(*args)
        self.decoder = AttentionDecoder(*args)
        self.softmax = TimeSoftmaxWithLoss()
        self.params = self.encoder.params + self.decoder.params
        self.grads = self.encoder.grads + self.decoder.grads
