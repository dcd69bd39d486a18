"""Reading and writing user files safely.

Reading: regular files only, opened without blocking (``open_regular``),
used by every reader of user files (``fastrnn.lm.data``, checkpoints) and
by the command line's checks, so that a FIFO, device or folder is never
read and nothing can swap a file between its check and its read. Writing:
beside the destination, then renamed over it (``write_replacing``), so an
interrupted write never leaves a broken file where a good one was.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from typing import BinaryIO, Callable


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


def write_replacing(path: str | os.PathLike, write: Callable[[BinaryIO], None],
                    suffix: str = "") -> None:
    """Write a file with ``write(f)`` beside ``path``, then rename it over ``path``.

    An interrupted write never leaves a broken file where the last good one
    was; a file it replaces keeps its permission bits. A ``path`` that is a
    symbolic link raises ``ValueError`` (the rename would replace the link
    and leave its target as it was); a read-only file (its owner's write
    bit cleared) raises ``PermissionError`` and is left as it is, even for
    root. ``suffix`` ends the temporary file's name (a writer that takes
    the format from it).
    """
    path = os.fspath(path)
    if os.path.islink(path):
        raise ValueError(f"{path} is a symbolic link: write to the file it points to")
    try:
        old_mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        old_mode = None
    if old_mode is not None and not old_mode & stat.S_IWUSR:
        raise PermissionError(errno.EACCES, "read-only file, not replaced", path)
    folder = os.path.dirname(os.path.abspath(path))
    # Named before it exists, so that an interrupt at any point can remove
    # it; created as open() would (mode 0o666 less the umask: mkstemp's
    # 0o600 would stay on the file).
    tmp = os.path.join(folder, f".fastrnn-{secrets.token_hex(8)}.tmp{suffix}")
    try:
        with open(tmp, "xb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if old_mode is not None:
            os.chmod(tmp, old_mode)
        os.replace(tmp, path)
    except BaseException:
        # Gone already if the interrupt came after the rename.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
