"""The book's switch between numpy and cupy: these benchmarks run on numpy."""

GPU = False
