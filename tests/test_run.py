"""``fastrnn run`` and ``fastrnn.patch`` on a small book-shaped tree."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import types

import numpy as np
import pytest

import fastrnn
from fastrnn import reference, registry, time_layers
from fastrnn.book import is_book_layer

# The book's layout: common/time_layers.py holds the layers (numpy ones:
# fastrnn's reference, defined in that module under the book's names), a
# TimeGRU that is not the book's (another constructor) and something fastrnn
# does not replace; a chapter folder's model star-imports them.
TIME_LAYERS = """
from fastrnn import reference
class TimeRNN(reference.TimeRNN):
    pass
class TimeLSTM(reference.TimeLSTM):
    pass
class TimeDropout(reference.TimeDropout):
    pass
class TimeGRU:
    def __init__(self, units, stateful=False):
        pass
class MatMul:
    def __init__(self, W):
        pass
"""
MODEL = """
import sys
sys.path.append('..')
from common.time_layers import *

class Net:
    def __init__(self):
        self.layers = [TimeLSTM, TimeRNN, TimeDropout, MatMul, TimeGRU]
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


@pytest.mark.parametrize("script", ["train.py", "./train.py"])
@pytest.mark.parametrize("args, status", [([], 0), (["3", "--lr", "1"], 3)])
def test_run_replaces_the_books_layers_and_behaves_as_python(book, script, args, status):
    under_python = _run(book, script, *args)
    under_fastrnn = _run(book, "-m", "fastrnn", "run", script, *args)
    assert under_python.returncode == under_fastrnn.returncode == status
    plain, fast = json.loads(under_python.stdout), json.loads(under_fastrnn.stdout)
    assert plain["modules"] == ["common.time_layers"] * 5
    assert fast["modules"] == ["fastrnn.layers.lstm", "fastrnn.layers.rnn",
                               "fastrnn.layers.dropout", "common.time_layers",
                               "common.time_layers"]
    for key in ("argv", "name", "file"):
        assert fast[key] == plain[key], key
    assert under_fastrnn.stderr.strip() == (
        "fastrnn: replaced TimeRNN, TimeLSTM, TimeDropout in common.time_layers, "
        "skipped TimeGRU (not the book's class)")


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
    assert out.stderr.strip() == ("fastrnn: the script imported no time_layers or "
                                  "attention_layer module; nothing was replaced")


def test_run_refuses_a_missing_script(book):
    out = _run(book, "-m", "fastrnn", "run", "nope.py")
    assert out.returncode == 2 and "nope.py" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


# Classes with the book's constructors, defined outside fastrnn.
class BookRNN:
    def __init__(self, Wx, Wh, b):
        pass


class BookTimeLSTM:
    def __init__(self, Wx, Wh, b, stateful=False):
        pass


class TorchLike:  # torch.nn.RNN, LSTM, GRU: (*args, **kwargs)
    def __init__(self, *args, **kwargs):
        pass


class KerasLike:
    def __init__(self, units, return_sequences=False):
        pass


def _fake_module(**names):
    module = types.ModuleType("layers")
    for name, value in names.items():
        setattr(module, name, value)
    return module


def test_patch_swaps_only_the_books_classes():
    module = _fake_module(RNN=BookRNN, TimeLSTM=BookTimeLSTM, TimeRNN=TorchLike,
                          GRU=KerasLike, TimeGRU=reference.TimeGRU, LSTM=object,
                          TimeDropout=len, TimeAffine=object)
    assert fastrnn.patch(module) == ["RNN", "TimeLSTM"]
    assert module.RNN is time_layers.RNN and module.TimeLSTM is time_layers.TimeLSTM
    # another library's, fastrnn's own (the numpy oracle), not classes, not replaced
    assert module.TimeRNN is TorchLike and module.GRU is KerasLike
    assert module.TimeGRU is reference.TimeGRU
    assert module.LSTM is object and module.TimeDropout is len and module.TimeAffine is object


def test_patch_twice_changes_nothing_more():
    module = _fake_module(TimeLSTM=BookTimeLSTM)
    assert fastrnn.patch(module) == ["TimeLSTM"]
    assert fastrnn.patch(module) == ["TimeLSTM"]
    assert module.TimeLSTM is time_layers.TimeLSTM


@pytest.mark.parametrize("name", registry.patched_names("time_layers"))
def test_the_books_classes_are_those_with_fastrnns_constructor_parameters(name):
    ours = getattr(time_layers, name)
    # the numpy reference has the book's constructors; a subclass defined
    # outside fastrnn stands in for the book's class
    books = type(name, (getattr(reference, name),), {"__module__": "common.time_layers"})
    assert is_book_layer(books, ours)
    assert not is_book_layer(getattr(reference, name), ours)  # fastrnn's own
    assert not is_book_layer(ours, ours)
    assert not is_book_layer(TorchLike, ours) and not is_book_layer(KerasLike, ours)
    assert not is_book_layer(len, ours) and not is_book_layer(None, ours)


@pytest.mark.parametrize("module", ["fastrnn.reference", "fastrnn.time_layers", "fastrnn",
                                    "fastrnn.lm.layers"])
def test_patch_refuses_fastrnns_own_modules(module):
    module = importlib.import_module(module)
    before = dict(vars(module))
    with pytest.raises(ValueError, match=f"{module.__name__} is fastrnn's own module"):
        fastrnn.patch(module)
    assert vars(module) == before
    assert reference.TimeLSTM.__module__ == "fastrnn.reference.recurrent"


@pytest.mark.parametrize("value, match", [
    ("common.time_layers", r"module must be a module object, got the str "
                           r"'common.time_layers'; import it first and pass the module"),
    (None, r"module must be a module object .*, got None"),
    ({"TimeRNN": BookTimeLSTM}, r"module must be a module object .*, got a builtins.dict"),
])
def test_patch_refuses_what_is_not_a_module(value, match):
    with pytest.raises(TypeError, match=match):
        fastrnn.patch(value)


@pytest.mark.parametrize("names, present", [
    ({}, ""),
    ({"RNN": TorchLike, "LSTM": TorchLike, "GRU": TorchLike}, "; RNN, LSTM, GRU are there"),
    ({"TimeRNN": reference.TimeRNN}, "; TimeRNN is there"),
])
def test_patch_refuses_a_module_without_the_books_layers(names, present):
    module = _fake_module(**names)
    before = dict(vars(module))
    with pytest.raises(ValueError) as e:
        fastrnn.patch(module)
    assert str(e.value) == (
        "patch: layers holds none of the book's layers (looked for RNN, TimeRNN, LSTM, "
        f"TimeLSTM, GRU, TimeGRU, TimeBiLSTM, TimeDropout, TimeEmbedding, TimeAffine, "
        f"TimeSoftmaxWithLoss, WeightSum, AttentionWeight, Attention, TimeAttention{present}"
        f"{' but not the book' + chr(39) + 's classes' if present else ''}); "
        "nothing was changed")
    assert vars(module) == before


def test_patch_leaves_pytorch_alone():
    nn = pytest.importorskip("torch.nn")
    before = (nn.RNN, nn.LSTM, nn.GRU)
    with pytest.raises(ValueError, match="torch.nn holds none of the book's layers"):
        fastrnn.patch(nn)
    assert (nn.RNN, nn.LSTM, nn.GRU) == before


def test_time_layers_all_names_every_book_layer():
    fast = ["RNN", "TimeRNN", "LSTM", "TimeLSTM", "GRU", "TimeGRU", "TimeBiLSTM", "TimeDropout"]
    assert time_layers.__all__[:len(fast)] == fast
    assert time_layers.__all__[-4:] == ["np", "sigmoid", "softmax", "cross_entropy_error"]
    layers = time_layers.__all__[:-4]
    assert set(layers) <= set(fastrnn.__all__)  # the layers, not np or the functions
    assert not {"np", "sigmoid", "softmax", "cross_entropy_error"} & set(fastrnn.__all__)
    for name in layers:
        assert getattr(fastrnn, name) is getattr(time_layers, name)


def test_run_keeps_going_when_common_time_layers_has_none_of_the_books(book):
    # the hook never raises inside the script's import: it reports and goes on
    (book.parent / "common" / "time_layers.py").write_text(
        "class TimeRNN:\n    def __init__(self, *args, **kwargs):\n        pass\n")
    (book / "other.py").write_text(
        "import sys\nsys.path.append('..')\n"
        "from common.time_layers import TimeRNN\nprint(TimeRNN.__module__)\n")
    out = _run(book, "-m", "fastrnn", "run", "other.py")
    assert out.returncode == 0 and out.stdout == "common.time_layers\n"
    assert out.stderr.strip() == ("fastrnn: replaced nothing in common.time_layers, "
                                  "skipped TimeRNN (not the book's class)")


@pytest.mark.parametrize("args", [["--", "x"], ["--help"], ["-h"], ["x", "--", "--lr", "1"],
                                  ["--version", "--"], ["--", "--", "-"]])
def test_run_passes_everything_after_the_script_verbatim(book, args):
    under_python = _run(book, "plain.py", *args)
    under_fastrnn = _run(book, "-m", "fastrnn", "run", "plain.py", *args)
    assert under_fastrnn.returncode == under_python.returncode == 0
    assert under_fastrnn.stdout == under_python.stdout == f"hello {args}\n"


def test_run_parser_keeps_the_scripts_arguments_as_typed():
    from fastrnn.cli import build_parser
    args = build_parser().parse_args(["run", "--", "s.py", "--", "-h", "x"])
    assert (args.script, args.args) == ("s.py", ["--", "-h", "x"])
    args = build_parser().parse_args(["run", "s.py"])
    assert (args.script, args.args) == ("s.py", [])


def test_run_without_a_script_says_script_is_required(book):
    for argv in ([], ["--"]):
        out = _run(book, "-m", "fastrnn", "run", *argv)
        assert out.returncode == 2 and out.stdout == ""
        assert out.stderr == ("fastrnn run: error: the following arguments are required: "
                              "SCRIPT (see fastrnn run --help)\n")


MAIN = """
import json, os, sys
print(json.dumps({"argv": sys.argv, "path0": os.path.realpath(sys.path[0]),
                  "file": __file__, "name": __name__}))
"""


@pytest.mark.parametrize("typed", ["app", "app/", "./app"])
def test_run_runs_a_folder_with_a_main_as_python_does(book, typed):
    (book / "app").mkdir()
    (book / "app" / "__main__.py").write_text(MAIN)
    under_python = _run(book, typed, "a", "--")
    under_fastrnn = _run(book, "-m", "fastrnn", "run", typed, "a", "--")
    assert under_python.returncode == under_fastrnn.returncode == 0, under_fastrnn.stderr
    plain, fast = json.loads(under_python.stdout), json.loads(under_fastrnn.stdout)
    assert fast == plain
    assert fast["argv"] == [typed, "a", "--"]
    assert fast["path0"] == str((book / "app").resolve())
    assert os.path.normpath(fast["file"]) == str(book / "app" / "__main__.py")


def test_run_refuses_a_folder_without_a_main_in_one_line(book):
    (book / "empty").mkdir()
    out = _run(book, "-m", "fastrnn", "run", "empty")
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == (f"fastrnn run: error: SCRIPT empty: can't find '__main__' module "
                          f"in {str(book / 'empty')!r}\n")


def test_ctrl_c_before_the_books_import_says_only_interrupted(book):
    (book / "stop.py").write_text(
        "import os, signal, time\nos.kill(os.getpid(), signal.SIGINT)\ntime.sleep(60)\n")
    out = _run(book, "-m", "fastrnn", "run", "stop.py")
    assert out.returncode == 130 and out.stdout == ""
    assert out.stderr == "fastrnn run: interrupted\n"


def test_patch_swaps_only_what_fastrnn_does_faster():
    # fastrnn's plain numpy stand-ins, np and the functions stay the book's,
    # even where they have the book's constructors.
    class MatMul:
        def __init__(self, W):
            pass

    class Embedding:
        def __init__(self, W):
            pass

    def softmax(x):
        return x
    others = dict(MatMul=MatMul, Embedding=Embedding, np=np, softmax=softmax)
    module = _fake_module(TimeLSTM=BookTimeLSTM, **others)
    assert fastrnn.patch(module) == ["TimeLSTM"]
    assert all(getattr(module, name) is value for name, value in others.items())
