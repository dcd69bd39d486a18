"""The book's chapter-5 RNN language model on fastrnn's kernels."""
