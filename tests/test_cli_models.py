"""``fastrnn train --model simple|lstm|better``, ``fastrnn generate`` and
``fastrnn eval``: presets, the learning-rate schedule, checkpoints that say
what they hold, and every refusal (one line, status 2, nothing written)."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import chain_text

from fastrnn.lm.presets import TRAIN_PRESETS
from fastrnn.cli import build_parser, main, train_checks
from fastrnn.cli import models as commands
from fastrnn.lm import data, perplexity
from fastrnn.lm import markov
from fastrnn.cli import train as run_module
from fastrnn.cli.models import SKIP_WORDS
from fastrnn.lm.model import (Rnnlm, SimpleRnnlm, checkpoint_meta, model_from_meta,
                              read_params_file)

TINY = ["--batch-size", "2", "--time-size", "3", "--wordvec", "8", "--hidden", "8",
        "--epochs", "1", "--corpus-size", "2000", "--compare", "2", "--quiet"]
# Added to TINY on the built-in corpus: better's preset lr 20 at batch 2
# leaves it worse than a uniform guess (validation perplexity 380, V 278);
# at 2 it ends epoch 1 at 248.
BUILTIN_LR = {"simple": [], "lstm": [], "better": ["--lr", "2"]}
# Added to TINY[:-5] on a small text without validation: values with which
# each model ends its first epoch well below a uniform guess's perplexity
# (else the run stops as diverged). The presets' (lr 20 at batch 2) overshoot.
LEARNS = {"simple": ["--lr", "1"], "lstm": ["--lr", "5"],
          "better": ["--wordvec", "32", "--hidden", "32", "--lr", "5", "--epochs", "2"]}


@pytest.fixture(autouse=True)
def _malloc_left_alone(monkeypatch):
    monkeypatch.setattr(run_module, "fix_malloc", lambda: "malloc: left alone in the tests")


def _main(capsys, argv):
    try:
        status = main(argv)
    except SystemExit as e:  # argparse's refusals
        status = e.code
    out, err = capsys.readouterr()
    return status, out, err


def _refused(capsys, argv, *needles):
    status, out, err = _main(capsys, argv)
    assert status == 2, err
    assert out == "" and len(err.splitlines()) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


def _train(capsys, tmp_path, model, *extra, name=None):
    save = tmp_path / (name or f"{model}.npz")
    status, out, err = _main(capsys, ["train", "--model", model, *TINY, "--save", str(save),
                                      *extra])
    assert status == 0, err
    return save, out


# --- presets -----------------------------------------------------------------

@pytest.mark.parametrize("model, expected", [
    ("simple", dict(batch_size=10, time_size=5, wordvec=100, hidden=100, lr=0.1,
                    optimizer="sgd", max_grad=None, epochs=10, dropout=None)),
    ("lstm", dict(batch_size=20, time_size=35, wordvec=100, hidden=100, lr=20.0,
                  optimizer="sgd", max_grad=0.25, epochs=4, dropout=None)),
    ("better", dict(batch_size=20, time_size=35, wordvec=650, hidden=650, lr=20.0,
                    optimizer="sgd", max_grad=0.25, epochs=40, dropout=0.5)),
])
def test_each_model_has_the_books_hyperparameters(model, expected):
    argv = ["train"] if model == "simple" else ["train", "--model", model]
    args = build_parser().parse_args(argv)
    assert args.model == model
    assert {k: getattr(args, k) for k in expected} == expected


def test_every_option_given_overrides_its_preset():
    args = build_parser().parse_args(
        ["train", "--model", "better", "--batch-size", "3", "--time-size", "4", "--wordvec",
         "16", "--hidden", "16", "--lr", "2", "--max-grad", "1", "--epochs", "2",
         "--dropout", "0.1", "--optimizer", "adam"])
    assert (args.batch_size, args.time_size, args.wordvec, args.hidden, args.lr,
            args.max_grad, args.epochs, args.dropout, args.optimizer) == \
        (3, 4, 16, 16, 2.0, 1.0, 2, 0.1, "adam")
    assert set(TRAIN_PRESETS) == {"simple", "lstm", "better"}


def test_the_default_run_is_still_the_chapter_5_model(capsys, monkeypatch):
    """``fastrnn train`` alone: SimpleRnnlm, no clipping, the old log line."""
    seen = {}
    make = run_module.make_model

    def spy(cfg, vocab_size, backend=None):
        seen.setdefault("cfg", cfg)
        return make(cfg, vocab_size, backend)
    monkeypatch.setattr(run_module, "make_model", spy)
    status, out, err = _main(capsys, ["train", "--corpus-size", "2000", "--epochs", "1",
                                      "--compare", "2", "--wordvec", "8", "--hidden", "8"])
    assert status == 0, err
    cfg = seen["cfg"]
    assert (cfg.model, cfg.batch_size, cfg.time_size, cfg.lr, cfg.max_grad, cfg.tied) == \
        ("simple", 10, 5, 0.1, None, False)
    assert "model: V=" in out and "floor 2.940" in out and "speed-up" in out


@pytest.mark.parametrize("model", ["lstm", "better"])
def test_lstm_models_train_save_and_compare_with_their_numpy_build(capsys, tmp_path,
                                                                   monkeypatch, model):
    built = []
    make = run_module.make_model
    monkeypatch.setattr(run_module, "make_model",
                        lambda cfg, v, backend=None: built.append(cfg.model) or make(cfg, v))
    from fastrnn.lm import train
    calls = []
    make_t = train.make_model

    def spy(cfg, v, backend=None):
        model_ = make_t(cfg, v, backend)
        calls.append((type(model_).__name__, model_.backend))
        return model_
    monkeypatch.setattr(train, "make_model", spy)
    save, out = _train(capsys, tmp_path, model, "--seed", "1", *BUILTIN_LR[model])
    name = {"lstm": "Rnnlm", "better": "BetterRnnlm"}[model]
    # the closing comparison: the same class, numpy's layers and fastrnn's
    assert {(name, "numpy"), (name, "fastrnn")} == set(calls)
    assert "speed-up" in out and "test perplexity" in out
    meta = checkpoint_meta(str(save), read_params_file(save))
    assert (meta["model"], meta["vocab_size"] > 0, meta["wordvec_size"],
            meta["hidden_size"], meta["tied"]) == (model, True, 8, 8, model == "better")
    assert meta["dropout"] == (0.5 if model == "better" else 0.0)


def test_validation_perplexity_is_reported_every_epoch_with_dropout_off(capsys, tmp_path,
                                                                          monkeypatch):
    """The evaluation sees no dropout: a spy on ``predict`` records train_flg."""
    flags = []
    from fastrnn.lm.model import LanguageModel
    predict = LanguageModel.predict

    def spy(self, xs, train_flg=False):
        flags.append((xs.shape[1], train_flg))
        return predict(self, xs, train_flg)
    monkeypatch.setattr(LanguageModel, "predict", spy)
    status, out, err = _main(capsys, ["train", "--model", "better", *TINY, "--epochs", "2",
                                      *BUILTIN_LR["better"], "--compare", "1"])
    assert status == 0, err
    assert {f for t, f in flags if t == 35} == {False}  # evaluation blocks
    assert {f for t, f in flags if t == 3} == {True}  # training steps


# --- the learning-rate schedule ------------------------------------------------

def test_better_divides_lr_by_4_and_keeps_the_best_checkpoint(capsys, tmp_path, monkeypatch):
    """Validation perplexities 50, 60 (worse: lr 20 -> 5), 40 (best), 45
    (worse: lr -> 1.25), from a fake ``perplexity``; the checkpoint holds the
    params of epoch 3, as the model at the end does."""
    fake = iter([50.0, 60.0, 40.0, 45.0])
    test_ppls = []
    lrs, snapshots = [], []
    real = run_module.perplexity

    def fake_perplexity(model, corpus, batch_size=10, time_size=35):
        if corpus is current["corpus"].valid:
            snapshots.append([p.copy() for p in model.params])
            return next(fake)
        test_ppls.append([p.copy() for p in model.params])
        return real(model, corpus, batch_size, time_size)
    current = {}
    load = run_module.load_data

    def spy_load(args):
        current["corpus"] = load(args)[0]
        return current["corpus"], None
    monkeypatch.setattr(run_module, "perplexity", fake_perplexity)
    monkeypatch.setattr(run_module, "load_data", spy_load)
    epoch = run_module.Trainer.epoch
    monkeypatch.setattr(run_module.Trainer, "epoch",
                        lambda self, *a: lrs.append(self.optimizer.lr) or epoch(self, *a))
    save = tmp_path / "best.npz"
    status, out, err = _main(capsys, ["train", "--model", "better", *TINY, "--epochs", "4",
                                      "--save", str(save)])
    assert status == 0, err
    assert lrs == [20.0, 20.0, 5.0, 5.0]
    saved = np.load(save)
    names = [n for n in saved.files if n not in ("vocab", "meta")]
    from fastrnn.lm.model import BetterRnnlm
    order = BetterRnnlm(5, 2, 2).names
    for name in names:
        np.testing.assert_array_equal(saved[name], snapshots[2][order.index(name)])
        np.testing.assert_array_equal(test_ppls[0][order.index(name)],
                                      snapshots[2][order.index(name)])
    assert not np.array_equal(saved["lstm_Wx1"], snapshots[3][order.index("lstm_Wx1")])


def test_the_schedule_checks_its_lr_after_the_last_worse_epoch(capsys, monkeypatch):
    """Two worse epochs in a row divide twice (20 -> 5 -> 1.25)."""
    fake = iter([10.0, 11.0, 12.0, 13.0])
    lrs = []
    monkeypatch.setattr(run_module, "perplexity",
                        lambda model, corpus, *a, **k: next(fake, 1.0))
    epoch = run_module.Trainer.epoch
    monkeypatch.setattr(run_module.Trainer, "epoch",
                        lambda self, *a: lrs.append(self.optimizer.lr) or epoch(self, *a))
    status, out, err = _main(capsys, ["train", "--model", "better", *TINY, "--epochs", "3"])
    assert status == 0, err
    assert lrs == [20.0, 20.0, 5.0]


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
def test_a_non_finite_validation_perplexity_stops_before_saving(capsys, monkeypatch,
                                                                tmp_path, bad):
    """Nothing to keep: the run stops as diverged (status 2), the checkpoint of
    the earlier epoch stays, and nothing claims a save that did not happen."""
    fake = iter([10.0, bad])
    monkeypatch.setattr(run_module, "perplexity",
                        lambda model, corpus, *a, **k: next(fake, 1.0))
    save = tmp_path / "best.npz"
    status, out, err = _main(capsys, ["train", "--model", "better", *TINY, "--epochs", "3",
                                      "--save", str(save)])
    assert status == 2 and "training diverged at epoch 2" in err, err
    assert "validation perplexity" in err and len(err.strip().splitlines()) == 1
    with np.load(save) as f:  # epoch 1's checkpoint, complete and finite
        assert "lstm_Wx1" in f.files
        assert all(np.isfinite(f[n]).all() for n in f.files if n not in ("vocab", "meta"))
    assert "params saved" not in out


# --- resuming: never a worse model over the loaded one ---------------------------

# Small runs that each model learns in (3 epochs: validation perplexity about
# 28 for simple, 11 for lstm, 70 for better, V = 294), and a learning rate
# at which one more epoch from there is clearly worse (about 150, 140, 130)
# but still better than a uniform guess.
RESUME = ["--wordvec", "16", "--hidden", "16", "--corpus-size", "5000", "--batch-size", "10",
          "--time-size", "5", "--compare", "1"]
RESUME_FIRST = {"simple": ["--lr", "1"], "lstm": [], "better": ["--dropout", "0.1"]}
RESUME_WORSE_LR = {"simple": "10", "lstm": "100", "better": "50"}


def _valid_ppls(out):
    return [float(x) for x in re.findall(r"validation perplexity ([\d.]+)", out)]


@pytest.mark.parametrize("model", ["simple", "lstm", "better"])
def test_a_resumed_run_never_saves_an_epoch_worse_than_the_loaded_model(capsys, tmp_path,
                                                                        model):
    """Issue #22, item 1: the best so far starts at the loaded model's own
    validation perplexity (measured: the figure its run saved it with), so
    a worse epoch is neither "best so far" nor saved over it; the run says
    so and ends with the loaded params (its test perplexity is theirs)."""
    ck = tmp_path / "good.npz"
    status, first, err = _main(capsys, ["train", "--model", model, *RESUME,
                                        *RESUME_FIRST[model], "--epochs", "3",
                                        "--save", str(ck)])
    assert status == 0, err
    saved_ppl = min(_valid_ppls(first))  # simple and lstm improve every epoch here
    before, mode = ck.read_bytes(), ck.stat().st_mode
    status, out, err = _main(capsys, ["train", "--model", model, *RESUME,
                                      *RESUME_FIRST[model], "--epochs", "1",
                                      "--lr", RESUME_WORSE_LR[model],
                                      "--load", str(ck), "--save", str(ck)])
    assert status == 0, err
    assert f"--load {ck}: validation perplexity {saved_ppl:.3f}" in out
    epoch_ppl = _valid_ppls(out.split("epoch 1:")[1])[0]
    assert saved_ppl * 2 < epoch_ppl < 294  # worse, yet no divergence
    assert "best so far" not in out and "params of epoch" not in out
    assert (f"no epoch improved on the validation perplexity of --load {ck} "
            f"({saved_ppl:.3f}): the run ends with its params; {ck} was left as it "
            "was") in out
    test_ppl = re.findall(r"test perplexity: [\d.]+", first)
    assert test_ppl and test_ppl == re.findall(r"test perplexity: [\d.]+", out)
    assert ck.read_bytes() == before and ck.stat().st_mode == mode


def test_a_fresh_run_never_saves_over_a_better_checkpoint_of_its_model(capsys, tmp_path):
    """A new run (no --load) whose --save names a checkpoint of the same
    model replaces it only with an epoch that beats its validation
    perplexity: a worse run leaves it byte for byte, a better one replaces it,
    --overwrite replaces it regardless."""
    ck = tmp_path / "good.npz"
    status, first, err = _main(capsys, ["train", *RESUME, "--lr", "1", "--epochs", "3",
                                        "--save", str(ck)])
    assert status == 0, err
    good = _valid_ppls(first)[-1]
    before, mode = ck.read_bytes(), ck.stat().st_mode
    worse = ["train", *RESUME, "--lr", "0.1", "--epochs", "1", "--save", str(ck)]
    status, out, err = _main(capsys, worse)
    assert status == 0, err
    assert f"--save {ck} already holds this model, validation perplexity {good:.3f}" in out
    assert _valid_ppls(out.split("epoch 1:")[1])[0] > good
    assert f"(not saved: {ck} has {good:.3f})" in out and "params of epoch" not in out
    assert (f"no epoch beat the validation perplexity of the checkpoint already at --save "
            f"{ck} ({good:.3f}): it was left as it was") in out
    assert ck.read_bytes() == before and ck.stat().st_mode == mode
    # a better run replaces it
    status, out, err = _main(capsys, ["train", *RESUME, "--lr", "1", "--epochs", "4",
                                      "--save", str(ck)])
    assert status == 0, err
    assert min(_valid_ppls(out)) < good and ck.read_bytes() != before
    # --overwrite: the first epoch replaces it, worse or not
    before = ck.read_bytes()
    status, out, err = _main(capsys, worse + ["--overwrite"])
    assert status == 0, err
    assert "already holds" not in out and ck.read_bytes() != before


@pytest.mark.parametrize("model", ["simple", "lstm"])
def test_a_later_worse_epoch_is_not_saved_over_an_earlier_one(capsys, tmp_path, monkeypatch,
                                                              model):
    """Models that do not keep their best epoch still never save a worse
    epoch over a better one: validation perplexities 50, 60 (worse), 45 from
    a fake ``perplexity``: epochs 1 and 3 are saved, epoch 2 is not."""
    fake = iter([50.0, 60.0, 45.0])
    saved_params = []
    current = {}
    real, load = run_module.perplexity, run_module.load_data

    def fake_perplexity(model, corpus, batch_size=10, time_size=35):
        if corpus is current["corpus"].valid:
            return next(fake)
        return real(model, corpus, batch_size, time_size)

    def spy_load(args):
        current["corpus"] = load(args)[0]
        return current["corpus"], None
    monkeypatch.setattr(run_module, "perplexity", fake_perplexity)
    monkeypatch.setattr(run_module, "load_data", spy_load)
    save = tmp_path / "ck.npz"
    tiny = [a for a in TINY if a != "--quiet"]
    status, out, err = _main(capsys, ["train", "--model", model, *tiny, "--epochs", "3",
                                      "--save", str(save)])
    assert status == 0, err
    lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert "not saved" not in lines[0] and "not saved" not in lines[2]
    assert f"(not saved: {save} has 50.000)" in lines[1]
    assert f"params of epoch 3 saved to {save}" in out


def test_a_resumed_run_into_its_own_file_without_validation_text_is_refused(capsys,
                                                                            tmp_path):
    text = tmp_path / "text.txt"
    chain_text(text, [f"w{i}" for i in range(40)], 500)
    ck = tmp_path / "ck.npz"
    args = ["train", "--corpus", str(text), *RESUME[:4], "--batch-size", "10", "--time-size",
            "5", "--compare", "1", "--lr", "1", "--epochs", "1"]
    status, _, err = _main(capsys, args + ["--save", str(ck)])
    assert status == 0, err
    before = ck.read_bytes()
    _refused(capsys, args + ["--load", str(ck), "--save", str(ck)],
             f"--load {ck} is resumed into itself, and without a validation text (--valid) "
             "no epoch can be shown to beat it")
    assert ck.read_bytes() == before


def test_a_fresh_run_without_validation_text_refuses_an_existing_checkpoint(capsys,
                                                                            tmp_path):
    text = tmp_path / "text.txt"
    chain_text(text, [f"w{i}" for i in range(40)], 500)
    ck = tmp_path / "ck.npz"
    args = ["train", "--corpus", str(text), *RESUME[:4], "--batch-size", "10", "--time-size",
            "5", "--compare", "1", "--lr", "1", "--epochs", "1", "--save", str(ck)]
    status, _, err = _main(capsys, args)
    assert status == 0, err
    before = ck.read_bytes()
    _refused(capsys, args, f"--save {ck} holds a checkpoint of this model, and without a "
                           "validation text (--valid) no epoch can be shown to beat it")
    assert ck.read_bytes() == before
    status, _, err = _main(capsys, args + ["--overwrite"])
    assert status == 0, err


def test_a_resumed_run_saves_an_epoch_that_improves_and_only_that(capsys, tmp_path):
    ck = tmp_path / "good.npz"
    status, first, err = _main(capsys, ["train", *RESUME, "--lr", "1", "--epochs", "3",
                                        "--save", str(ck)])
    assert status == 0, err
    loaded = _valid_ppls(first)[-1]
    # at lr 3 the first epoch improves (about 13); whatever the second does,
    # the checkpoint ends with the better of the two
    status, out, err = _main(capsys, ["train", *RESUME, "--lr", "3", "--epochs", "2",
                                      "--load", str(ck), "--save", str(ck)])
    assert status == 0, err
    ppls = _valid_ppls(out.split("epoch 1:")[1])[:2]
    assert ppls[0] < loaded and "(best so far, kept)" in out.split("epoch 2:")[0]
    best = min(ppls)
    m = SimpleRnnlm(len(np.load(ck)["vocab"]), 16, 16)
    m.load_params(ck)
    corpus, _ = markov.builtin_corpus(seed=0, train_tokens=5000)
    assert f"{perplexity(m, corpus.valid, 10):.3f}" == f"{best:.3f}"


def test_resuming_another_file_saves_only_what_beats_the_loaded_model(capsys, tmp_path):
    """--load A --save B: B is written only by an epoch better than A."""
    ck = tmp_path / "good.npz"
    assert _main(capsys, ["train", *RESUME, "--lr", "1", "--epochs", "3",
                          "--save", str(ck)])[0] == 0
    other = tmp_path / "other.npz"
    status, out, err = _main(capsys, ["train", *RESUME, "--lr", "10", "--epochs", "1",
                                      "--load", str(ck), "--save", str(other)])
    assert status == 0, err
    assert f"the run ends with its params; nothing was saved to {other}" in out
    assert not other.exists()


# --- Adam's preset, and models worse than a uniform guess ------------------------

@pytest.mark.parametrize("model", ["simple", "lstm", "better"])
def test_adam_has_its_own_preset_learning_rate(model):
    """Issue #22, item 3: the book's Adam rate, for every model, unless --lr
    is given; the presets' SGD rates are not Adam's."""
    args = build_parser().parse_args(["train", "--model", model, "--optimizer", "adam"])
    assert args.lr == 0.001 and "lr" in args.from_preset and "optimizer" not in args.from_preset
    args = build_parser().parse_args(["train", "--model", model, "--optimizer", "adam",
                                      "--lr", "0.01"])
    assert args.lr == 0.01 and "lr" not in args.from_preset
    args = build_parser().parse_args(["train", "--model", model])
    assert args.lr == TRAIN_PRESETS[model]["lr"] and args.optimizer == "sgd"


@pytest.mark.parametrize("model", ["simple", "lstm"])
def test_adam_without_lr_trains_and_is_never_too_large(capsys, model):
    """--model lstm --optimizer adam used to be refused as "--lr 20 is too
    large", an --lr the user never gave."""
    status, out, err = _main(capsys, ["train", "--model", model, "--optimizer", "adam",
                                      *TINY[:-1]])
    assert status == 0, err
    assert "adam lr=0.001" in out
    assert 0 < _valid_ppls(out)[0] < 287


def test_the_preset_is_named_when_its_value_is_refused(capsys, monkeypatch):
    from fastrnn.lm import presets
    monkeypatch.setattr(presets, "ADAM_LR", 1.0)
    _refused(capsys, ["train", "--optimizer", "adam"],
             "the preset's --lr 1 is too large to train with adam (at most 0.1); give a "
             "smaller --lr")


def test_a_model_worse_than_a_uniform_guess_stops_and_keeps_the_checkpoint(capsys,
                                                                           tmp_path):
    """Issue #22, item 3: Adam at lr 0.1 (the largest accepted) takes the
    chapter-5 model to a validation perplexity of about 18,000 with V = 287
    in its first epoch. Nothing of it is called best or saved: the
    checkpoint of the same model trained well stays, status 2."""
    small = ["--corpus-size", "3000", "--wordvec", "100", "--hidden", "100", "--compare", "1",
             "--quiet"]
    good = tmp_path / "good.npz"
    assert _main(capsys, ["train", *small, "--epochs", "1", "--save", str(good)])[0] == 0
    before = good.read_bytes()
    status, out, err = _main(capsys, ["train", *small, "--epochs", "2", "--optimizer", "adam",
                                      "--lr", "0.1", "--save", str(good)])
    assert status == 2 and out == "" and len(err.splitlines()) == 1, err
    assert err.startswith("fastrnn train: error: training diverged at epoch 1 (validation "
                          "perplexity ")
    assert ("worse than a uniform guess over the 287 words of the vocabulary); lower --lr "
            f"(now 0.1) or clip the gradient norm with --max-grad; {good} was left as it "
            "was\n") in err
    assert good.read_bytes() == before


def test_without_validation_text_the_training_perplexity_is_judged(capsys, tmp_path):
    """lstm's preset lr 20 at batch 2 on a short text: its first epoch's
    training perplexity (about 26) is above V = 21."""
    text = chain_text(tmp_path / "t.txt", [f"w{i}" for i in range(20)], 60, 7, seed=1)
    save = tmp_path / "m.npz"
    status, out, err = _main(capsys, ["train", "--model", "lstm", "--corpus", str(text),
                                      *TINY[:-5], "--compare", "1", "--save", str(save)])
    assert status == 2, err
    assert ("training diverged at epoch 1 (training perplexity " in err
            and "worse than a uniform guess over the 21 words" in err
            and "lower --lr (now 20, the preset's) or lower --max-grad (now 0.25, the "
                "preset's); nothing was saved" in err), err
    assert "best so far" not in out and not save.exists()


# --- refusals of train -------------------------------------------------------

@pytest.mark.parametrize("argv, needle", [
    (["--dropout", "0.3"], "--dropout is for --model better"),
    (["--model", "lstm", "--dropout", "0.3"], "--dropout is for --model better"),
    (["--model", "lstm", "--tied"], "--tied: --model lstm is the book's Rnnlm, whose output "
                                    "layer is not tied; use --model better"),
    (["--model", "better", "--wordvec", "8", "--hidden", "16"],
     "--model better ties its output layer"),
])
def test_options_that_do_not_fit_the_model_are_refused(capsys, tmp_path, argv, needle):
    save = tmp_path / "keep.npz"
    save.write_bytes(b"last good")
    _refused(capsys, ["train", *argv, "--save", str(save)], needle)
    assert save.read_bytes() == b"last good"


@pytest.mark.parametrize("model", ["simple", "better"])
def test_tied_is_accepted_where_the_model_can_be_tied(capsys, model):
    """--tied ties simple; better is always tied, so it changes nothing there
    (lstm, the book's untied Rnnlm, refuses it: above)."""
    status, out, err = _main(capsys, ["train", "--model", model, "--tied", *TINY[:-1],
                                      *BUILTIN_LR[model]])
    assert status == 0, err
    assert "D=8 H=8 tied," in out


@pytest.mark.parametrize("argv, needle", [
    (["--batch-size", "0"], "argument --batch-size: must be a positive integer, got 0"),
    (["--epochs", "2.5"], "argument --epochs: must be a positive integer, got 2.5"),
    (["--lr", "x"], "argument --lr: must be a positive number, got x"),
    (["--max-grad", "-1"], "argument --max-grad: must be a positive number, got -1"),
])
def test_values_that_are_not_positive_are_refused_in_plain_words(capsys, argv, needle):
    _refused(capsys, ["train", *argv], needle)


@pytest.mark.parametrize("value", ["1", "-0.1", "x", "nan"])
def test_a_dropout_outside_0_1_is_refused(capsys, value):
    _refused(capsys, ["train", "--model", "better", "--dropout", value], "--dropout")


def test_the_books_lr_20_is_allowed_for_sgd():
    from fastrnn.lm.train import MAX_LR
    assert MAX_LR["sgd"] >= 20


@pytest.mark.parametrize("saved, loaded, needle", [
    ("lstm", ["--model", "simple"], "holds an Rnnlm (lstm) with V="),
    ("simple", ["--model", "lstm"], "holds a SimpleRnnlm (simple)"),
    ("lstm", ["--model", "better"], "this is a BetterRnnlm (better)"),
    ("lstm", ["--model", "lstm", "--hidden", "16"], "H=8; this is an Rnnlm (lstm) with"),
    # what differs is named, also where the descriptions alone read alike
    ("lstm", ["--model", "lstm", "--hidden", "16"], "(they differ in H (8 in the file, 16 here))"),
    ("simple", ["--tied"], "(they differ in tied (no in the file, yes here))"),
])
def test_a_checkpoint_of_another_model_is_refused_by_train(capsys, tmp_path, saved, loaded,
                                                           needle):
    ck, _ = _train(capsys, tmp_path, saved)
    before = ck.read_bytes()
    argv = ["train", *TINY, *loaded, "--load", str(ck), "--save", str(ck)]
    _refused(capsys, argv, needle)
    assert ck.read_bytes() == before


@pytest.mark.parametrize("model", ["simple", "lstm", "better"])
def test_memory_estimate_grows_with_each_models_layers(model):
    args = build_parser().parse_args(["train", "--model", model, "--wordvec", "64",
                                      "--hidden", "64"])
    simple = build_parser().parse_args(["train", "--wordvec", "64", "--hidden", "64",
                                        "--batch-size", str(args.batch_size),
                                        "--time-size", str(args.time_size)])
    ratio = train_checks.model_bytes(args, 10) / train_checks.model_bytes(simple, 10)
    # V = 10: the recurrent layers dominate; an LSTM keeps about 4x an RNN's
    assert ratio == 1 if model == "simple" else ratio > {"lstm": 3, "better": 7}[model]


def test_the_memory_refusal_names_the_models_sizes(capsys, monkeypatch):
    from fastrnn.cli import checks as _cli_checks
    monkeypatch.setattr(_cli_checks, "available_memory", lambda: 10 ** 8)
    _refused(capsys, ["train", "--model", "better", "--corpus-size", "2000"],
             "D=650 H=650, batch 20, time 35", "of memory")


# --- old checkpoints ---------------------------------------------------------

def test_an_old_checkpoint_without_meta_still_loads_as_simple(capsys, tmp_path):
    old = tmp_path / "old.npz"
    ck, _ = _train(capsys, tmp_path, "simple")
    arrays = dict(np.load(ck))
    del arrays["meta"]
    np.savez(old, **arrays)
    status, out, err = _main(capsys, ["train", *TINY, "--load", str(old)])
    assert status == 0, err
    assert _main(capsys, ["generate", "--load", str(old), "--length", "5"])[0] == 0
    _refused(capsys, ["train", *TINY, "--model", "lstm", "--load", str(old)],
             "holds a SimpleRnnlm (simple)")


def test_a_checkpoint_without_meta_that_is_not_simple_is_refused(capsys, tmp_path):
    ck, _ = _train(capsys, tmp_path, "lstm")
    arrays = dict(np.load(ck))
    del arrays["meta"]
    old = tmp_path / "old.npz"
    np.savez(old, **arrays)
    for argv in (["generate", "--load", str(old)],
                 ["train", *TINY, "--model", "lstm", "--load", str(old)]):
        _refused(capsys, argv, "records no model kind")


# --- generate ----------------------------------------------------------------

@pytest.fixture
def text_model(tmp_path_factory, capsys):
    """An lstm trained on a text with <unk> and N in its vocabulary."""
    folder = tmp_path_factory.mktemp("gen")
    words = [f"w{i}" for i in range(30)] + ["<unk>", "N", "you"]
    text = chain_text(folder / "train.txt", words, 200, 9)
    save = folder / "lstm.npz"
    status, out, err = _main(capsys, ["train", "--model", "lstm", "--corpus", str(text),
                                      *TINY[:-5], "--epochs", "2", *LEARNS["lstm"],
                                      "--compare", "1", "--quiet", "--save", str(save)])
    assert status == 0, err
    return save, text


def test_generate_is_reproducible_and_never_samples_skipped_words(capsys, text_model):
    save, _ = text_model
    vocab = {str(w) for w in np.load(save)["vocab"]}
    runs = [_main(capsys, ["generate", "--load", str(save), "--length", "300",
                           "--seed", "7"]) for _ in range(2)]
    assert runs[0] == runs[1] and runs[0][0] == 0 and runs[0][2] == ""
    out = runs[0][1]
    words = out.split()
    assert words[0] == "you"  # the default start word, in this vocabulary
    assert len(words) + out.count("\n") - 1 == 300  # <eos> printed as a line break
    assert set(words) <= vocab and not set(words) & set(SKIP_WORDS)
    other = _main(capsys, ["generate", "--load", str(save), "--length", "300",
                           "--seed", "8"])[1]
    assert other != out


def test_generate_starts_with_the_start_word(capsys, text_model):
    save, _ = text_model
    status, out, err = _main(capsys, ["generate", "--load", str(save), "--start", "w3",
                                      "--length", "12"])
    assert status == 0 and out.split()[0] == "w3"


def test_generate_default_start_without_you_is_the_first_unskipped_word(capsys, tmp_path):
    ck, _ = _train(capsys, tmp_path, "lstm")
    vocab = [str(w) for w in np.load(ck)["vocab"]]
    assert "you" not in vocab
    out = _main(capsys, ["generate", "--load", str(ck), "--length", "3"])[1]
    assert out.split()[0] == next(w for w in vocab if w not in SKIP_WORDS)


@pytest.mark.parametrize("argv, needle", [
    (["--start", "nowhere"], "--start 'nowhere' is not in the vocabulary"),
    (["--start", "N"], "never samples"),
    (["--length", "0"], "--length"),
    (["--seed", "-1"], "--seed"),
])
def test_generate_refuses_bad_values(capsys, text_model, argv, needle):
    save, _ = text_model
    _refused(capsys, ["generate", "--load", str(save), *argv], needle)


def _printed_before_streaming(save, length, seed, start="you"):
    """What ``fastrnn generate`` printed before it streamed: its code of then
    (all ids drawn, then joined, <eos> as a line break), kept as the oracle."""
    arrays = read_params_file(save)
    vocab = [str(w) for w in arrays["vocab"]]
    model = model_from_meta(checkpoint_meta(str(save), arrays))
    model.load_params(save, vocab=vocab)
    skip = np.isin(vocab, SKIP_WORDS)
    rs = np.random.RandomState(seed)
    model.reset_state()
    ids = [vocab.index(start)]
    while len(ids) < length:
        s = model.predict(np.array([[ids[-1]]], dtype=np.int32)).ravel().astype(np.float64)
        p = np.exp(s - s.max())
        p[skip] = 0.0
        ids.append(int(rs.choice(len(p), p=p / p.sum())))
    lines = [[]]
    for w in (vocab[i] for i in ids):
        if w == data.EOS:
            lines.append([])
        else:
            lines[-1].append(w)
    return "\n".join(" ".join(line) for line in lines) + "\n"


@pytest.mark.parametrize("length, seed, start", [(1, 0, "you"), (2, 7, "you"),
                                                 (300, 7, "you"), (300, 3, "w3"),
                                                 (300, 7, data.EOS)])
def test_generate_prints_what_it_printed_before_streaming(capsys, text_model, length, seed,
                                                          start):
    save, _ = text_model
    status, out, err = _main(capsys, ["generate", "--load", str(save), "--length",
                                      str(length), "--seed", str(seed), "--start", start])
    assert (status, err) == (0, "")
    assert out == _printed_before_streaming(save, length, seed, start)
    if length == 300:
        assert "\n\n" in out or out.count("\n") > 2  # line breaks were exercised


def _spy_on_sampling(monkeypatch, events, stop_after=None):
    """Record each id ``sample`` yields in ``events``; raise KeyboardInterrupt
    (as Ctrl-C does) when the next one is asked for after ``stop_after``."""
    real = commands.sample

    def spy(*args, **kwargs):
        for n, i in enumerate(real(*args, **kwargs)):
            if n == stop_after:
                raise KeyboardInterrupt
            events.append("drawn")
            yield i
    monkeypatch.setattr(commands, "sample", spy)


def test_generate_writes_and_flushes_each_word_as_it_is_drawn(monkeypatch, text_model):
    save, _ = text_model
    events = []

    class Out:
        def write(self, text):
            events.append(("write", text))

        def flush(self):
            events.append("flush")

    _spy_on_sampling(monkeypatch, events)
    monkeypatch.setattr(sys, "stdout", Out())
    assert main(["generate", "--load", str(save), "--length", "50", "--seed", "7"]) == 0
    drawn = [k for k, e in enumerate(events) if e == "drawn"]
    assert len(drawn) == 50
    for k, next_k in zip(drawn, drawn[1:] + [len(events) - 2]):
        # between two draws: the word (or the line break) written, then flushed
        assert [e if e == "flush" else e[0] for e in events[k + 1:next_k]] == ["write", "flush"]
    assert events[-2:] == [("write", "\n"), "flush"]
    text = "".join(e[1] for e in events if isinstance(e, tuple))
    assert text == _printed_before_streaming(save, 50, 7)


@pytest.mark.parametrize("stop_after", [1, 7, 40])
def test_generate_interrupted_keeps_the_words_printed_and_ends_the_line(capsys, monkeypatch,
                                                                        text_model,
                                                                        stop_after):
    save, _ = text_model
    _spy_on_sampling(monkeypatch, [], stop_after=stop_after)
    status, out, err = _main(capsys, ["generate", "--load", str(save), "--length", "1000",
                                      "--seed", "7"])
    assert (status, err) == (130, "fastrnn generate: interrupted\n")
    printed = _printed_before_streaming(save, stop_after, 7)
    # the words drawn, the open line ended (a line ended by <eos> stays as it is)
    assert out == (printed[:-1] if printed.endswith("\n\n") else printed)


def _generate_process(save, *argv):
    return subprocess.Popen([sys.executable, "-m", "fastrnn", "generate", "--load", str(save),
                             *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _first_bytes(proc, n=200, timeout=120):
    """The first ``n`` bytes the process prints, read as they come."""
    got = b""
    deadline = time.monotonic() + timeout
    while len(got) < n:
        ready, _, _ = select.select([proc.stdout], [], [], max(0, deadline - time.monotonic()))
        assert ready, f"nothing printed within {timeout} s: {got!r}"
        chunk = os.read(proc.stdout.fileno(), n - len(got))
        assert chunk, got
        got += chunk
    return got


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_generate_streams_a_huge_length_and_ctrl_c_keeps_what_was_printed(text_model):
    save, _ = text_model
    with _generate_process(save, "--length", "1000000000", "--seed", "7") as proc:
        try:
            first = _first_bytes(proc)  # long before a billion words could be drawn
            proc.send_signal(signal.SIGINT)
            rest, err = proc.communicate(timeout=120)
        finally:
            proc.kill()
    assert proc.returncode == 130
    assert err == b"fastrnn generate: interrupted\n"
    out = (first + rest).decode()
    assert out.endswith("\n")
    tokens = len(out.split()) + out.count("\n")
    normal = _printed_before_streaming(save, tokens, 7)
    assert out[:-1] == normal[:len(out) - 1]


def test_generate_stops_quietly_when_the_reader_leaves(text_model):
    save, _ = text_model
    with _generate_process(save, "--length", "1000000000") as proc:
        try:
            _first_bytes(proc, 20)
            proc.stdout.close()  # as `| head -c 20` does
            err = proc.stderr.read()
            proc.wait(timeout=120)
        finally:
            proc.kill()
    assert proc.returncode == 141 and err == b""


# --- eval --------------------------------------------------------------------

@pytest.mark.parametrize("model", ["simple", "lstm", "better"])
def test_eval_on_the_training_text_equals_fastrnn_lm_perplexity(capsys, tmp_path, model):
    text = chain_text(tmp_path / "train.txt", [f"w{i}" for i in range(20)], 200, 7, seed=1)
    save = tmp_path / "m.npz"
    status, _, err = _main(capsys, ["train", "--model", model, "--corpus", str(text),
                                    *TINY[:-5], *LEARNS[model], "--compare", "1", "--quiet",
                                    "--save", str(save)])
    assert status == 0, err
    status, out, err = _main(capsys, ["eval", "--load", str(save), "--text", str(text),
                                      "--batch-size", "4", "--time-size", "6"])
    assert status == 0 and err == ""
    from fastrnn.lm.model import model_from_meta
    arrays = read_params_file(save)
    vocab = [str(w) for w in arrays["vocab"]]
    m = model_from_meta(checkpoint_meta(str(save), arrays))
    m.load_params(save, vocab=vocab)
    ids, _ = data.Vocabulary.from_words(vocab).encode(data.read_words(text), add_unk=False)
    expected = perplexity(m, ids, 4, 6)
    assert out.startswith(f"perplexity {expected:.3f} over {len(ids):,} tokens")


def test_eval_maps_unknown_words_to_unk_or_refuses(capsys, tmp_path, text_model):
    save, _ = text_model
    other = tmp_path / "other.txt"
    other.write_text("w1 w2 unseen w3 " * 30)
    status, out, err = _main(capsys, ["eval", "--load", str(save), "--text", str(other)])
    assert status == 0 and "30 words not in the vocabulary became <unk>" in out
    ck, _ = _train(capsys, tmp_path, "lstm")  # built-in corpus: no <unk> in training
    vocab = [str(w) for w in np.load(ck)["vocab"]]
    if "<unk>" not in vocab:
        _refused(capsys, ["eval", "--load", str(ck), "--text", str(other)],
                 "which has no <unk>", "'w1'")


@pytest.mark.parametrize("argv, needle", [
    (["--batch-size", "0"], "--batch-size"),
    (["--time-size", "x"], "--time-size"),
    (["--time-size", "5000"], "needs at least 5,001"),
])
def test_eval_refuses_bad_sizes(capsys, text_model, argv, needle):
    save, text = text_model
    _refused(capsys, ["eval", "--load", str(save), "--text", str(text), *argv], needle)


def _bad_checkpoints(tmp_path, good):
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    text = tmp_path / "text.npz"
    text.write_text("not a zip")
    novocab = tmp_path / "novocab.npz"
    arrays = dict(np.load(good))
    np.savez(novocab, **{k: v for k, v in arrays.items() if k != "vocab"})
    badmeta = tmp_path / "badmeta.npz"
    np.savez(badmeta, **{**arrays, "meta": np.array("{\"model\": \"gru\"}")})
    lying = tmp_path / "lying.npz"  # says H=16, holds H=8
    meta = json.loads(str(arrays["meta"][()]))
    np.savez(lying, **{**arrays, "meta": np.array(json.dumps({**meta, "hidden_size": 16}))})
    nan = tmp_path / "nan.npz"  # saved from a diverged model
    np.savez(nan, **{**arrays, "lstm_Wh": np.full_like(arrays["lstm_Wh"], np.nan)})
    newer = tmp_path / "newer.npz"
    np.savez(newer, **{**arrays, "meta": np.array(json.dumps({**meta, "format": 2}))})
    negative = tmp_path / "negative.npz"
    np.savez(negative, **{**arrays, "meta": np.array(json.dumps({**meta, "format": -1}))})
    fifo = tmp_path / "fifo.npz"
    os.mkfifo(fifo)  # opened without blocking and refused from its type
    return {"missing": (tmp_path / "nope.npz", "file does not exist"),
            "FIFO": (fifo, "is a FIFO"),
            "folder": (tmp_path, "is a directory"),
            "empty": (empty, "it is empty"),
            "not npz": (text, "not an .npz file"),
            "no vocabulary": (novocab, "holds no vocabulary"),
            "bad meta": (badmeta, "not a model description"),
            "mismatched": (lying, "has shape"),
            "non-finite": (nan, f"{nan}: its lstm_Wh holds NaN or infinite values"),
            "newer format": (newer, f"{newer} was written by a newer fastrnn (format 2; this "
                                    "one reads up to 1)"),
            "negative format": (negative, "has format -1, not a format number")}


@pytest.mark.parametrize("case", ["missing", "FIFO", "folder", "empty", "not npz", "no vocabulary",
                                  "bad meta", "mismatched", "non-finite", "newer format",
                                  "negative format"])
@pytest.mark.parametrize("command", ["generate", "eval"])
def test_bad_checkpoints_are_refused_in_one_line(capsys, tmp_path, text_model, command,
                                                 case):
    save, text = text_model
    path, needle = _bad_checkpoints(tmp_path, save)[case]
    extra = ["--text", str(text)] if command == "eval" else []
    before = sorted(p.name for p in tmp_path.iterdir())
    err = _refused(capsys, [command, "--load", str(path), *extra], needle)
    assert err.startswith(f"fastrnn {command}: error: --load ")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("case", ["non-finite", "newer format", "negative format"])
def test_train_refuses_to_resume_from_a_checkpoint_it_cannot_trust(capsys, tmp_path,
                                                                    text_model, case):
    """Issue #22, item 5: nothing is trained or written."""
    save, text = text_model
    path, needle = _bad_checkpoints(tmp_path, save)[case]
    out = tmp_path / "out.npz"
    err = _refused(capsys, ["train", "--model", "lstm", "--corpus", str(text), *TINY[:-5],
                            *LEARNS["lstm"], "--quiet", "--load", str(path),
                            "--save", str(out)], needle)
    assert err.startswith(f"fastrnn train: error: --load {path}")
    assert not out.exists()


@pytest.mark.parametrize("kind", ["missing", "fifo", "binary"])
def test_eval_refuses_a_bad_text(capsys, tmp_path, text_model, kind):
    save, _ = text_model
    path = tmp_path / "t.txt"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "binary":
        path.write_bytes(b"abc\x00def")
    _refused(capsys, ["eval", "--load", str(save), "--text", str(path)], "--text")


def test_load_params_refuses_another_kind_in_the_library(tmp_path):
    rnn = SimpleRnnlm(10, 4, 4, rng=np.random.default_rng(0))
    rnn.save_params(tmp_path / "s.npz")
    lstm = Rnnlm(10, 4, 4, rng=np.random.default_rng(0))
    before = [p.copy() for p in lstm.params]
    with pytest.raises(ValueError, match="holds a SimpleRnnlm"):
        lstm.load_params(tmp_path / "s.npz")
    for a, b in zip(lstm.params, before):
        np.testing.assert_array_equal(a, b)
