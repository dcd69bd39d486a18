"""The book's optimizers used by chapters 6-8: SGD and Adam, updating the params in place."""

from common.np import *  # noqa: F401,F403 (np)


class SGD:
    """p <- p - lr * g."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for p, g in zip(params, grads):
            p -= self.lr * g


class Adam:
    """Adam (Kingma and Ba), with the bias corrections folded into the step size.

    m <- m + (1 - beta1) (g - m),  v <- v + (1 - beta2) (g^2 - v),
    p <- p - lr_t m / (sqrt(v) + 1e-7),
    lr_t = lr sqrt(1 - beta2^k) / (1 - beta1^k) at the k-th update.
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.iter = 0
        self.m = self.v = None

    def update(self, params, grads):
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.iter += 1
        k = self.iter
        lr_t = self.lr * np.sqrt(1.0 - self.beta2 ** k) / (1.0 - self.beta1 ** k)
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m += (1 - self.beta1) * (g - m)
            v += (1 - self.beta2) * (g ** 2 - v)
            p -= lr_t * m / (np.sqrt(v) + 1e-7)
