"""The ``fastrnn`` commands never lose a file and never end in a traceback.

Every refusal is one line on stderr, exit status 2, before anything is
written or measured; every file the run was given is left byte-identical.
Ctrl-C, at any moment, is one line and status 130. CLI code runs in this
process; only the signal tests start children.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import fastrnn
from fastrnn.cli import checks as _cli_checks
from fastrnn.cli import main, train_checks
from fastrnn.lm import data
from fastrnn.lm.model import SimpleRnnlm

SMALL = ["--corpus-size", "3000", "--wordvec", "8", "--hidden", "8", "--compare", "2",
         "--quiet"]
CHILD_TIMEOUT = 240  # a cold kernel compile takes about 5 s: generous, never hit


@pytest.fixture(autouse=True)
def _malloc_left_alone(monkeypatch):
    from fastrnn.cli import train as run
    monkeypatch.setattr(run, "fix_malloc", lambda: "malloc: left alone in the tests")


def _snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry of ``folder``: its kind, and its bytes or link target."""
    out = {}
    for p in sorted(folder.iterdir()):
        mode = p.lstat().st_mode
        if stat.S_ISLNK(mode):
            out[p.name] = ("link", os.readlink(p))
        elif stat.S_ISREG(mode):
            out[p.name] = ("file", p.read_bytes())
        else:
            out[p.name] = (stat.S_IFMT(mode), None)
    return out


def _refused(capsys, argv: list[str], *needles: str) -> str:
    """Run ``fastrnn argv``: status 2, one line naming ``needles``, no output."""
    try:
        status = main(argv)
    except SystemExit as e:  # argparse's own refusals
        status = e.code
    out, err = capsys.readouterr()
    assert status == 2, err
    assert out == "" and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith(f"fastrnn {argv[0]}: error: "), err
    for needle in needles:
        assert needle in err, err
    return err


# --- the table: every output option of every subcommand ----------------------

CASES = ["same as an input", "hard link to an input", "same as another output",
         "symbolic link", "folder", "FIFO", "unsupported extension", "missing folder",
         "unwritable folder", "empty name"]


EXTENSION = {("train", "--save"): ".npz", ("train", "--plot"): ".png",
             ("bench", "--json"): ".json", ("bench", "--plot"): ".png"}


def _case(tmp_path: Path, command: str, option: str, ext: str, case: str,
          monkeypatch) -> tuple[list[str], str]:
    """The arguments of one refused run, and what its message must say."""
    corpus = tmp_path / f"corpus{ext}"  # any name will do for a text file
    corpus.write_text("a b c d e f g h\n" * 200)
    (tmp_path / "alias").symlink_to(tmp_path)  # equal files, unequal strings
    base = ["train", "--corpus", str(corpus)] if command == "train" else ["bench", "--quick"]
    path = tmp_path / f"out{ext}"
    if case == "same as an input":
        return base + [option, str(tmp_path / "alias" / corpus.name)], \
            "is the same file as --corpus"
    if case == "hard link to an input":
        os.link(corpus, path)
        return base + [option, str(path)], "is the same file as --corpus"
    if case == "same as another output":
        other = next(o for c, o in EXTENSION if c == command and o != option)
        other_path = tmp_path / f"other{EXTENSION[command, other]}"
        other_path.write_bytes(b"an earlier output")
        os.link(other_path, path)
        return base + [other, str(other_path), option, str(path)], "is the same file as"
    if case == "symbolic link":
        target = tmp_path / f"target{ext}"
        target.write_bytes(b"what the link points to")
        path.symlink_to(target)
        return base + [option, str(path)], "is a symbolic link"
    if case == "folder":
        path.mkdir()
        return base + [option, str(path)], "is a folder"
    if case == "FIFO":
        os.mkfifo(path)
        return base + [option, str(path)], "is a FIFO"
    if case == "unsupported extension":
        bad = tmp_path / "out.txt"
        bad.write_bytes(b"an earlier file")
        return base + [option, str(bad)], "unsupported file type"
    if case == "missing folder":
        return base + [option, str(tmp_path / "no" / path.name)], "does not exist"
    if case == "unwritable folder":
        # Tests may run as root, for whom no mode makes a folder unwritable.
        real = os.access
        monkeypatch.setattr(_cli_checks.os, "access",
                            lambda p, mode: False if mode & os.W_OK else real(p, mode))
        return base + [option, str(path)], "is not writable"
    assert case == "empty name"
    return base + [option, ""], f"{option}: empty file name"


# fastrnn bench reads no file, so it has no input to collide with.
INPUT_CASES = ("same as an input", "hard link to an input")


@pytest.mark.parametrize("command, option, case", [
    (command, option, case) for command, option in EXTENSION for case in CASES
    if not (command == "bench" and case in INPUT_CASES)])
def test_every_output_option_refuses_what_it_must_not_write(
        tmp_path, capsys, monkeypatch, command, option, case):
    argv, needle = _case(tmp_path, command, option, EXTENSION[command, option], case,
                         monkeypatch)
    before = _snapshot(tmp_path)
    _refused(capsys, argv, needle)
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("kind", ["missing", "folder", "folder with a FIFO __main__.py",
                                  "FIFO", "empty name"])
def test_run_refuses_a_script_that_is_not_a_regular_file(tmp_path, capsys, kind):
    # (a folder with a regular __main__.py runs, as under python: test_run.py)
    path = tmp_path / "s.py"
    if kind.startswith("folder"):
        path.mkdir()
    if kind.endswith("FIFO __main__.py"):
        os.mkfifo(path / "__main__.py")
    elif kind == "FIFO":
        os.mkfifo(path)  # opening it to read would wait for a writer forever
    needle = {"missing": "file does not exist", "folder": "can't find '__main__' module in",
              "folder with a FIFO __main__.py": "__main__.py: is a FIFO",
              "FIFO": "is a FIFO", "empty name": "SCRIPT: empty file name"}[kind]
    _refused(capsys, ["run", "" if kind == "empty name" else str(path)], needle)


def test_the_plot_types_are_ones_matplotlib_writes():
    from matplotlib.backend_bases import FigureCanvasBase
    supported = FigureCanvasBase.get_supported_filetypes()
    assert {ext.lstrip(".") for ext in _cli_checks.PLOT_EXTENSIONS} <= set(supported)


# --- the examples ------------------------------------------------------


def _corpus(tmp_path: Path, name: str = "c.txt", lines: int = 300) -> Path:
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(20)]
    path = tmp_path / name
    path.write_text("\n".join(" ".join(rng.choice(words, 8)) for _ in range(lines)) + "\n")
    return path


def _checkpoint(tmp_path: Path) -> Path:
    path = tmp_path / "good.npz"
    SimpleRnnlm(5, 3, 3, rng=np.random.default_rng(0)).save_params(path)
    return path


def test_saving_over_the_corpus_is_refused(tmp_path, capsys):
    corpus = _corpus(tmp_path)
    before = corpus.read_bytes()
    _refused(capsys, ["train", "--corpus", str(corpus), "--save", str(corpus)], "--save")
    assert corpus.read_bytes() == before


def test_a_checkpoint_and_a_plot_of_one_name_are_refused(tmp_path, capsys):
    ck = tmp_path / "ck.png"
    ck.write_bytes(b"a picture")
    _refused(capsys, ["train", "--save", str(ck), "--plot", str(ck)], "--save")
    assert ck.read_bytes() == b"a picture"


@pytest.mark.parametrize("args, needle", [
    (["--lr", "inf"], "--lr: must be a positive number, got inf"),
    (["--lr", "nan"], "--lr"),
    (["--optimizer", "adam", "--lr", "1e30"], "--lr 1e+30 is too large to train with adam"),
    (["--lr", "1e30"], "--lr 1e+30 is too large to train with sgd"),
    (["--max-grad", "inf"], "--max-grad"),
])
def test_learning_rates_that_cannot_train_are_refused_up_front(tmp_path, capsys, args, needle):
    good = _checkpoint(tmp_path)
    before = good.read_bytes()
    _refused(capsys, ["train", *args, "--save", str(good)], needle)
    assert good.read_bytes() == before


def test_a_run_that_diverges_stops_and_keeps_the_last_finite_checkpoint(tmp_path, capsys):
    """sgd at lr 100 (the largest accepted) overflows within a few steps at
    D = H = 100 (measured: at iteration 4). The checkpoint is of another
    model: --overwrite lets the run replace it, which it never does."""
    good = _checkpoint(tmp_path)
    before = good.read_bytes()
    status = main(["train", *SMALL, "--wordvec", "100", "--hidden", "100", "--lr", "100",
                   "--save", str(good), "--overwrite"])
    out, err = capsys.readouterr()
    assert status == 2 and out == "" and len(err.splitlines()) == 1, err
    assert err.startswith("fastrnn train: error: training diverged at epoch 1, iteration ")
    assert "lower --lr (now 100) or clip the gradient norm with --max-grad" in err
    assert good.read_bytes() == before


@pytest.mark.parametrize("where", ["loss", "params"])
def test_divergence_in_a_later_epoch_keeps_the_previous_checkpoint(
        tmp_path, capsys, monkeypatch, where):
    """A NaN loss at iteration 3 of epoch 2, or a parameter gone infinite
    by its end: epoch 1's checkpoint stays, byte for byte."""
    from fastrnn.cli import train as run
    save = tmp_path / "ck.npz"
    steps = []
    step = run.Trainer.step

    def failing_step(self):
        loss = step(self)
        steps.append(loss)
        if len(steps) == self.batcher.iters_per_epoch + 3:
            if where == "loss":
                return float("nan")
            self.model.params[3][0] = np.inf
        return loss
    monkeypatch.setattr(run.Trainer, "step", failing_step)
    status = main(["train", *SMALL, "--epochs", "3", "--save", str(save), "--max-grad", "5"])
    _, err = capsys.readouterr()
    assert status == 2, err
    if where == "loss":
        assert "diverged at epoch 2, iteration 3 (loss nan)" in err
    else:
        assert "at epoch 2, iteration " in err and "a parameter is no longer finite" in err
    # the preset's value, and the one given
    assert "lower --lr (now 0.1, the preset's) or lower --max-grad (now 5)" in err
    assert err.endswith(f"; {save} holds the params of epoch 1\n")
    with np.load(save) as f:
        assert all(np.isfinite(f[k]).all() for k in f.files if k not in ("vocab", "meta"))


@pytest.mark.parametrize("kind", ["symbolic link", "FIFO"])
def test_save_to_a_link_or_fifo_is_refused_and_left_alone(tmp_path, capsys, kind):
    good = _checkpoint(tmp_path)
    path = tmp_path / "ck.npz"
    if kind == "FIFO":
        os.mkfifo(path)
    else:
        path.symlink_to(good)
    before = _snapshot(tmp_path)
    _refused(capsys, ["train", *SMALL, "--save", str(path)], kind)
    assert _snapshot(tmp_path) == before


def test_save_params_refuses_a_symbolic_link(tmp_path):
    good = _checkpoint(tmp_path)
    before = good.read_bytes()
    (tmp_path / "ln.npz").symlink_to(good)
    with pytest.raises(ValueError, match="is a symbolic link"):
        SimpleRnnlm(5, 3, 3).save_params(tmp_path / "ln.npz")
    assert (tmp_path / "ln.npz").is_symlink() and good.read_bytes() == before


@pytest.mark.parametrize("option", ["--valid", "--test"])
def test_a_short_evaluation_file_is_refused_before_training(tmp_path, capsys, option):
    corpus = _corpus(tmp_path)
    short = tmp_path / "short.txt"
    short.write_text("a b c d e f")
    save = tmp_path / "ck.npz"
    _refused(capsys, ["train", "--corpus", str(corpus), option, str(short), "--quiet",
                      "--save", str(save)],
             f"{option} {short} gives 6 tokens", "needs at least 36",
             "one evaluation block of 35 time steps")
    assert not save.exists()


def test_a_short_corpus_names_the_option_and_the_sizes(tmp_path, capsys):
    corpus = _corpus(tmp_path, lines=2)
    _refused(capsys, ["train", "--corpus", str(corpus), "--batch-size", "4",
                      "--time-size", "6"],
             f"--corpus {corpus} gives 18 tokens", "needs at least 25",
             "batch size 4 * time size 6 + 1")
    _refused(capsys, ["train", "--corpus-size", "10"], "--corpus-size 10 gives 10 tokens",
             "needs at least 51")


@pytest.mark.parametrize("argv", [["train", "--seed", "-1"], ["bench", "--seed", "-1"],
                                  ["train", "--seed", str(2 ** 32)], ["bench", "--seed", "1.5"]])
def test_seeds_outside_32_bits_are_refused(capsys, argv):
    _refused(capsys, argv, "--seed: must be an integer from 0 to 4294967295")


def test_the_largest_seed_is_accepted(capsys):
    assert main(["train", *SMALL, "--epochs", "1", "--seed", str(2 ** 32 - 1)]) == 0


@pytest.mark.parametrize("argv, needle", [
    (["train", "--hidden", "100000"], "training at V=300 D=100 H=100,000, batch 10, time 5"),
    (["train", "--corpus-size", "10000000000"], "the built-in corpus of 10,000,020,000 tokens"),
    (["train", "--wordvec", "10000000"], "D=10,000,000"),
])
def test_sizes_that_cannot_fit_are_refused_with_the_estimate(capsys, monkeypatch, argv, needle):
    monkeypatch.setattr(_cli_checks, "available_memory", lambda: 8 * 10 ** 9)
    _refused(capsys, argv, needle, "GB of memory and 8.0 GB is available")


def test_the_default_run_fits_in_little_memory(monkeypatch):
    """The estimate of the default run stays far below what it is refused at."""
    from fastrnn.cli import build_parser
    from fastrnn.cli import train as run
    args = build_parser().parse_args(["train"])
    assert train_checks.model_bytes(args, 300) < 20 * 10 ** 6


def test_a_memory_error_that_escapes_the_estimate_is_one_line(capsys, monkeypatch):
    from fastrnn.cli import train as run

    def no_memory(*args, **kwargs):
        raise MemoryError
    monkeypatch.setattr(run, "make_model", no_memory)
    _refused(capsys, ["train", *SMALL], "out of memory while training")


@pytest.mark.parametrize("option", ["--corpus", "--valid", "--test", "--load"])
def test_a_fifo_input_is_refused_without_reading_it(tmp_path, capsys, option):
    """Opened without blocking and refused from its type: with an endless
    writer (as a device would be), nothing is read and nothing waits."""
    fifo = tmp_path / "endless"
    os.mkfifo(fifo)
    corpus = _corpus(tmp_path)
    stop = threading.Event()

    def writer():
        while not stop.is_set():
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # no reader yet
                time.sleep(0.001)
                continue
            try:
                while not stop.is_set():
                    os.write(fd, b"\0" * 4096)
            except OSError:  # the reader closed it, or the pipe is full
                pass
            finally:
                os.close(fd)
    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    result = []
    argv = ["train", *SMALL, option, str(fifo)]
    if option != "--corpus":
        argv += ["--corpus", str(corpus)]
    runner = threading.Thread(target=lambda: result.append(main(argv)))
    runner.start()
    runner.join(30)
    stop.set()
    thread.join(5)
    assert not runner.is_alive() and result == [2]
    err = capsys.readouterr().err
    assert f"{option} {fifo}: is a FIFO (named pipe), not a regular file" in err


def test_the_text_reader_reads_only_regular_files(tmp_path):
    fifo = tmp_path / "f.txt"
    os.mkfifo(fifo)
    with pytest.raises(data.DataError, match="is a FIFO"):
        data.read_words(fifo)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_text_is_read_with_a_mark_and_named_without(tmp_path, codec):
    text = "caf\u00e9 au lait\nsecond line\n"
    path = tmp_path / "t.txt"
    if codec == "utf-16":  # Python writes the byte-order mark
        path.write_bytes(text.encode(codec))
        assert data.read_words(path) == ["caf\u00e9", "au", "lait", "<eos>", "second",
                                         "line", "<eos>"]
    else:
        path.write_bytes(text.encode(codec))
        with pytest.raises(data.DataError, match="UTF-16 text needs a byte-order mark"):
            data.read_words(path)


def test_a_binary_file_is_refused_from_its_start(tmp_path, monkeypatch):
    """Binary is decided on the first 64 KiB: the rest is never read."""
    path = tmp_path / "big.bin"
    path.write_bytes(b"\0" * (1 << 20))
    reads = []
    real = data.open_regular

    def spy(p):
        f = real(p)
        read = f.read
        f_read = lambda n=-1: reads.append(n) or read(n)  # noqa: E731
        return _Reader(f, f_read)
    monkeypatch.setattr(data, "open_regular", spy)
    with pytest.raises(data.DataError, match="binary"):
        data.read_words(path)
    assert reads == [1 << 16]


class _Reader:
    """A file object whose ``read`` is replaced."""

    def __init__(self, f, read):
        self._f, self.read = f, read

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


# --- what --save may replace (issue #22, item 2) --------------------------------

def _trained(capsys, tmp_path: Path, name: str, *extra: str) -> Path:
    """A checkpoint of ``fastrnn train`` on the built-in corpus of SMALL."""
    path = tmp_path / name
    assert main(["train", *SMALL, "--epochs", "1", *extra, "--save", str(path)]) == 0
    capsys.readouterr()
    return path


def _not_checkpoints(tmp_path: Path) -> dict[str, Path]:
    numpy = tmp_path / "mydata.npz"
    np.savez(numpy, a=np.arange(3))
    text = tmp_path / "notes.npz"
    text.write_bytes(b"my notes, not an archive")
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    newer = tmp_path / "newer.npz"
    SimpleRnnlm(5, 3, 3).save_params(newer)
    arrays = dict(np.load(newer))
    np.savez(newer, **{**arrays, "meta": np.array(str(arrays["meta"]).replace(
        '"format": 1', '"format": 2'))})
    return {"numpy archive": numpy, "other bytes": text, "empty": empty, "newer": newer}


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
@pytest.mark.parametrize("case", ["numpy archive", "other bytes", "empty", "newer"])
def test_save_never_replaces_a_file_that_is_not_a_checkpoint(tmp_path, capsys, case,
                                                             overwrite):
    """Not even with --overwrite: fastrnn replaces only its own checkpoints
    (and reads a newer fastrnn's as not its own)."""
    path = _not_checkpoints(tmp_path)[case]
    path.chmod(0o640)
    before = _snapshot(tmp_path)
    _refused(capsys, ["train", *SMALL, "--save", str(path), *overwrite],
             f"--save {path} exists and is not a checkpoint this fastrnn can read; it is "
             "never replaced: name another file")
    assert _snapshot(tmp_path) == before and stat.S_IMODE(path.stat().st_mode) == 0o640


def test_save_refuses_another_models_checkpoint_unless_overwrite(tmp_path, capsys):
    """The issue's case: a trained --model lstm checkpoint, and a run that
    forgot --model. Refused, naming what differs; replaced with --overwrite;
    resumed in place when it is the --load file."""
    ck = _trained(capsys, tmp_path, "lstm.npz", "--model", "lstm")
    before = ck.read_bytes()
    _refused(capsys, ["train", *SMALL, "--save", str(ck)],
             f"--save {ck} holds an Rnnlm (lstm) with V=",
             "this run trains a SimpleRnnlm (simple)", "they differ in the model (lstm in the "
             "file, simple here)", "give --overwrite to replace it, or name another file")
    _refused(capsys, ["train", *SMALL, "--model", "lstm", "--hidden", "16", "--save", str(ck)],
             "they differ in H (8 in the file, 16 here)")
    assert ck.read_bytes() == before
    assert main(["train", *SMALL, "--epochs", "1", "--save", str(ck), "--overwrite"]) == 0
    assert '"model": "simple"' in str(np.load(ck)["meta"])
    capsys.readouterr()
    assert main(["train", *SMALL, "--epochs", "1", "--load", str(ck), "--save", str(ck)]) == 0


def test_save_refuses_a_checkpoint_of_another_vocabulary(tmp_path, capsys):
    """Same model and sizes, another text: the words differ, V does not."""
    ck = tmp_path / "m.npz"
    for name, prefix in (("a.txt", "w"), ("b.txt", "v")):
        path = tmp_path / name
        path.write_text(_corpus(tmp_path).read_text().replace("w", prefix))
    argv = ["train", "--corpus", str(tmp_path / "a.txt"), "--wordvec", "8", "--hidden", "8",
            "--epochs", "1", "--lr", "1", "--compare", "1", "--quiet"]
    assert main([*argv, "--save", str(ck)]) == 0
    capsys.readouterr()
    argv[2] = str(tmp_path / "b.txt")
    _refused(capsys, [*argv, "--save", str(ck)],
             "they differ in the vocabulary: 20 of its 21 words differ, the first at id 0: "
             "'w17' in the file, 'v17' here")


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_save_never_replaces_a_read_only_file(tmp_path, capsys, overwrite):
    """Issue #22: a 0444 checkpoint was replaced (the run is root's, who may
    write any file) and came back 0644."""
    ck = _trained(capsys, tmp_path, "ro.npz")
    ck.chmod(0o444)
    before = _snapshot(tmp_path)
    _refused(capsys, ["train", *SMALL, "--save", str(ck), *overwrite],
             f"--save {ck}: file is read-only and is never replaced")
    assert _snapshot(tmp_path) == before and stat.S_IMODE(ck.stat().st_mode) == 0o444


def test_a_replaced_checkpoint_keeps_its_permissions(tmp_path, capsys):
    ck = _trained(capsys, tmp_path, "m.npz")
    ck.chmod(0o640)
    before = ck.read_bytes()
    assert main(["train", *SMALL, "--epochs", "1", "--lr", "0.2", "--save", str(ck)]) == 0
    assert ck.read_bytes() != before and stat.S_IMODE(ck.stat().st_mode) == 0o640


def test_a_file_put_at_save_during_training_is_checked_again(tmp_path, capsys, monkeypatch):
    """After epoch 1 someone saves a numpy archive where the checkpoint is:
    epoch 2's save is refused and the archive stays."""
    from fastrnn.cli import train as run
    ck = tmp_path / "m.npz"
    epoch = run.Trainer.epoch
    calls = []

    def meddling(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            np.savez(ck, a=np.arange(3))
        return epoch(self, *args, **kwargs)
    monkeypatch.setattr(run.Trainer, "epoch", meddling)
    status = main(["train", *SMALL, "--epochs", "2", "--save", str(ck)])
    err = capsys.readouterr().err
    assert status == 2 and "is not a checkpoint this fastrnn can read" in err, err
    assert list(np.load(ck).files) == ["a"]


# --- Ctrl-C --------------------------------------------------------------------


def test_ctrl_c_before_the_first_checkpoint_names_none(tmp_path, capsys, monkeypatch):
    from fastrnn.cli import train as run
    calls = []
    epoch = run.Trainer.epoch

    def interrupted(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return epoch(self, *args, **kwargs)
    monkeypatch.setattr(run.Trainer, "epoch", interrupted)
    save = tmp_path / "ck.npz"
    assert main(["train", *SMALL, "--epochs", "3", "--save", str(save)]) == 130
    assert capsys.readouterr().err == f"fastrnn train: interrupted; the last complete " \
                                      f"checkpoint is {save}\n"
    calls[:] = [1]  # the next epoch is the second call: interrupted at once
    save.unlink()
    assert main(["train", *SMALL, "--save", str(save)]) == 130
    assert capsys.readouterr().err == "fastrnn train: interrupted\n"
    assert not save.exists()


# The console command's code, with a hook that sends SIGINT to itself the
# moment numba's import starts (deterministic: inside the subcommand's
# lazy imports).
_DURING_IMPORT = """
import builtins, os, signal, sys
real = builtins.__import__
def hook(name, *args, **kwargs):
    if name == "numba" or name.startswith("numba."):
        builtins.__import__ = real
        os.kill(os.getpid(), signal.SIGINT)
    return real(name, *args, **kwargs)
builtins.__import__ = hook
from fastrnn.cli import console
console()  # as the console script runs it (sys.argv[1:] are its arguments)
"""


def _child_env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_DISABLE_JIT",)}
    env["NUMBA_CACHE_DIR"] = str(cache)  # empty: the first call compiles
    return env


@pytest.mark.parametrize("command", ["train", "bench"])
def test_ctrl_c_during_the_imports_is_one_line(tmp_path, command):
    argv = ["train", "--quiet", "--save", "F.npz"] if command == "train" else \
        ["bench", "--quick", "--no-torch"]
    proc = subprocess.run([sys.executable, "-c", _DURING_IMPORT, *argv], cwd=tmp_path,
                          env=_child_env(tmp_path / "cache"), capture_output=True, text=True,
                          timeout=CHILD_TIMEOUT)
    assert (proc.returncode, proc.stderr) == (130, f"fastrnn {command}: interrupted\n")
    assert proc.stdout == "" and not (tmp_path / "F.npz").exists()


def _wait_for_numba(proc: subprocess.Popen) -> None:
    """Wait until the child maps llvmlite: Numba's import, inside main(), has
    begun (the interpreter's own start-up, before any fastrnn code runs,
    is out of any Python program's reach)."""
    deadline = time.monotonic() + CHILD_TIMEOUT
    while "llvmlite" not in Path(f"/proc/{proc.pid}/maps").read_text():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("delay", [0.0, 0.5, 1.5])
def test_ctrl_c_while_importing_compiling_or_training_is_one_line(tmp_path, delay):
    """The console command itself, with an empty kernel cache: SIGINT while
    it imports Numba, compiles its first kernels or trains. The message
    names the checkpoint exactly when one was written."""
    cache, work = tmp_path / "cache", tmp_path / "work"
    cache.mkdir()
    work.mkdir()
    command = shutil.which("fastrnn") or pytest.skip("no fastrnn console script on PATH")
    proc = subprocess.Popen([command, "train", "--corpus-size", "20000", "--epochs", "50",
                             "--wordvec", "16", "--hidden", "16", "--quiet", "--save",
                             "F.npz"], cwd=work, env=_child_env(cache),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_numba(proc)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=CHILD_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    saved = (work / "F.npz").exists()
    kept = "; the last complete checkpoint is F.npz" if saved else ""
    assert (proc.returncode, stderr) == (130, f"fastrnn train: interrupted{kept}\n"), stderr
    assert sorted(p.name for p in work.iterdir()) == (["F.npz"] if saved else [])


def test_the_library_does_not_import_the_command_line():
    """fastrnn.lm needs no fastrnn.cli, and the command imports no Numba
    before its Ctrl-C handler is in place."""
    for code in ("import sys, fastrnn.lm; assert 'fastrnn.cli' not in sys.modules",
                 "import sys, fastrnn.cli; assert 'numba' not in sys.modules"):
        subprocess.run([sys.executable, "-c", code], check=True, timeout=CHILD_TIMEOUT)


# --- API messages --------------------------------------------------------------


def _layer():
    rng = np.random.default_rng(0)
    return fastrnn.TimeRNN(*(rng.standard_normal(s).astype(np.float32)
                             for s in ((3, 4), (4, 4), (4,))))


def test_a_numpy_scalar_is_named_as_one():
    with pytest.raises(TypeError, match=r"xs must be a numpy.ndarray, got a numpy scalar "
                                        r"\(float32\)$"):
        _layer().forward(np.float32(1.0))


@pytest.mark.parametrize("attr", ["params", "grads"])
def test_a_none_list_is_named(attr):
    layer = _layer()
    layer.forward(np.ones((2, 3, 3), np.float32))
    setattr(layer, attr, None)
    expected = "[Wx, Wh, b]" if attr == "params" else "[dWx, dWh, db]"
    with pytest.raises(TypeError, match=re.escape(
            f"{attr} must be a list {expected} of numpy arrays, got None")):
        layer.backward(np.ones((2, 3, 4), np.float32))


@pytest.mark.parametrize("make, word", [
    (lambda: np.asfortranarray(np.zeros((4, 4), np.float32)), "not C-contiguous"),
    (lambda: _read_only(np.zeros((4, 4), np.float32)), "read-only"),
])
def test_grads_of_the_right_shape_but_wrong_layout_are_named(make, word):
    layer = _layer()
    layer.forward(np.ones((2, 3, 3), np.float32))
    layer.grads[1] = make()
    with pytest.raises(ValueError, match=rf"grads \(dWh\) must stay a writable C-contiguous "
                                         rf"array .* got shape \(4, 4\) and dtype float32, "
                                         rf"{word}$"):
        layer.backward(np.ones((2, 3, 4), np.float32))


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a
