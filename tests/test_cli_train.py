"""``fastrnn train``: the default run, options, and every error path."""

from types import SimpleNamespace

import numpy as np
import pytest
from conftest import chain_text

from fastrnn.cli import main
from fastrnn.lm import data, train
from fastrnn.lm import markov
from fastrnn.lm.train import TrainConfig, Trainer, compare_backends, make_model, perplexity

SMALL = ["--corpus-size", "3000", "--epochs", "1", "--wordvec", "16", "--hidden", "16",
         "--compare", "5", "--quiet"]


@pytest.fixture(autouse=True)
def _malloc_left_alone(monkeypatch):
    """``fastrnn train`` fixes the process's malloc thresholds for good; in
    the test process that is stubbed (one test checks that it happens)."""
    from fastrnn.cli import train as run
    monkeypatch.setattr(run, "fix_malloc", lambda: "malloc: left alone in the tests")


def _run(capsys, args):
    status = main(["train", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_small_run_on_the_builtin_corpus_prints_floor_and_speed(capsys):
    status, out, err = _run(capsys, SMALL)
    assert status == 0 and err == ""
    assert "test perplexity" in out and "floor 2.940" in out
    assert "speed-up" in out and "tokens/s" in out


def test_training_fixes_malloc_before_the_first_step(monkeypatch, capsys):
    """``fastrnn train`` fixes glibc's malloc thresholds (``fix_malloc``)
    before it trains, without a word about it (a fact for benchmark reports,
    which mean nothing to a user training a model)."""
    from fastrnn.cli import train as run
    events = []
    monkeypatch.setattr(run, "fix_malloc", lambda: events.append("malloc") or "malloc: spy")
    epoch = run.Trainer.epoch
    monkeypatch.setattr(run.Trainer, "epoch",
                        lambda self, *a, **k: events.append("epoch") or epoch(self, *a, **k))
    status, out, _ = _run(capsys, [a for a in SMALL if a != "--quiet"])
    assert status == 0 and events == ["malloc", "epoch"]
    assert "malloc" not in out


def test_a_small_model_gets_near_the_known_floor():
    """Stated distance: within 25% of the source's perplexity floor after 4
    epochs of 50,000 tokens (measured: about 12% above)."""
    corpus, source = markov.builtin_corpus(train_tokens=50_000, valid_tokens=5_000,
                                         test_tokens=5_000)
    cfg = TrainConfig(wordvec_size=32, hidden_size=32, lr=0.5, epochs=4)
    model = make_model(cfg, len(corpus.vocab))
    trainer = Trainer(model, corpus.train, cfg)
    for _ in range(cfg.epochs):
        trainer.epoch()
    ppl = perplexity(model, corpus.test)
    floor = source.perplexity_floor()
    assert floor < ppl < 1.25 * floor


def test_compare_backends_trains_both_in_turns_like_one_plain_run():
    """Blocks of 3, 2 and 2 steps continue one run: the losses are those of 7
    plain steps of the numpy backend, and fastrnn's match them."""
    corpus, _ = markov.builtin_corpus(train_tokens=3000, valid_tokens=100, test_tokens=100)
    cfg = TrainConfig(wordvec_size=16, hidden_size=16)
    vocab = len(corpus.vocab)
    cmp = compare_backends(corpus.train, vocab, cfg, iterations=7, blocks=3)
    plain = Trainer(make_model(cfg, vocab, "numpy"), corpus.train, cfg)
    expected = [plain.step() for _ in range(7)]
    np.testing.assert_allclose(cmp.losses["numpy"], expected, rtol=1e-6)
    np.testing.assert_allclose(cmp.losses["fastrnn"], expected, rtol=1e-4)
    assert cmp.iterations == 7 and cmp.blocks == 3 and min(cmp.tokens_per_s.values()) > 0
    with pytest.raises(ValueError, match="iterations and blocks must be >= 1"):
        compare_backends(corpus.train, vocab, cfg, iterations=0)


def test_compare_backends_takes_each_backends_fastest_block(monkeypatch):
    """With a fake clock: blocks of 3, 2 and 2 steps take numpy 6, 2 and 4 s
    (best 1 s a step) and fastrnn 3, 1 and 3 s (best 0.5 s a step)."""
    corpus, _ = markov.builtin_corpus(train_tokens=3000, valid_tokens=100, test_tokens=100)
    cfg = TrainConfig(wordvec_size=8, hidden_size=8)
    ticks = iter(np.cumsum([0, 6, 0, 3, 0, 2, 0, 1, 0, 4, 0, 3]))  # start, end, start, ...
    monkeypatch.setattr(train, "time", SimpleNamespace(perf_counter=lambda: float(next(ticks))))
    cmp = compare_backends(corpus.train, len(corpus.vocab), cfg, iterations=7, blocks=3)
    tokens = cfg.batch_size * cfg.time_size
    assert cmp.tokens_per_s == {"numpy": tokens / 1.0, "fastrnn": tokens / 0.5}
    assert cmp.speedup == 2.0


def test_training_is_reproducible_with_a_seed(capsys):
    runs = [_run(capsys, SMALL + ["--seed", "3"])[1] for _ in range(2)]
    first = [line for line in runs[0].splitlines() if "perplexity" in line]
    assert first and first == [line for line in runs[1].splitlines() if "perplexity" in line]


def test_save_load_and_plot_options(tmp_path, capsys):
    save = tmp_path / "model.npz"
    status, out, _ = _run(capsys, SMALL + ["--save", str(save), "--seed", "1"])
    assert status == 0 and save.exists()
    status, out2, err = _run(capsys, SMALL + ["--load", str(save), "--seed", "1"])
    assert status == 0 and err == ""


def test_text_files_with_valid_and_test_and_unknown_words(tmp_path, capsys):
    words = [f"w{i}" for i in range(20)]
    train = chain_text(tmp_path / "train.txt", words, 300)
    valid = chain_text(tmp_path / "valid.txt", words, 30, seed=1)
    valid.write_text(valid.read_text().replace("\n", " never-seen\n"))
    status, out, err = _run(capsys, ["--corpus", str(train), "--valid", str(valid),
                                     "--test", str(valid), "--epochs", "1", "--lr", "1",
                                     "--wordvec", "8", "--hidden", "8", "--compare", "3"])
    assert status == 0, err
    assert "valid: 30 words not in the training vocabulary became <unk>" in out
    assert "validation perplexity" in out and "test perplexity" in out


def _bad_files(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n ")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"abc\x00def ghi")
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("caf\xe9 au lait".encode("latin-1"))
    short = tmp_path / "short.txt"
    short.write_text("a b c d e f g")
    return {"missing": (str(tmp_path / "nope.txt"), "nope.txt"),
            "empty": (str(empty), "empty"),
            "binary": (str(binary), "binary"),
            "not utf-8": (str(latin), "UTF-8"),
            "too short": (str(short), "needs at least 51")}


@pytest.mark.parametrize("case", ["missing", "empty", "binary", "not utf-8", "too short"])
def test_bad_corpus_files_fail_in_one_line_and_write_nothing(tmp_path, capsys, case):
    path, message = _bad_files(tmp_path)[case]
    save = tmp_path / "keep.npz"
    save.write_bytes(b"the last good checkpoint")
    status, out, err = _run(capsys, ["--corpus", path, "--save", str(save), "--quiet"])
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert message in err
    assert save.read_bytes() == b"the last good checkpoint"


@pytest.mark.parametrize("args, message", [
    (["--save", "/no/such/folder/m.npz"], "folder /no/such/folder does not exist"),
    (["--plot", "/no/such/folder/p.png"], "does not exist"),
    (["--valid", "x.txt"], "--valid and --test need --corpus"),
    (["--tied", "--wordvec", "8", "--hidden", "16"], "--tied needs --wordvec == --hidden"),
])
def test_bad_options_fail_in_one_line(capsys, args, message):
    status, out, err = _run(capsys, args)
    assert status == 2 and len(err.strip().splitlines()) == 1 and message in err


def test_save_to_a_folder_is_refused(tmp_path, capsys):
    status, _, err = _run(capsys, ["--save", str(tmp_path)])
    assert status == 2 and "is a folder" in err


@pytest.mark.parametrize("args", [["--batch-size", "0"], ["--time-size", "-3"],
                                  ["--hidden", "x"], ["--lr", "0"], ["--epochs", "0"],
                                  ["--optimizer", "rmsprop"], ["--backend", "torch"]])
def test_non_positive_sizes_and_bad_choices_exit_2_in_one_line(capsys, args):
    with pytest.raises(SystemExit) as exc:
        main(["train", *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "error" in err


def test_a_mismatched_load_fails_and_changes_nothing(tmp_path, capsys):
    save = tmp_path / "m.npz"
    assert _run(capsys, SMALL + ["--save", str(save)])[0] == 0
    before = save.read_bytes()
    status, _, err = _run(capsys, ["--corpus-size", "3000", "--wordvec", "16", "--hidden", "32",
                                   "--quiet",
                                   "--load", str(save), "--save", str(save)])
    assert status == 2 and "H=16; this is a SimpleRnnlm (simple) with" in err
    assert save.read_bytes() == before
    bad = tmp_path / "bad.npz"
    bad.write_bytes(before[: len(before) // 2])
    status, _, err = _run(capsys, SMALL + ["--load", str(bad)])
    assert status == 2 and "cannot read" in err and len(err.strip().splitlines()) == 1


def test_plot_shows_perplexity_against_iterations_with_validation_and_floor(
        tmp_path, capsys, monkeypatch):
    """The figure of --plot: the training curve every PLOT_INTERVAL
    iterations, a validation point at each epoch's end, the corpus's floor,
    and plain tick labels (3, 10, 100: no 10^2)."""
    from fastrnn.lm import plot
    from fastrnn.lm.train import PLOT_INTERVAL

    figures = []
    real = plot.plot_figure
    monkeypatch.setattr(plot, "plot_figure", lambda history, floor=None: figures.append(
        (history, floor, real(history, floor))) or figures[-1][2])
    path = tmp_path / "curve.png"
    status, out, err = _run(capsys, SMALL + ["--epochs", "2", "--plot", str(path)])
    assert status == 0, err
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (history, floor, fig), = figures
    per_epoch = history.epoch_ends[0]
    assert history.epoch_ends == [per_epoch, 2 * per_epoch]
    assert [i for i, _ in history.curve] == \
        [e * per_epoch + k for e in range(2)
         for k in range(PLOT_INTERVAL, per_epoch + 1, PLOT_INTERVAL)]
    ax = fig.axes[0]
    assert ax.get_xlabel() == "iteration"
    lines = {line.get_label(): line for line in ax.get_lines()}
    train = lines[f"training (every {PLOT_INTERVAL} iterations)"]
    assert list(train.get_ydata()) == [p for _, p in history.curve]
    valid = lines["validation (each epoch)"]
    assert list(valid.get_xdata()) == history.epoch_ends
    assert list(valid.get_ydata()) == history.valid_ppl
    assert floor is not None
    assert list(lines[f"floor of the source ({floor:.3f})"].get_ydata()) == [floor, floor]
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels and all(t.replace(".", "").isdigit() for t in labels), labels


def test_an_interrupted_plot_leaves_the_old_file_as_it_was(tmp_path, capsys, monkeypatch):
    """--plot writes beside the file and renames: a failure half-way through
    (here: the writer breaks after some bytes) leaves the old plot whole and
    no temporary file behind."""
    from matplotlib.figure import Figure

    path = tmp_path / "curve.png"
    path.write_bytes(b"the user's old plot")

    def broken(self, f, **kwargs):
        f.write(b"\x89PNG half")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(Figure, "savefig", broken)
    status, out, err = _run(capsys, SMALL + ["--plot", str(path)])
    assert status == 1 and "No space left on device" in err
    assert path.read_bytes() == b"the user's old plot"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curve.png"]
