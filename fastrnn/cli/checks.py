"""The one place where the ``fastrnn`` commands check the paths and values
they are given, before any training or timing starts.

A subcommand declares its input and output files; ``check_files`` checks them
all and raises ``UsageError`` (one line, exit status 2) on the first problem,
so that no run can overwrite an input, another output, a link's target, a
folder, a FIFO or a device. Only the standard library is imported here.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import math
import os
import signal
import stat
import sys
from typing import Callable, Iterator, Mapping

from ..files import FileKindError, describe_mode, open_regular

SAVE_EXTENSIONS = (".npz",)
# Formats matplotlib's savefig writes with the Agg backend and its own
# dependencies (Pillow): no LaTeX, nothing optional.
PLOT_EXTENSIONS = (".png", ".pdf", ".svg", ".eps", ".ps", ".jpg", ".jpeg", ".tif",
                   ".tiff")
JSON_EXTENSIONS = (".json",)
STDOUT = "-"  # an output path meaning standard output

SEED_LIMIT = 2 ** 32  # numpy's legacy seeds are 32-bit; one rule for every command


class UsageError(Exception):
    """A user error: reported in one line, exit status 2."""


def check_input(option: str, path: str) -> os.stat_result:
    """Check that ``path``, given for ``option``, is a readable regular file.

    Returns its ``os.stat`` (its size feeds the memory estimate). The
    content (text, parameters) is checked by the reader that parses it.
    """
    if path == "":
        raise UsageError(f"{option}: empty file name")
    try:
        with open_regular(path) as f:
            return os.fstat(f.fileno())
    except FileNotFoundError:
        raise UsageError(f"{option} {path}: file does not exist") from None
    except FileKindError as e:
        raise UsageError(f"{option} {path}: {e}") from None
    except OSError as e:
        raise UsageError(f"{option} {path}: cannot be read: {e.strerror or e}") from None


def _check_output(option: str, path: str, extensions: tuple[str, ...]) -> None:
    if path == "":
        raise UsageError(f"{option}: empty file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"{option} {path}: folder {folder} does not exist")
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as e:
        raise UsageError(f"{option} {path}: {e.strerror or e}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise UsageError(f"{option} {path}: is a folder, expected a file name")
    if mode is not None and not stat.S_ISREG(mode):
        # A link would be replaced by the new file while its target kept the
        # old content; a FIFO or device would be replaced or written into.
        raise UsageError(f"{option} {path}: is {describe_mode(mode)}; name a regular file "
                         "(or a new one) instead")
    if not path.lower().endswith(extensions):
        raise UsageError(f"{option} {path}: unsupported file type, expected a name "
                         f"ending in {', '.join(extensions)}")
    # Files are written beside their destination and renamed over it: the
    # folder must be writable, whatever the file's own mode.
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: folder {folder} is not writable")
    # The mode bits too: root may write a file whatever its mode, and a
    # read-only file is one its owner chose to keep as it is.
    if mode is not None and not (mode & stat.S_IWUSR and os.access(path, os.W_OK)):
        raise UsageError(f"{option} {path}: file is read-only and is never replaced; "
                         "make it writable or name another file")


def _identity(path: str) -> tuple[str, tuple[int, int] | None]:
    """The resolved path and, if it exists, (device, inode) of ``path``."""
    try:
        st = os.stat(path)
        return os.path.realpath(path), (st.st_dev, st.st_ino)
    except OSError:
        return os.path.realpath(path), None


def check_files(inputs: Mapping[str, str | None],
                outputs: Mapping[str, tuple[str | None, tuple[str, ...]]],
                may_replace: Mapping[str, str] | None = None) -> dict[str, os.stat_result]:
    """Check every input and output file of a command before it starts.

    Parameters
    ----------
    inputs : option -> path (None: not given). Each must be a readable
        regular file.
    outputs : option -> (path or None, allowed extensions). ``"-"`` means
        standard output. Each must name a new or writable regular file (not
        a link, folder, FIFO or device) with an allowed extension, in a
        writable folder, and be no other given file.
    may_replace : output option -> input option it may overwrite (e.g. a
        checkpoint saved over the one training resumed from).

    Returns
    -------
    The ``os.stat`` of each given input, by option.

    Raises
    ------
    UsageError
        On the first problem; files are the same if their resolved paths
        or their (device, inode) are.
    """
    may_replace = may_replace or {}
    stats = {option: check_input(option, path)
             for option, path in inputs.items() if path is not None}
    given = [(option, path, False) for option, path in inputs.items() if path is not None]
    for option, (path, extensions) in outputs.items():
        if path is not None and path != STDOUT:
            _check_output(option, path, extensions)
            given.append((option, path, True))
    # Two inputs may be one file (test on the validation text); an output
    # must be no other given file.
    seen: list[tuple[str, str, bool, str, tuple[int, int] | None]] = []
    for option, path, out in given:
        real, ident = _identity(path)
        for other, other_path, other_out, other_real, other_ident in seen:
            if not (out or other_out) or may_replace.get(option) == other:
                continue
            if real == other_real or (ident is not None and ident == other_ident):
                raise UsageError(f"{option} {path} is the same file as {other} "
                                 f"{other_path}: give each its own file")
        seen.append((option, path, out, real, ident))
    return stats


def check_plot_backend(path: str | None) -> None:
    """Raise ``UsageError`` if ``--plot`` is given and matplotlib is missing."""
    if path is not None and importlib.util.find_spec("matplotlib") is None:
        raise UsageError("--plot needs matplotlib (pip install matplotlib)")


def positive(kind: type) -> Callable[[str], int | float]:
    """An argparse type: ``kind(text)`` (int or float), finite and > 0."""
    noun = "integer" if kind is int else "number"

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not (value > 0 and math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"must be a positive {noun}, got {text}")
        return value
    return parse


def ratio(text: str) -> float:
    """An argparse type: a float in [0, 1) (a dropout ratio)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to below 1, got {text}")
    return value


def apply_presets(args: argparse.Namespace, preset: Mapping[str, object]) -> None:
    """Give every option of ``args`` left at None its value in ``preset``
    (options given on the command line win), and record the names of the
    options it filled in ``args.from_preset``, so that messages can say
    that a value is the preset's rather than the user's."""
    filled = {name for name in preset if getattr(args, name, None) is None}
    for name in filled:
        setattr(args, name, preset[name])
    args.from_preset = getattr(args, "from_preset", set()) | filled


def seed_int(text: str) -> int:
    """An argparse type: an integer seed in [0, 2**32)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < SEED_LIMIT:
        raise argparse.ArgumentTypeError(
            f"must be an integer from 0 to {SEED_LIMIT - 1}, got {text}")
    return value


def available_memory() -> int | None:
    """Bytes of memory this machine can still give without swapping, or
    None if unknown (``MemAvailable`` of /proc/meminfo, else free pages)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _size(n: float) -> str:
    """Bytes in words: "512 bytes", "3.2 GB"."""
    if n < 1000:
        return f"{n:.0f} bytes"
    for unit in ("KB", "MB", "GB", "TB"):
        n /= 1000
        if n < 1000:
            break
    return f"{n:.1f} {unit}"


def check_memory(needed: int, what: str) -> None:
    """Raise ``UsageError`` if about ``needed`` bytes (for ``what``, e.g.
    the sizes that give them) exceed the memory available now."""
    free = available_memory()
    if free is not None and needed > free:
        raise UsageError(f"{what} need about {_size(needed)} of memory and "
                         f"{_size(free)} is available; choose smaller sizes")


def memory_error_message(what: str) -> str:
    """The one line for a ``MemoryError`` that escaped the estimate."""
    free = available_memory()
    tail = "" if free is None else f" ({_size(free)} available now)"
    return f"out of memory while {what}{tail}; choose smaller sizes"


# Ctrl-C: Python turns SIGINT into a KeyboardInterrupt wherever the main
# thread is. Raised inside a weakref or ctypes callback (seen: the import
# lock's, llvmlite's object-cache notifier while compiling), it cannot
# propagate: Python prints it as "Exception ignored" and goes on. Recorded
# as well, it still ends the run at the next check, in one line.
_interrupts: list[int] = []


def _on_sigint(signum: int, frame: object) -> None:
    _interrupts.append(signum)
    raise KeyboardInterrupt


@contextlib.contextmanager
def recording_interrupts() -> Iterator[None]:
    """Inside, Ctrl-C raises ``KeyboardInterrupt`` as usual and is also
    recorded for ``interrupted``. A SIGINT handler other than Python's
    default (an ignored SIGINT, a host's own handler) is left alone."""
    _interrupts.clear()
    previous = None
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        with contextlib.suppress(ValueError):  # only the main thread may set it
            previous = signal.signal(signal.SIGINT, _on_sigint)
    unraisable = sys.unraisablehook

    def quiet_about_interrupts(info: sys.UnraisableHookArgs) -> None:
        if not (_interrupts and issubclass(info.exc_type, KeyboardInterrupt)):
            unraisable(info)
    sys.unraisablehook = quiet_about_interrupts
    try:
        yield
    finally:
        sys.unraisablehook = unraisable
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def interrupted() -> bool:
    """Whether Ctrl-C was pressed inside ``recording_interrupts``."""
    return bool(_interrupts)


def check_interrupted() -> None:
    """Raise ``KeyboardInterrupt`` if Ctrl-C was pressed and swallowed."""
    if _interrupts:
        raise KeyboardInterrupt


def failure_status(command: str, e: BaseException, user_errors: tuple[type, ...] = (),
                   doing: str = "running", kept: str = "") -> int:
    """Print the one line for a subcommand that failed with ``e`` and return
    its exit status; re-raise what is neither the user's nor the system's
    doing (a bug).

    130 after Ctrl-C (``kept`` is added to that line, e.g. which checkpoint
    is complete); 2 for a ``UsageError`` or one of ``user_errors``, or a
    ``MemoryError`` (while ``doing``); 1 for an ``OSError`` (e.g. a full disk).
    """
    if isinstance(e, KeyboardInterrupt) or interrupted():
        print(f"{command}: interrupted{kept}", file=sys.stderr)
        return 130
    if isinstance(e, (UsageError, *user_errors)):
        print(f"{command}: error: {e}", file=sys.stderr)
        return 2
    if isinstance(e, MemoryError):
        print(f"{command}: error: {memory_error_message(doing)}", file=sys.stderr)
        return 2
    if isinstance(e, OSError):
        where = f": {e.filename}" if e.filename else ""
        print(f"{command}: error: {e.strerror or e}{where}", file=sys.stderr)
        return 1
    raise e
