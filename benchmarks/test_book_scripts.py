"""Smoke test of ``book_scripts.py``: every book-style script, at its quick sizes, gives the same losses and answers under ``python`` and ``fastrnn run``, and ``fastrnn run`` replaced the book's classes."""

import json
import os
import re
import subprocess
import sys

import pytest

import book_scripts
from book_scripts import MODES, SCRIPTS, Run
from fastrnn import registry

TIME_LAYERS = set(registry.patched_names("time_layers"))
ATTENTION = set(registry.patched_names("attention_layer"))
# Every class fastrnn run swaps, in the book's modules it patches
# ("time_layers", "attention_layer").
PATCHED = {name for book in registry.book_modules() for name in registry.patched_names(book)}
REPLACED = re.compile(r"replaced (.+?) in (\S+?)(?:[;,]|$)")


@pytest.fixture(scope="module")
def runs():
    """One quick run of every script in each mode (about 6 s with Numba's cache
    warm). OpenBLAS on one thread: its two threads wait for each other when
    another process holds a core, which made these runs 5 times slower; nothing
    here is timed, and both modes get the same BLAS."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    return book_scripts.run_rounds(SCRIPTS, rounds=1, quick=True, env=env)


def _replaced(lines):
    """{module: set of class names} from fastrnn run's stderr lines."""
    found = {}
    for line in lines:
        for names, module in REPLACED.findall(line):
            found.setdefault(module, set()).update(names.split(", "))
    return found


@pytest.mark.parametrize("script", [s.key for s in SCRIPTS])
def test_same_losses_and_answers_under_python_and_fastrnn_run(runs, script):
    worst, problems = book_scripts.agreement(runs[script])
    assert not problems
    assert worst <= book_scripts.LOSS_RTOL
    python, fast = runs[script]["python"][0].out, runs[script]["fastrnn"][0].out
    # losses (one-word: sums of |output|, dWh's 0 from a zero start state)
    assert any(loss > 0 for loss in python["losses"])
    assert all(loss >= 0 for loss in python["losses"])
    if script in ("ch07", "ch08"):
        assert len(python["answers"]) == python["size"]["questions"]
        assert python["answers"] == fast["answers"]


@pytest.mark.parametrize("script", [s.key for s in SCRIPTS])
def test_fastrnn_run_replaced_the_books_classes(runs, script):
    python, fast = runs[script]["python"][0], runs[script]["fastrnn"][0]
    assert python.fastrnn_lines == []
    # under python every layer is the book-style tree's own class
    assert set(python.out["layers"].values()) and all(
        m.startswith(("common.time_layers.", "ch08.attention_layer."))
        for m in python.out["layers"].values())
    replaced = _replaced(fast.fastrnn_lines)
    # common/time_layers.py defines every class fastrnn swaps there, and
    # ch08/attention_layer.py every attention layer
    assert replaced.get("common.time_layers") == TIME_LAYERS
    if script == "ch08":
        assert replaced.get("ch08.attention_layer") == ATTENTION
    for path, qualified in fast.out["layers"].items():
        name = qualified.rpartition(".")[2]
        book = python.out["layers"][path].rpartition(".")[0]
        swapped = name in replaced.get(book, set())
        assert qualified.startswith("fastrnn.") == swapped, (path, qualified, replaced)
        if name in PATCHED:
            assert swapped, (path, qualified)


def test_the_report_has_every_workload(runs):
    text, ok, data = book_scripts.report(runs)
    assert ok
    assert [r["workload"] for r in data["rows"]] == [r.label for r in book_scripts.ROWS]
    for row in data["rows"]:
        assert row["python_s"] > 0 and row["fastrnn_s"] > 0
        assert row["ratio"] == pytest.approx(row["python_s"] / row["fastrnn_s"])
    assert set(data["scripts"]) == {s.key for s in SCRIPTS}
    assert "MISMATCH" not in text


def _run(losses, answers):
    return Run({"losses": losses, "answers": answers}, 1.0, [])


def test_agreement_reports_losses_and_answers_that_differ():
    python = _run([2.0, 1.0, 0.5], ["1+1", "22"])
    close = _run([2.0, 1.0 + 5e-5, 0.5], ["1+1", "22"])
    off = _run([2.0, 1.0, 0.5 * (1 + 3e-4)], ["1+1", "23"])
    worst, problems = book_scripts.agreement({"python": [python], "fastrnn": [close]})
    assert worst == pytest.approx(5e-5, rel=1e-3) and problems == []
    worst, problems = book_scripts.agreement({"python": [python], "fastrnn": [close, off]})
    assert worst == pytest.approx(3e-4, rel=1e-2)
    assert problems == [
        "fastrnn run 2: 1 losses differ by more than 0.0001 (relative), first at 2: "
        f"0.5 against {0.5 * (1 + 3e-4)!r}",
        "fastrnn run 2: 1 of 2 answers differ from python's"]
    _, problems = book_scripts.agreement({"python": [python], "fastrnn": [_run([2.0], [])]})
    assert problems == ["fastrnn run 1: 1 losses, python's 3"]


def test_commands_run_the_script_as_python_and_as_fastrnn_run():
    script = book_scripts.BY_KEY["ch08"]
    python, fast = (book_scripts.command(script, mode, quick=True) for mode in MODES)
    assert python[1:] == ["train.py", "--quick"]
    assert fast[1:] == ["-m", "fastrnn", "run", "train.py", "--quick"]
    with pytest.raises(ValueError, match="mode must be one of"):
        book_scripts.command(script, "torch", quick=True)


def test_main_prints_the_table_and_writes_the_json(tmp_path, capsys):
    out = tmp_path / "figures.json"
    assert book_scripts.main(["--quick", "--only", "one-word", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| TimeLSTM fwd+bwd, N=1, T=1, H=128 |" in text
    assert "losses agree to" in text and "answers the same" in text
    data = json.loads(out.read_text())
    assert [r["workload"] for r in data["rows"]] == [
        r.label for r in book_scripts.ROWS if r.script == "one-word"]
    assert data["quick"] is True and data["machine"]["blas"]


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_max_others_is_a_positive_number_of_cores_or_none(capsys, value):
    with pytest.raises(SystemExit):
        book_scripts.main(["--quick", "--max-others", value])
    assert "--max-others" in capsys.readouterr().err


def test_profile_splits_the_time_by_layer():
    # A new process run from benchmarks/: there the book-style modules'
    # sys.path.append('..') adds the repository's root, through which fastrnn
    # is first imported under other file names than the runs report.
    here = os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run([sys.executable, "book_scripts.py", "--profile", "--quick", "--only",
                          "ch08"], cwd=here, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr
    lines = re.findall(r"^ +([\d.e+]+) m?s +(\S+\.(?:forward|backward))$", out.stdout, re.M)
    times = {name: float(value) for value, name in lines}
    for module in ("common.time_layers", "fastrnn.layers.lstm"):
        for method in ("forward", "backward"):
            assert times[f"{module}.TimeLSTM.{method}"] > 0, out.stdout
    assert "fastrnn.layers.attention.TimeAttention.backward" in times
