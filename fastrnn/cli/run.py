"""``fastrnn run``: run a script of the book as python would, on fastrnn's
layers (``fastrnn.book`` holds the import hook)."""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from ..book import NumpyOnlyError, main_file, run_script
from .checks import UsageError, check_files


def run_script_command(args: argparse.Namespace) -> int:
    """Run ``fastrnn run`` with parsed ``args``; return the script's exit status
    (2, after one line, for a script that would run the book on the GPU)."""
    script = main_file(args.script)  # for a folder, its __main__.py, as python runs it
    if os.path.isdir(args.script):
        if not os.path.lexists(script):  # anything else there: check_files says what
            raise UsageError(f"SCRIPT {args.script}: can't find '__main__' module in "
                             f"{os.path.abspath(args.script)!r}")
        check_files({"SCRIPT": os.path.join(args.script, "__main__.py")}, {})
    else:
        check_files({"SCRIPT": args.script}, {})
    try:
        run_script(args.script, args.args, lambda line: print(line, file=sys.stderr))
    except SystemExit as e:  # the script's own exit status, as under python
        if e.code is None or isinstance(e.code, int):
            return e.code or 0
        print(e.code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("fastrnn run: interrupted", file=sys.stderr)
        return 130
    except NumpyOnlyError as e:  # the book on the GPU: stopped at the import that showed it
        print(f"fastrnn run: error: {e}", file=sys.stderr)
        return 2
    except BaseException as e:  # noqa: BLE001 - as python: the traceback, status 1
        # from the script's own frames on, as python prints it (none for a
        # script that does not compile: then the SyntaxError alone)
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != script:
            tb = tb.tb_next
        traceback.print_exception(type(e), e, tb)
        return 1
    return 0
