"""``fastrnn.patch`` and ``fastrnn run`` on chapter 8's attention layers, and
on a script that would run the book on the GPU (fastrnn is numpy-only).

The tests build a book-shaped tree of their own: ``common/`` (``config.py``
with ``GPU``, ``np.py`` that binds ``np`` from it, ``time_layers.py``) and
``ch08/`` (``attention_layer.py``, a model, scripts). The book's classes
there are subclasses of fastrnn's numpy reference defined in those modules
(so they are not fastrnn's own and have the book's constructors).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types

import numpy as np
import pytest

import fastrnn
from fastrnn import attention_layer, reference, registry
from fastrnn.book import book_of, is_book_layer

ATTENTION = registry.patched_names("attention_layer")

CONFIG = "GPU = {gpu}\n"
# The book's common/np.py binds np to cupy when GPU is true; this one binds
# a stand-in module named cupy, so that the tests need no GPU.
NP = """
from common.config import GPU
if GPU:
    import types
    np = types.ModuleType("cupy")
else:
    import numpy as np
"""
TIME_LAYERS = """
from common.np import *
from fastrnn import reference as _reference
class TimeLSTM(_reference.TimeLSTM):
    pass
class TimeEmbedding(_reference.TimeEmbedding):
    pass
class TimeAffine(_reference.TimeAffine):
    pass
class TimeSoftmaxWithLoss(_reference.TimeSoftmaxWithLoss):
    pass
"""
ATTENTION_LAYER = """
import sys
sys.path.append('..')
from common.np import *
from fastrnn.reference import attention as _reference
class WeightSum(_reference.WeightSum):
    pass
class AttentionWeight(_reference.AttentionWeight):
    pass
class Attention(_reference.Attention):
    pass
class TimeAttention(_reference.TimeAttention):
    pass
"""
# A chapter-8-style encoder-decoder with attention, written for these tests:
# the decoder's output is the attention's context next to its own states.
MODEL = """
import sys
sys.path.append('..')
from common.time_layers import *
from ch08.attention_layer import TimeAttention


def _weights(*shape):
    return (np.random.randn(*shape) / np.sqrt(shape[0])).astype('f')


class AttentionNet:
    def __init__(self, V, D, H):
        self.enc_embed = TimeEmbedding((np.random.randn(V, D) / 100).astype('f'))
        self.enc_lstm = TimeLSTM(_weights(D, 4 * H), _weights(H, 4 * H),
                                 np.zeros(4 * H, dtype='f'), stateful=False)
        self.dec_embed = TimeEmbedding((np.random.randn(V, D) / 100).astype('f'))
        self.dec_lstm = TimeLSTM(_weights(D, 4 * H), _weights(H, 4 * H),
                                 np.zeros(4 * H, dtype='f'), stateful=True)
        self.attention = TimeAttention()
        self.affine = TimeAffine(_weights(2 * H, V), np.zeros(V, dtype='f'))
        self.loss = TimeSoftmaxWithLoss()
        layers = [self.enc_embed, self.enc_lstm, self.dec_embed, self.dec_lstm,
                  self.attention, self.affine]
        self.params = [p for layer in layers for p in layer.params]
        self.grads = [g for layer in layers for g in layer.grads]

    def forward(self, xs, ts):
        hs_enc = self.enc_lstm.forward(self.enc_embed.forward(xs))
        self.dec_lstm.set_state(hs_enc[:, -1])
        hs_dec = self.dec_lstm.forward(self.dec_embed.forward(ts[:, :-1]))
        context = self.attention.forward(hs_enc, hs_dec)
        score = self.affine.forward(np.concatenate((context, hs_dec), axis=2))
        return self.loss.forward(score, ts[:, 1:])

    def backward(self):
        dout = self.affine.backward(self.loss.backward())
        H = dout.shape[2] // 2
        dhs_enc, dhs_dec = self.attention.backward(dout[:, :, :H])
        self.dec_embed.backward(self.dec_lstm.backward(dhs_dec + dout[:, :, H:]))
        dhs_enc[:, -1] += self.dec_lstm.dh
        self.enc_embed.backward(self.enc_lstm.backward(dhs_enc))
"""
TRAIN = """
import json
import numpy as np
from attention_seq2seq import AttentionNet

np.random.seed(0)
V, D, H, N, Te, Td = 13, 8, 16, 4, 7, 5
model = AttentionNet(V, D, H)
xs = np.random.randint(0, V, (N, Te))
ts = np.random.randint(0, V, (N, Td + 1))
losses = []
for step in range(3):
    losses.append(float(model.forward(xs, ts)))
    model.backward()
    for p, g in zip(model.params, model.grads):
        p -= 0.5 * g
print(json.dumps({
    "losses": losses,
    "grads": [g.ravel().tolist() for g in model.grads],
    "weights": [a.tolist() for a in model.attention.attention_weights],
    "dtypes": sorted({str(g.dtype) for g in model.grads}),
    "classes": [type(layer).__module__ for layer in (model.enc_lstm, model.attention,
                                                     model.affine, model.loss)],
}))
"""
BOTH_WAYS = """
import json, sys
sys.path.append('..')
import attention_layer
import ch08.attention_layer
print(json.dumps({name: [getattr(m, n).__module__ for n in ("WeightSum", "AttentionWeight",
                                                            "Attention", "TimeAttention")]
                  for name, m in (("bare", attention_layer),
                                  ("dotted", ch08.attention_layer))}))
"""


@pytest.fixture
def tree(tmp_path):
    """A book-shaped tree; returns its ch08 folder (scripts run from there)."""
    common = tmp_path / "common"
    common.mkdir()
    (common / "__init__.py").write_text("")
    (common / "config.py").write_text(CONFIG.format(gpu=False))
    (common / "np.py").write_text(NP)
    (common / "time_layers.py").write_text(TIME_LAYERS)
    ch08 = tmp_path / "ch08"  # no __init__.py: reached as a namespace package, as the book's
    ch08.mkdir()
    (ch08 / "attention_layer.py").write_text(ATTENTION_LAYER)
    (ch08 / "attention_seq2seq.py").write_text(MODEL)
    (ch08 / "train.py").write_text(TRAIN)
    (ch08 / "both_ways.py").write_text(BOTH_WAYS)
    return ch08


def _run(cwd, *argv):
    return subprocess.run([sys.executable, *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def _fastrnn_run(cwd, *argv):
    return _run(cwd, "-m", "fastrnn", "run", *argv)


BOOK_TIME_LAYERS = "TimeLSTM, TimeEmbedding, TimeAffine, TimeSoftmaxWithLoss"
BOOK_ATTENTION = "WeightSum, AttentionWeight, Attention, TimeAttention"


def test_run_swaps_time_attention_with_the_same_results(tree):
    under_python = _run(tree, "train.py")
    under_fastrnn = _fastrnn_run(tree, "train.py")
    assert under_python.returncode == 0, under_python.stderr
    assert under_fastrnn.returncode == 0, under_fastrnn.stderr
    plain, fast = json.loads(under_python.stdout), json.loads(under_fastrnn.stdout)
    assert plain["classes"] == ["common.time_layers", "ch08.attention_layer",
                                "common.time_layers", "common.time_layers"]
    assert fast["classes"] == ["fastrnn.layers.lstm", "fastrnn.layers.attention",
                               "fastrnn.layers.lm", "fastrnn.layers.lm"]
    assert plain["dtypes"] == fast["dtypes"] == ["float32"]
    # float32 throughout, three training steps: the float32 tolerance
    np.testing.assert_allclose(fast["losses"], plain["losses"], rtol=1e-4)
    assert len(fast["weights"]) == len(plain["weights"]) == 5  # one (N, Te) per decoder step
    np.testing.assert_allclose(fast["weights"], plain["weights"], rtol=1e-4, atol=1e-6)
    assert len(fast["grads"]) == len(plain["grads"])
    for got, want in zip(fast["grads"], plain["grads"]):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5 * max(map(abs, want)))
    assert under_fastrnn.stderr == (
        f"fastrnn: replaced {BOOK_TIME_LAYERS} in common.time_layers\n"
        f"fastrnn: replaced {BOOK_ATTENTION} in ch08.attention_layer\n")


def test_run_patches_attention_layer_reached_either_way(tree):
    under_python = _run(tree, "both_ways.py")
    under_fastrnn = _fastrnn_run(tree, "both_ways.py")
    assert under_python.returncode == under_fastrnn.returncode == 0, under_fastrnn.stderr
    # two module objects of the same file, each patched
    assert json.loads(under_python.stdout) == {"bare": ["attention_layer"] * 4,
                                               "dotted": ["ch08.attention_layer"] * 4}
    assert json.loads(under_fastrnn.stdout) == {"bare": ["fastrnn.layers.attention"] * 4,
                                                "dotted": ["fastrnn.layers.attention"] * 4}
    assert under_fastrnn.stderr == (f"fastrnn: replaced {BOOK_ATTENTION} in attention_layer\n"
                                    f"fastrnn: replaced {BOOK_ATTENTION} in ch08.attention_layer\n")


def test_run_leaves_fastrnns_own_and_other_modules_alone(tree):
    # fastrnn's facade is never patched; modules of other names are not looked
    # at; an attention_layer with other classes under the book's names is
    # reported, not changed.
    (tree / "attention_layers.py").write_text(ATTENTION_LAYER)
    other = tree / "other"
    other.mkdir()
    (other / "__init__.py").write_text("")
    (other / "attention_layer.py").write_text(
        "class Attention:\n    def __init__(self, dim):\n        pass\n"
        "class TimeAttention:\n    pass\n")
    (tree / "others.py").write_text(
        "import fastrnn.attention_layer, attention_layers, other.attention_layer\n"
        "print(fastrnn.attention_layer.TimeAttention.__module__,\n"
        "      attention_layers.TimeAttention.__module__,\n"
        "      other.attention_layer.Attention.__module__,\n"
        "      other.attention_layer.TimeAttention.__module__)\n")
    out = _fastrnn_run(tree, "others.py")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["fastrnn.layers.attention", "attention_layers",
                                  "other.attention_layer", "other.attention_layer"]
    assert out.stderr == ("fastrnn: replaced nothing in other.attention_layer, skipped "
                          "Attention, TimeAttention (not the book's classes)\n")


# A script that would run the book on the GPU: stopped at the import that shows
# it, in one line, status 2, before any of its work (here, writing out.txt).
GPU_SCRIPT = """
print("before the imports")
{setup}
from attention_seq2seq import AttentionNet
print("after the imports")
open("out.txt", "w").write("written")
"""
GPU_LINE = ("fastrnn run: error: fastrnn is numpy-only, but common.config.GPU is True (the "
            "book then binds np to cupy): set GPU = False in common/config.py (and take out "
            "any config.GPU = True in the script)\n")


def _files(root):
    """Every file and folder under ``root`` (python's __pycache__ aside), with its content."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in dirs + files:
            path = os.path.join(folder, name)
            if os.path.isdir(path):
                found[path] = None
            else:
                with open(path, "rb") as f:
                    found[path] = f.read()
    return found


@pytest.mark.parametrize("how", ["config.py", "config.py, cupy", "the script"])
def test_run_stops_a_script_that_runs_the_book_on_the_gpu(tree, how):
    setup = ""
    if how == "the script":  # the book's scripts switch on the GPU this way
        setup = "import sys\nsys.path.append('..')\nfrom common import config\nconfig.GPU = True"
    else:
        (tree.parent / "common" / "config.py").write_text(CONFIG.format(gpu=True))
    if how == "config.py, cupy":  # the book's own np.py: cupy is never looked for
        (tree.parent / "common" / "np.py").write_text(
            "from common.config import GPU\nif GPU:\n    import cupy as np\n"
            "else:\n    import numpy as np\n")
    (tree / "gpu.py").write_text(GPU_SCRIPT.format(setup=setup))
    before = _files(tree.parent)
    out = _fastrnn_run(tree, "gpu.py")
    assert (out.returncode, out.stdout, out.stderr) == (2, "before the imports\n", GPU_LINE)
    assert _files(tree.parent) == before  # nothing of the tree written


def test_run_stops_a_module_whose_np_is_not_numpy(tree):
    # GPU left False, but the layers' module binds np to something else
    (tree.parent / "common" / "time_layers.py").write_text(
        TIME_LAYERS + "import types\nnp = types.ModuleType('cupy')\n")
    (tree / "gpu.py").write_text(GPU_SCRIPT.format(setup=""))
    before = _files(tree.parent)
    out = _fastrnn_run(tree, "gpu.py")
    assert (out.returncode, out.stdout) == (2, "before the imports\n")
    assert out.stderr == ("fastrnn run: error: fastrnn is numpy-only, but common.time_layers "
                          "binds np to cupy, not numpy: set GPU = False in common/config.py "
                          "(and take out any config.GPU = True in the script)\n")
    assert _files(tree.parent) == before


# patch() on modules built here


def _module(name, **values):
    module = types.ModuleType(name)
    for key, value in values.items():
        setattr(module, key, value)
    return module


def _book_classes():
    """Book-shaped attention classes: defined here, each with __init__(self)."""
    classes = {}
    for name in ATTENTION:
        def __init__(self):
            self.params, self.grads = [], []
        classes[name] = type(name, (), {"__init__": __init__, "__module__": "attention_layer"})
    return classes


class BookTimeLSTM:
    def __init__(self, Wx, Wh, b, stateful=False):
        pass


@pytest.mark.parametrize("name", ["attention_layer", "ch08.attention_layer", "layers"])
def test_patch_swaps_the_books_attention_layers(name):
    module = _module(name, np=np, **_book_classes())
    assert fastrnn.patch(module) == ATTENTION
    for layer in ATTENTION:
        assert getattr(module, layer) is getattr(attention_layer, layer)
    assert module.np is np
    assert fastrnn.patch(module) == ATTENTION  # twice: nothing more


def test_patch_looks_for_the_layers_of_the_module_it_is_named_after():
    books = _book_classes()
    # a module named after attention_layer: its layers only
    module = _module("ch08.attention_layer", TimeLSTM=BookTimeLSTM, **books)
    assert fastrnn.patch(module) == ATTENTION and module.TimeLSTM is BookTimeLSTM
    # a module named after time_layers: its layers only
    module = _module("common.time_layers", TimeLSTM=BookTimeLSTM, **books)
    assert fastrnn.patch(module) == ["TimeLSTM"]
    assert all(getattr(module, layer) is cls for layer, cls in books.items())
    # a module of another name: both
    module = _module("my_layers", TimeLSTM=BookTimeLSTM, **books)
    assert fastrnn.patch(module) == ["TimeLSTM", *ATTENTION]
    with pytest.raises(ValueError, match=r"^patch: attention_layer holds none of the book's "
                       r"layers \(looked for WeightSum, AttentionWeight, Attention, "
                       r"TimeAttention\); nothing was changed$"):
        fastrnn.patch(_module("attention_layer", TimeLSTM=BookTimeLSTM))


@pytest.mark.parametrize("stand_in", [types.ModuleType("cupy"), object()],
                         ids=["cupy", "object"])
@pytest.mark.parametrize("name", ["attention_layer", "common.time_layers"])
def test_patch_refuses_a_module_whose_np_is_not_numpy(name, stand_in):
    module = _module(name, np=stand_in, TimeLSTM=BookTimeLSTM, **_book_classes())
    before = dict(vars(module))
    what = "cupy" if isinstance(stand_in, types.ModuleType) else "a builtins.object"
    with pytest.raises(ValueError) as e:
        fastrnn.patch(module)
    assert str(e.value) == (
        f"patch: {name} binds np to {what}, not numpy (the book's GPU = True); fastrnn is "
        "numpy-only: set GPU = False in common/config.py (and take out any config.GPU = "
        "True in the script); nothing was changed")
    assert vars(module) == before


@pytest.mark.parametrize("module", ["fastrnn.attention_layer", "fastrnn.reference.attention",
                                    "fastrnn.layers.attention"])
def test_patch_refuses_fastrnns_own_attention_modules(module):
    import importlib
    module = importlib.import_module(module)
    before = dict(vars(module))
    with pytest.raises(ValueError, match="is fastrnn's own module"):
        fastrnn.patch(module)
    assert vars(module) == before


@pytest.mark.parametrize("name", ATTENTION)
def test_the_books_attention_classes_are_those_with_no_constructor_parameters(name):
    ours = getattr(attention_layer, name)
    assert is_book_layer(_book_classes()[name], ours)
    # a subclass defined outside fastrnn inherits the reference's __init__(self)
    assert is_book_layer(type(name, (getattr(reference, name),), {"__module__": "x"}), ours)
    assert not is_book_layer(getattr(reference, name), ours)  # fastrnn's own
    assert not is_book_layer(ours, ours)
    # no constructor of its own: not the book's, whose classes define __init__(self)
    assert not is_book_layer(type(name, (), {"__module__": "x"}), ours)
    with_dim = type(name, (), {"__init__": lambda self, dim: None, "__module__": "x"})
    assert not is_book_layer(with_dim, ours)
    star = type(name, (), {"__init__": lambda self, *a, **k: None, "__module__": "x"})
    assert not is_book_layer(star, ours)
    # a time layer's constructor is not an attention layer's, nor the reverse
    assert not is_book_layer(BookTimeLSTM, ours)
    assert not is_book_layer(_book_classes()[name], fastrnn.TimeLSTM)


@pytest.mark.parametrize("name, book", [
    ("common.time_layers", "time_layers"), ("time_layers", "time_layers"),
    ("attention_layer", "attention_layer"), ("ch08.attention_layer", "attention_layer"),
    ("fastrnn.time_layers", None), ("fastrnn.attention_layer", None),
    ("attention_layers", None), ("my_attention_layer", None), ("attention_layer.x", None),
    ("common", None), ("", None), (None, None),
])
def test_the_hook_patches_modules_named_after_the_books(name, book):
    assert book_of(name) == book


def test_the_hooks_book_modules_come_from_the_registry():
    assert registry.book_modules() == ["time_layers", "attention_layer"]
    assert registry.book_modules() == list(dict.fromkeys(
        e.book for e in registry.LAYERS if e.book is not None))
