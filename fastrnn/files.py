"""Reading files safely: regular files only, opened without blocking.

Used by every reader of user files (``fastrnn.lm.data``, checkpoints) and
by the command line's checks, so that a FIFO, device or folder is never
read and nothing can swap a file between its check and its read.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO


class FileKindError(ValueError):
    """A path that names something other than a regular file."""


def describe_mode(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """Open ``path`` for reading in binary mode if it is a regular file.

    It is opened without blocking (a FIFO with no writer would wait forever)
    and its type is taken from the open descriptor, so nothing can swap it
    between the check and the read. A FIFO, device, socket or folder is
    never read.

    Raises
    ------
    FileKindError
        If it is not a regular file (the message says what it is).
    OSError
        If it cannot be opened (missing, no permission, ...).
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FileKindError(f"is {describe_mode(mode)}, not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
