"""``fastrnn run`` and ``fastrnn.patch`` on a small book-shaped tree."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import pytest

import fastrnn
from fastrnn import time_layers

# The book's layout: common/time_layers.py holds the layers (numpy ones:
# fastrnn's reference, under the book's names) and something fastrnn does
# not replace; a chapter folder's model star-imports them.
TIME_LAYERS = """
from fastrnn.reference import TimeLSTM, TimeRNN, TimeDropout
class TimeAffine:
    pass
"""
MODEL = """
import sys
sys.path.append('..')
from common.time_layers import *

class Net:
    def __init__(self):
        self.layers = [TimeLSTM, TimeRNN, TimeDropout, TimeAffine]
"""
SCRIPT = """
import json, sys
from model import Net
print(json.dumps({"modules": [c.__module__ for c in Net().layers], "argv": sys.argv,
                  "name": __name__, "file": __file__}))
if len(sys.argv) > 1 and sys.argv[1] == "raise":
    raise ValueError("from the script")
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
"""


@pytest.fixture
def book(tmp_path):
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "__init__.py").write_text("")
    (tmp_path / "common" / "time_layers.py").write_text(TIME_LAYERS)
    (tmp_path / "ch06").mkdir()
    (tmp_path / "ch06" / "model.py").write_text(MODEL)
    (tmp_path / "ch06" / "train.py").write_text(SCRIPT)
    (tmp_path / "ch06" / "plain.py").write_text("import sys\nprint('hello', sys.argv[1:])\n")
    return tmp_path / "ch06"


def _run(cwd, *argv):
    return subprocess.run([sys.executable, *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("args, status", [([], 0), (["3", "--lr", "1"], 3)])
def test_run_replaces_the_books_layers_and_behaves_as_python(book, args, status):
    under_python = _run(book, "train.py", *args)
    under_fastrnn = _run(book, "-m", "fastrnn", "run", "train.py", *args)
    assert under_python.returncode == under_fastrnn.returncode == status
    plain, fast = json.loads(under_python.stdout), json.loads(under_fastrnn.stdout)
    assert plain["modules"] == ["fastrnn.reference.recurrent"] * 3 + ["common.time_layers"]
    assert fast["modules"] == ["fastrnn.layers.lstm", "fastrnn.layers.rnn",
                               "fastrnn.layers.dropout", "common.time_layers"]
    for key in ("argv", "name", "file"):
        assert fast[key] == plain[key], key
    assert under_fastrnn.stderr.strip() == \
        "fastrnn: replaced TimeRNN, TimeLSTM, TimeDropout in common.time_layers"


def test_run_reports_a_script_that_raises_as_python_does(book):
    under_python = _run(book, "train.py", "raise")
    under_fastrnn = _run(book, "-m", "fastrnn", "run", "train.py", "raise")
    assert under_python.returncode == under_fastrnn.returncode == 1
    assert under_fastrnn.stderr.splitlines()[1:] == under_python.stderr.splitlines()
    assert under_fastrnn.stderr.rstrip().endswith("ValueError: from the script")
    assert "book.py" not in under_fastrnn.stderr


def test_run_reports_a_script_that_does_not_compile_as_python_does(book):
    (book / "broken.py").write_text("x = (\n")
    under_python = _run(book, "broken.py")
    under_fastrnn = _run(book, "-m", "fastrnn", "run", "broken.py")
    assert under_python.returncode == under_fastrnn.returncode == 1
    assert under_fastrnn.stderr == under_python.stderr
    assert "SyntaxError" in under_fastrnn.stderr and "book.py" not in under_fastrnn.stderr


def test_run_says_when_nothing_was_replaced(book):
    out = _run(book, "-m", "fastrnn", "run", "plain.py", "a")
    assert out.returncode == 0 and out.stdout == "hello ['a']\n"
    assert out.stderr.strip() == ("fastrnn: the script never imported common.time_layers; "
                                  "nothing was replaced")


def test_run_refuses_a_missing_script(book):
    out = _run(book, "-m", "fastrnn", "run", "nope.py")
    assert out.returncode == 2 and "nope.py" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_patch_swaps_the_classes_fastrnn_has():
    module = types.ModuleType("layers")
    module.TimeLSTM, module.TimeAffine, module.helper = object, object, len
    assert fastrnn.patch(module) == ["TimeLSTM"]
    assert module.TimeLSTM is time_layers.TimeLSTM
    assert module.TimeAffine is object and module.helper is len


def test_time_layers_all_names_every_book_layer():
    fast = ["RNN", "TimeRNN", "LSTM", "TimeLSTM", "GRU", "TimeGRU", "TimeBiLSTM", "TimeDropout"]
    assert time_layers.__all__[:len(fast)] == fast
    assert time_layers.__all__[-4:] == ["np", "sigmoid", "softmax", "cross_entropy_error"]
    layers = time_layers.__all__[:-4]
    assert fastrnn.__all__ == [*layers, "patch"]  # the layers, not np or the functions
    for name in layers:
        assert getattr(fastrnn, name) is getattr(time_layers, name)


def test_patch_swaps_only_what_fastrnn_does_faster():
    # fastrnn's plain numpy stand-ins, np and the functions stay the book's.
    module = types.ModuleType("layers")
    names = ["TimeRNN", "MatMul", "Embedding", "Simple_TimeAffine", "np", "softmax"]
    for name in names:
        setattr(module, name, object)
    assert fastrnn.patch(module) == ["TimeRNN"]
    assert all(getattr(module, name) is object for name in names[1:])
