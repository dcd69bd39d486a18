"""fastrnn's Numba kernels, installed as ``fastrnn_kernels``."""
