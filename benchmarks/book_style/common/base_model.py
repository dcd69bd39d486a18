"""The book's model base class: params and grads lists, and parameters saved to and loaded from a pickle."""

import os
import pickle

from common.np import *  # noqa: F401,F403 (np)


class BaseModel:
    """What every model of the chapters shares.

    A model fills ``params`` and ``grads`` once with the arrays of its
    layers; optimizers and ``load_params`` then change those arrays in
    place, never rebind them.
    """

    def __init__(self):
        self.params, self.grads = None, None

    def forward(self, *args):
        raise NotImplementedError

    def backward(self, *args):
        raise NotImplementedError

    def save_params(self, file_name=None):
        """Pickle the params as float16 (the book's format), to CLASSNAME.pkl by default."""
        file_name = file_name or type(self).__name__ + '.pkl'
        with open(file_name, 'wb') as f:
            pickle.dump([p.astype(np.float16) for p in self.params], f)

    def load_params(self, file_name=None):
        """Write the pickled params into this model's arrays, in place."""
        file_name = file_name or type(self).__name__ + '.pkl'
        if not os.path.exists(file_name):
            raise IOError('No file: ' + file_name)
        with open(file_name, 'rb') as f:
            saved = pickle.load(f)
        for param, value in zip(self.params, saved):
            param[...] = value.astype(param.dtype)
