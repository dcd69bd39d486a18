"""The book's ``common`` package, as the benchmark scripts of ``benchmarks/book_style`` use it."""
