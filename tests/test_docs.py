"""The documentation cannot rot: its examples run, its options exist.

- Every ```python block of README.md, docs/*.md, CHANGELOG.md and
  benchmarks/README.md runs here, each in a fresh namespace, in a temporary
  folder, with the suite's warnings-as-errors.
  A block that must not run (it needs the book's code, a corpus, minutes of
  time) is fenced ```python no-run, and the line just above its fence is an
  HTML comment that gives the reason: ``<!-- no-run: ... -->``. That is a
  documented exclusion, checked below, not a skip.
- Every ``--option`` documented for ``fastrnn COMMAND`` (after it in one
  code span or code-block line, or in an option table under a heading that
  names the command) must appear in that command's ``--help``.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

import fastrnn
from fastrnn.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "CHANGELOG.md",
        ROOT / "benchmarks" / "README.md"]

FENCE = re.compile(r"^(`{3,})\s*(\S*)\s*(.*)$")
NO_RUN = re.compile(r"^<!--\s*no-run:\s*\S.*-->\s*$")


def _blocks(path: Path) -> list[tuple[int, str, str, str, str]]:
    """(line, language, options, code, line before the fence) of each fenced block."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i].strip())
        if not m:
            i += 1
            continue
        ticks, lang, options = m.groups()
        end = i + 1
        while end < len(lines) and lines[end].strip() != ticks:
            end += 1
        before = lines[i - 1].strip() if i else ""
        blocks.append((i + 1, lang, options, "\n".join(lines[i + 1:end]), before))
        i = end + 1
    return blocks


def _python_blocks():
    for path in DOCS:
        for line, lang, options, code, before in _blocks(path):
            if lang in ("python", "py"):
                yield pytest.param(path, line, options, code, before,
                                   id=f"{path.relative_to(ROOT)}:{line}")


PYTHON_BLOCKS = list(_python_blocks())
RUNNABLE = [p for p in PYTHON_BLOCKS if "no-run" not in p.values[2]]
EXCLUDED = [p for p in PYTHON_BLOCKS if "no-run" in p.values[2]]


def test_the_docs_exist_and_have_runnable_examples():
    names = {p.name for p in DOCS}
    assert {"README.md", "api.md", "language-model.md", "performance.md", "reliability.md",
            "design.md"} <= names
    assert len(RUNNABLE) >= 5


@pytest.mark.parametrize("path, line, options, code, before", RUNNABLE)
def test_python_example_runs(path, line, options, code, before, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"{path.name}:{line}", "exec"), {"__name__": "__doc_example__"})


@pytest.mark.parametrize("path, line, options, code, before", EXCLUDED or [
    pytest.param(None, 0, "", "", "", id="none")])
def test_excluded_example_states_why(path, line, options, code, before):
    if path is None:
        return
    assert NO_RUN.match(before), (
        f"{path.name}:{line}: a ```python no-run block needs '<!-- no-run: reason -->' "
        "on the line just above its fence")
    compile(code, f"{path.name}:{line}", "exec")  # still valid Python


# --- documented command-line options -------------------------------------------

OPTION = re.compile(r"(?<![\w-])(--[a-z][\w-]*)")
# The command: not fastrnn.lm, fastrnn/, or "from fastrnn import" in a code span.
FASTRNN = re.compile(r"(?<![\w./-])(?<!from )(?<!import )fastrnn(?=\s|$)")
SHELL = ("bash", "sh", "shell", "console", "")
HEADING = re.compile(r"^#+\s")


def _known_commands() -> set[str]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return set(sub.choices)


def _help(command: str | None) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main(([command] if command else []) + ["--help"])
    return out.getvalue()


def _mentions(text: str, known: set[str]) -> list[tuple[str | None, str | None]]:
    """(command, option) for every option after ``fastrnn [COMMAND]`` in ``text``
    (one code span or code line), and (word, None) for each command named;
    a ``run`` stops at its SCRIPT."""
    found = []
    starts = [m.end() for m in FASTRNN.finditer(text)]
    for start, stop in zip(starts, starts[1:] + [len(text)]):
        command = None
        for word in text[start:stop].split():
            if word.startswith("-"):
                found += [(command, opt) for opt in OPTION.findall(word.split("=")[0])]
            elif command is None and re.fullmatch(r"[a-z][\w-]*", word):
                command = word
                found.append((command, None))
                if command not in known:
                    break
            elif command in (None, "run") or word in ("&&", "||", ";", "|", ">", "2>&1") \
                    or word.startswith("#"):
                break  # run's SCRIPT and its arguments, or the end of the command
    return found


def _documented() -> list[tuple[str, int, str | None, str | None]]:
    """(file, line, command, option) of every mention; option None: the command alone."""
    known = _known_commands()
    found = []
    for path in DOCS:
        lines = path.read_text(encoding="utf-8").splitlines()
        in_code, shell, section_command, joined = False, False, None, ""
        for number, line in enumerate(lines, 1):
            stripped = line.strip()
            fence = FENCE.match(stripped)
            if fence:
                in_code = not in_code
                shell = in_code and fence.group(2) in SHELL
                continue
            if in_code and not shell:
                continue  # Python and program output: no commands typed there
            if in_code:
                joined += line.rstrip().rstrip("\\") + " "
                if line.rstrip().endswith("\\"):
                    continue
                spans, joined = [joined], ""
            else:
                if HEADING.match(line):
                    names = re.findall(r"`fastrnn (\w+)", line)
                    section_command = names[0] if len(set(names)) == 1 else None
                spans = re.findall(r"`([^`]+)`", line)
                # An option table's rows, under a heading naming one command.
                if section_command and stripped.startswith("| `--"):
                    found += [(path.name, number, section_command, opt)
                              for opt in OPTION.findall(spans[0])]
            for span in spans:
                found += [(path.name, number, c, o) for c, o in _mentions(span, known)]
    return found


def test_documented_options_are_in_the_help():
    found = [f for f in _documented() if f[3] is not None]
    assert len({(c, o) for _, _, c, o in found}) >= 20, "the option scan found too little"
    helps: dict[str | None, str] = {}
    missing = []
    for name, number, command, opt in found:
        if command not in helps:
            helps[command] = _help(command)
        if not re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", helps[command]):
            missing.append(f"{name}:{number}: fastrnn {command or ''} {opt}")
    assert not missing, "documented but not in --help:\n" + "\n".join(missing)


def test_documented_commands_exist():
    known = _known_commands()
    unknown = [f"{name}:{number}: fastrnn {command}"
               for name, number, command, opt in _documented()
               if command is not None and command not in known]
    assert not unknown, "documented commands that fastrnn does not have:\n" + "\n".join(unknown)


def test_version_option_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"fastrnn {fastrnn.__version__}\n"
    assert fastrnn.__version__ == "0.1.0"
