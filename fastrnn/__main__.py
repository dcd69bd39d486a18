"""``python -m fastrnn``: the ``fastrnn`` command."""

from .cli import console

console()
