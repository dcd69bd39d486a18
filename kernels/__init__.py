"""fastrnn's Numba kernels, installed as ``fastrnn.kernels``."""
