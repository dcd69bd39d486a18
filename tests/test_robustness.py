"""Robustness: read-only installs, NUMBA_DISABLE_JIT, concurrent cold compiles,
very long sequences, Ctrl-C during ``fastrnn train --save``, damaged
parameter files.

Most tests run a fresh Python in a subprocess (cache locations, environment
variables and signals are per process). A child prints its result as one
``RESULT {json}`` line and, where arrays are compared, saves them to an
``.npz`` that this process checks against ``fastrnn.reference``.

Several tests here found defects that are now fixed: import failing with no
writable cache folder, Ctrl-C during a checkpoint's rename crashing with a
traceback, checkpoints saved with mode 0600, and damaged files escaping as
other exceptions than ParamsFileError.
"""

from __future__ import annotations

import gc
import io
import json
import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

import fastrnn
import fastrnn_kernels
from fastrnn import reference
from fastrnn.lm import data
from fastrnn.lm import markov
from fastrnn.lm.model import ParamsFileError, SimpleRnnlm
from fastrnn.lm.train import TrainConfig, Trainer, make_model
from conftest import assert_close, make_params


# Environment variables that would change where a child caches, whether it
# compiles at all, or what it prints; each test sets what it needs.
# NUMBA_CACHE_DIR and NUMBA_BOUNDSCHECK are inherited unless a test says
# otherwise (a run with bounds checking uses its own cache: see .ci/run).
_CACHE_VARS = ("NUMBA_DISABLE_JIT", "NUMBA_DEBUG_CACHE", "NUMBA_NRT_STATS", "XDG_CACHE_HOME",
               "NUMBA_CACHE_LOCATOR_CLASSES")
# A cold compile takes about 5 s per process on our 2-core machines (more
# with NUMBA_BOUNDSCHECK=1 and 4 processes at once): generous, never hit.
CHILD_TIMEOUT = 240


def _child_env(**updates: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _CACHE_VARS}
    for k, v in updates.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def _run_python(code: str, *args: str, env: dict[str, str], cwd: Path,
                warnings_as_errors: bool = True) -> subprocess.CompletedProcess:
    """Run ``python -c code args`` to completion; it must exit with status 0."""
    flags = ["-W", "error"] if warnings_as_errors else []
    proc = subprocess.run([sys.executable, *flags, "-c", code, *args], env=env,
                          cwd=cwd, capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    assert proc.returncode == 0, (f"child failed with status {proc.returncode}:\n"
                                  f"{proc.stderr[-4000:]}")
    return proc


def _result(stdout: str) -> dict:
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1, f"expected one RESULT line in:\n{stdout[-4000:]}"
    return json.loads(lines[0][len("RESULT "):])


def _cache_log(stdout: str, what: str) -> list[str]:
    """Paths of NUMBA_DEBUG_CACHE lines such as "[cache] index saved to '...'"."""
    marker = f"[cache] {what} to '" if what.endswith("saved") else f"[cache] {what} from '"
    return [line[len(marker):-1] for line in stdout.splitlines() if line.startswith(marker)]


# Shared by the children: cache statistics of every fastrnn kernel that ran.
_CHILD_STATS = r'''
def _cache_stats():
    import sys
    from numba.core.dispatcher import Dispatcher
    seen, hits, misses = set(), 0, 0
    for name, mod in list(sys.modules.items()):
        if not name.startswith("fastrnn_kernels."):
            continue
        for obj in vars(mod).values():
            if isinstance(obj, Dispatcher) and id(obj) not in seen:
                seen.add(id(obj))
                hits += sum(obj.stats.cache_hits.values())
                misses += sum(obj.stats.cache_misses.values())
    return {"hits": hits, "misses": misses}
'''

# TimeRNN forward + backward in float64 on fixed random data, outputs saved
# for comparison with the reference in the parent.
_CHILD_TIMERNN = _CHILD_STATS + r'''
import json, sys
import numpy as np
import fastrnn, fastrnn_kernels.rnn
from fastrnn import TimeRNN

rng = np.random.default_rng(3)
N, T, D, H = 3, 17, 5, 6
Wx = rng.standard_normal((D, H)) / np.sqrt(D)
Wh = 0.5 * rng.standard_normal((H, H)) / np.sqrt(H)
b = 0.1 * rng.standard_normal(H)
xs = rng.standard_normal((N, T, D))
dhs = rng.standard_normal((N, T, H))
layer = TimeRNN(Wx, Wh, b)
hs = layer.forward(xs)
dxs = layer.backward(dhs)
np.savez(sys.argv[1], Wx=Wx, Wh=Wh, b=b, xs=xs, dhs=dhs, hs=hs, dxs=dxs, dh=layer.dh,
         dWx=layer.grads[0], dWh=layer.grads[1], db=layer.grads[2])
print("RESULT " + json.dumps({"fastrnn": fastrnn.__file__,
                              "kernels": fastrnn_kernels.rnn.__file__, **_cache_stats()}))
'''


def _check_timernn_outputs(path: Path) -> None:
    f = dict(np.load(path))
    ref = reference.TimeRNN(f["Wx"], f["Wh"], f["b"])
    assert_close(f["hs"], ref.forward(f["xs"]), "hs")
    assert_close(f["dxs"], ref.backward(f["dhs"]), "dxs")
    assert_close(f["dh"], ref.dh, "dh")
    for name, expected in zip(["dWx", "dWh", "db"], ref.grads):
        assert_close(f[name], expected, name)


# --- 1. A read-only install ------------------------------------------------


def _installed_tree(site: Path) -> None:
    """Copy the installed packages to ``site`` as pip lays them out
    (``kernels/`` becomes ``fastrnn_kernels``), without any cache."""
    pkg = Path(fastrnn.__file__).parent
    kernels = Path(fastrnn_kernels.__file__).parent

    def ignore(folder: str, names: list[str]) -> list[str]:
        skip = [n for n in names if n == "__pycache__" or n.endswith((".nbi", ".nbc"))]
        return skip

    shutil.copytree(pkg, site / "fastrnn", ignore=ignore)
    shutil.copytree(kernels, site / "fastrnn_kernels", ignore=ignore)


def _make_read_only(site: Path) -> list[Path]:
    """Make the tree read-only, for root too; return its folders.

    Root ignores permission bits, and Numba decides whether it can cache
    next to the source by trying: ``os.makedirs(<folder>/__pycache__)`` and
    a temporary file in it (``numba.core.caching._CacheLocator.
    ensure_cache_path``); any OSError sends it to the next locator. A
    regular file named ``__pycache__`` makes that fail for every user, as a
    read-only mount would.
    """
    folders = [site] + [p for p in site.rglob("*") if p.is_dir()]
    for folder in folders:
        if folder != site:
            (folder / "__pycache__").write_bytes(b"")
    for p in site.rglob("*"):
        if p.is_file():
            p.chmod(0o444)
    for folder in folders:
        folder.chmod(0o555)
    return folders


@pytest.fixture
def read_only_install(tmp_path):
    """A read-only copy of the package in ``tmp_path/site``, a working folder
    outside the repository, and write permission restored afterwards."""
    site = tmp_path / "site"
    _installed_tree(site)
    folders = _make_read_only(site)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    yield site, cwd
    for folder in folders:
        folder.chmod(0o755)


def _no_cache_files_in(tree: Path) -> None:
    found = [p for p in tree.rglob("*") if p.suffix in (".nbi", ".nbc")]
    assert not found, f"cache files written into the read-only tree: {found}"


def test_read_only_install_falls_back_to_the_user_cache(read_only_install, tmp_path):
    """No NUMBA_CACHE_DIR: the kernels are cached under $HOME/.cache/numba
    (Numba's UserWideCacheLocator, appdirs' user cache folder), and a second
    process loads them from there."""
    site, cwd = read_only_install
    home = tmp_path / "home"
    home.mkdir()
    env = _child_env(HOME=str(home), PYTHONPATH=str(site), NUMBA_DEBUG_CACHE="1",
                     NUMBA_CACHE_DIR=None)
    out = tmp_path / "out.npz"

    first = _run_python(_CHILD_TIMERNN, str(out), env=env, cwd=cwd)
    res = _result(first.stdout)
    assert Path(res["fastrnn"]).is_relative_to(site), res
    assert Path(res["kernels"]).is_relative_to(site / "fastrnn_kernels"), res
    _check_timernn_outputs(out)
    assert res["misses"] > 0 and res["hits"] == 0, res  # a cold compile

    user_cache = home / ".cache" / "numba"
    saved = _cache_log(first.stdout, "index saved") + _cache_log(first.stdout, "data saved")
    assert saved, first.stdout
    assert all(Path(p).is_relative_to(user_cache) for p in saved), saved
    index_files = sorted(p.name for p in user_cache.glob("fastrnn_kernels_*/*.nbi"))
    for kernel in ("forward_steps", "backward_steps", "sum_rows"):
        assert any(f".{kernel}-" in name for name in index_files), index_files
    _no_cache_files_in(site)

    second = _run_python(_CHILD_TIMERNN, str(out), env=env, cwd=cwd)
    res = _result(second.stdout)
    assert res["misses"] == 0 and res["hits"] > 0, res
    assert not _cache_log(second.stdout, "index saved"), second.stdout
    loaded = _cache_log(second.stdout, "data loaded")
    assert loaded and all(Path(p).is_relative_to(user_cache) for p in loaded), loaded
    _check_timernn_outputs(out)


def test_read_only_install_uses_numba_cache_dir_when_set(read_only_install, tmp_path):
    site, cwd = read_only_install
    home = tmp_path / "home"
    home.mkdir()
    cache_dir = tmp_path / "numba-cache"
    env = _child_env(HOME=str(home), PYTHONPATH=str(site), NUMBA_DEBUG_CACHE="1",
                     NUMBA_CACHE_DIR=str(cache_dir))
    out = tmp_path / "out.npz"

    proc = _run_python(_CHILD_TIMERNN, str(out), env=env, cwd=cwd)
    res = _result(proc.stdout)
    assert Path(res["fastrnn"]).is_relative_to(site), res
    _check_timernn_outputs(out)
    saved = _cache_log(proc.stdout, "index saved")
    assert saved and all(Path(p).is_relative_to(cache_dir) for p in saved), saved
    assert sorted(cache_dir.glob("fastrnn_kernels_*/*forward_steps*.nbi")), list(cache_dir.rglob("*"))
    assert not (home / ".cache").exists()
    _no_cache_files_in(site)


def test_import_works_when_no_cache_location_is_writable(read_only_install, tmp_path):
    site, cwd = read_only_install
    not_a_folder = tmp_path / "home-is-a-file"
    not_a_folder.write_bytes(b"")  # makedirs($HOME/.cache/numba) fails, for root too
    env = _child_env(HOME=str(not_a_folder), PYTHONPATH=str(site), NUMBA_CACHE_DIR=None)
    out = tmp_path / "out.npz"
    # Not -W error: saying once that nothing will be cached is fine.
    proc = _run_python(_CHILD_TIMERNN, str(out), env=env, cwd=cwd, warnings_as_errors=False)
    assert _result(proc.stdout)["hits"] == 0
    _check_timernn_outputs(out)


# --- 2. NUMBA_DISABLE_JIT=1: the kernels as plain Python ----------------------

_CHILD_NO_JIT = r'''
import sys
import numba
import numpy as np
from numba.core.dispatcher import Dispatcher
import fastrnn_kernels.lm, fastrnn_kernels.rnn
from fastrnn import RNN, TimeRNN
from fastrnn.lm.layers import TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss

assert numba.config.DISABLE_JIT
for f in (fastrnn_kernels.rnn.forward_steps, fastrnn_kernels.rnn.forward_step,
          fastrnn_kernels.rnn.forward_steps_one_row, fastrnn_kernels.lm.softmax_cross_entropy):
    assert not isinstance(f, Dispatcher), f  # really plain Python

rng = np.random.default_rng(11)
out = {}
# "one_row": the time loop and its product inside the kernels; "small": the
# time loop inside the kernels; "large": N*H*H = 320,000 > 262,144, the time
# loop in Python around the per-step kernels.
for tag, (N, T, D, H) in {"one_row": (1, 4, 3, 11), "small": (2, 4, 3, 5),
                          "large": (2, 3, 3, 400)}.items():
    Wx = rng.standard_normal((D, H)) / np.sqrt(D)
    Wh = 0.9 * rng.standard_normal((H, H)) / np.sqrt(H)
    b = 0.1 * rng.standard_normal(H)
    xs = rng.standard_normal((N, T, D))
    dhs = rng.standard_normal((N, T, H))
    layer = TimeRNN(Wx, Wh, b)
    hs = layer.forward(xs)
    dxs = layer.backward(dhs)
    out.update({f"{tag}_{k}": v for k, v in dict(
        Wx=Wx, Wh=Wh, b=b, xs=xs, dhs=dhs, hs=hs, dxs=dxs, dh=layer.dh,
        dWx=layer.grads[0], dWh=layer.grads[1], db=layer.grads[2]).items()})

# One RNN step.
Wx, Wh, b = out["small_Wx"], out["small_Wh"], out["small_b"]
x, h_prev, dh_next = rng.standard_normal((2, 3)), rng.standard_normal((2, 5)), rng.standard_normal((2, 5))
cell = RNN(Wx, Wh, b)
h_next = cell.forward(x, h_prev)
dx, dh_prev = cell.backward(dh_next)
out.update(rnn_x=x, rnn_h_prev=h_prev, rnn_dh_next=dh_next, rnn_h_next=h_next,
           rnn_dx=dx, rnn_dh_prev=dh_prev, rnn_dWx=cell.grads[0], rnn_dWh=cell.grads[1],
           rnn_db=cell.grads[2])

# The language model's layers, float64: embedding (repeated ids) -> TimeRNN
# -> affine -> softmax with loss (some targets ignored).
V, D, H, N, T = 11, 4, 5, 2, 6
emb_W = rng.standard_normal((V, D))
rnn_Wx = rng.standard_normal((D, H)) / np.sqrt(D)
rnn_Wh = 0.9 * rng.standard_normal((H, H)) / np.sqrt(H)
rnn_b = 0.1 * rng.standard_normal(H)
aff_W = rng.standard_normal((H, V)) / np.sqrt(H)
aff_b = 0.1 * rng.standard_normal(V)
ids = rng.integers(0, V, (N, T)); ids[0, :3] = 2
ts = rng.integers(0, V, (N, T)); ts[1, 2] = -1
layers = [TimeEmbedding(emb_W), TimeRNN(rnn_Wx, rnn_Wh, rnn_b, stateful=True),
          TimeAffine(aff_W, aff_b)]
loss_layer = TimeSoftmaxWithLoss()
h = ids
for layer in layers:
    h = layer.forward(h)
loss = loss_layer.forward(h, ts)
dout = loss_layer.backward()
out["lm_dscores"] = dout
for layer in reversed(layers):
    dout = layer.backward(dout)
out.update(lm_emb_W=emb_W, lm_rnn_Wx=rnn_Wx, lm_rnn_Wh=rnn_Wh, lm_rnn_b=rnn_b,
           lm_aff_W=aff_W, lm_aff_b=aff_b, lm_ids=ids, lm_ts=ts, lm_loss=np.float64(loss),
           lm_d_emb_W=layers[0].grads[0], lm_d_rnn_Wx=layers[1].grads[0],
           lm_d_rnn_Wh=layers[1].grads[1], lm_d_rnn_b=layers[1].grads[2],
           lm_d_aff_W=layers[2].grads[0], lm_d_aff_b=layers[2].grads[1])
np.savez(sys.argv[1], **out)
print("RESULT {}")
'''


def _assert_within_1e10(actual, expected, name):
    expected = np.asarray(expected)
    assert actual.shape == expected.shape and actual.dtype == np.float64, name
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    err = float(np.max(np.abs(actual - expected), initial=0.0))
    assert err <= 1e-10 * scale, f"{name}: max error {err:.3g} > 1e-10 * {scale:.3g}"


def test_disable_jit_runs_the_kernels_as_python_and_matches_the_reference(tmp_path):
    out = tmp_path / "out.npz"
    _run_python(_CHILD_NO_JIT, str(out), env=_child_env(NUMBA_DISABLE_JIT="1"), cwd=tmp_path)
    f = dict(np.load(out))

    for tag in ("one_row", "small", "large"):
        g = {k[len(tag) + 1:]: v for k, v in f.items() if k.startswith(tag + "_")}
        ref = reference.TimeRNN(g["Wx"], g["Wh"], g["b"])
        _assert_within_1e10(g["hs"], ref.forward(g["xs"]), f"{tag} hs")
        _assert_within_1e10(g["dxs"], ref.backward(g["dhs"]), f"{tag} dxs")
        _assert_within_1e10(g["dh"], ref.dh, f"{tag} dh")
        for name, expected in zip(["dWx", "dWh", "db"], ref.grads):
            _assert_within_1e10(g[name], expected, f"{tag} {name}")
    assert f["large_Wh"].shape[0] ** 2 * f["large_xs"].shape[0] > 4 * 65536  # the other path

    cell = reference.RNN(f["small_Wx"], f["small_Wh"], f["small_b"])
    _assert_within_1e10(f["rnn_h_next"], cell.forward(f["rnn_x"], f["rnn_h_prev"]), "RNN h_next")
    dx, dh_prev = cell.backward(f["rnn_dh_next"])
    _assert_within_1e10(f["rnn_dx"], dx, "RNN dx")
    _assert_within_1e10(f["rnn_dh_prev"], dh_prev, "RNN dh_prev")
    for name, expected in zip(["dWx", "dWh", "db"], cell.grads):
        _assert_within_1e10(f[f"rnn_{name}"], expected, f"RNN {name}")

    layers = [reference.TimeEmbedding(f["lm_emb_W"]),
              reference.TimeRNN(f["lm_rnn_Wx"], f["lm_rnn_Wh"], f["lm_rnn_b"], stateful=True),
              reference.TimeAffine(f["lm_aff_W"], f["lm_aff_b"])]
    loss_layer = reference.TimeSoftmaxWithLoss()
    h = f["lm_ids"]
    for layer in layers:
        h = layer.forward(h)
    loss = loss_layer.forward(h, f["lm_ts"])
    _assert_within_1e10(f["lm_loss"], np.float64(loss), "LM loss")
    dout = loss_layer.backward()
    _assert_within_1e10(f["lm_dscores"], dout, "LM dscores")
    for layer in reversed(layers):
        dout = layer.backward(dout)
    for name, layer, i in [("d_emb_W", 0, 0), ("d_rnn_Wx", 1, 0), ("d_rnn_Wh", 1, 1),
                           ("d_rnn_b", 1, 2), ("d_aff_W", 2, 0), ("d_aff_b", 2, 1)]:
        _assert_within_1e10(f[f"lm_{name}"], layers[layer].grads[i], f"LM {name}")


# --- 3. Several processes compiling into one empty cache at once -------------

_CHILD_CONCURRENT = _CHILD_STATS + r'''
import hashlib, json, os, sys, time
import numpy as np
import numba  # the slow imports happen before the start line

ready, go, order, out = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4]
open(ready, "w").close()
deadline = time.monotonic() + 120
while not os.path.exists(go):
    assert time.monotonic() < deadline, "no start signal"
    time.sleep(0.001)

from fastrnn import TimeRNN

checksums, arrays = {}, {}
for dtype in order:
    rng = np.random.default_rng(5)
    N, T, D, H = 3, 40, 6, 7
    Wx = (rng.standard_normal((D, H)) / np.sqrt(D)).astype(dtype)
    Wh = (0.9 * rng.standard_normal((H, H)) / np.sqrt(H)).astype(dtype)
    b = (0.1 * rng.standard_normal(H)).astype(dtype)
    xs = rng.standard_normal((N, T, D)).astype(dtype)
    dhs = rng.standard_normal((N, T, H)).astype(dtype)
    layer = TimeRNN(Wx, Wh, b)
    hs = layer.forward(xs)
    dxs = layer.backward(dhs)
    results = dict(hs=hs, dxs=dxs, dh=layer.dh, dWx=layer.grads[0], dWh=layer.grads[1],
                   db=layer.grads[2])
    digest = hashlib.sha256()
    for name in sorted(results):
        digest.update(np.ascontiguousarray(results[name]).tobytes())
    checksums[dtype] = digest.hexdigest()
    arrays.update({f"{dtype}_{k}": v for k, v in dict(Wx=Wx, Wh=Wh, b=b, xs=xs, dhs=dhs,
                                                      **results).items()})
np.savez(out, **arrays)
print("RESULT " + json.dumps({"checksums": checksums, **_cache_stats()}))
'''


def test_concurrent_cold_compiles_into_one_cache_then_a_warm_start(tmp_path):
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    env = _child_env(NUMBA_CACHE_DIR=str(cache_dir))
    go = tmp_path / "go"
    # Half compile float32 first, half float64 first: they write the same
    # index files in different orders.
    orders = ["float32,float64", "float64,float32", "float32,float64", "float64,float32"]
    procs = []
    try:
        for i, order in enumerate(orders):
            procs.append(subprocess.Popen(
                [sys.executable, "-W", "error", "-c", _CHILD_CONCURRENT, str(tmp_path / f"ready{i}"),
                 str(go), order, str(tmp_path / f"out{i}.npz")],
                env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        deadline = time.monotonic() + CHILD_TIMEOUT
        while not all((tmp_path / f"ready{i}").exists() for i in range(len(orders))):
            assert all(p.poll() is None for p in procs), "a worker died before the start"
            assert time.monotonic() < deadline, "workers did not get ready"
            time.sleep(0.01)
        go.touch()  # all four import fastrnn and compile from here, at once
        results = []
        for p in procs:
            stdout, stderr = p.communicate(timeout=CHILD_TIMEOUT)
            assert p.returncode == 0, f"worker failed ({p.returncode}):\n{stderr[-4000:]}"
            results.append(_result(stdout))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()

    assert sum(r["misses"] for r in results) > 0, results  # somebody compiled
    for r in results[1:]:
        assert r["checksums"] == results[0]["checksums"], results
    leftovers = [p.name for p in cache_dir.rglob("*") if ".tmp." in p.name]
    assert not leftovers, leftovers

    # A fifth process, afterwards: everything comes from the cache.
    warm = _run_python(_CHILD_CONCURRENT, str(tmp_path / "ready5"), str(go),
                       "float32,float64", str(tmp_path / "out5.npz"),
                       env={**env, "NUMBA_DEBUG_CACHE": "1"}, cwd=tmp_path)
    res = _result(warm.stdout)
    assert res["checksums"] == results[0]["checksums"]
    assert res["misses"] == 0 and res["hits"] >= 6, res  # 3 kernels x 2 dtypes
    assert not _cache_log(warm.stdout, "data saved"), warm.stdout
    loaded = _cache_log(warm.stdout, "data loaded")
    assert len(loaded) == res["hits"] and all(
        Path(p).is_relative_to(cache_dir) for p in loaded), loaded

    # And the results are right (float64 against the reference, float32 by
    # the error-against-exact criterion of docs/api.md).
    f = dict(np.load(tmp_path / "out5.npz"))
    for dtype in ("float32", "float64"):
        g = {k[len(dtype) + 1:]: v for k, v in f.items() if k.startswith(dtype + "_")}
        ref = reference.TimeRNN(g["Wx"], g["Wh"], g["b"])
        exact = reference.TimeRNN(*(g[k].astype(np.float64) for k in ("Wx", "Wh", "b")))
        hs_ref, hs_exact = ref.forward(g["xs"]), exact.forward(g["xs"].astype(np.float64))
        dxs_ref = ref.backward(g["dhs"])
        dxs_exact = exact.backward(g["dhs"].astype(np.float64))
        scale = max(np.abs(a).max() for a in (hs_exact, dxs_exact, *exact.grads))
        assert_close(g["hs"], hs_ref, f"{dtype} hs", exact=hs_exact, scale=scale)
        assert_close(g["dxs"], dxs_ref, f"{dtype} dxs", exact=dxs_exact, scale=scale)
        for name, r, e in zip(["dWx", "dWh", "db"], ref.grads, exact.grads):
            assert_close(g[name], r, f"{dtype} {name}", exact=e, scale=scale)


# --- 4. Long sequences and long training runs: time and memory are linear ----


def _traced_peak(fn) -> tuple[int, object]:
    """Peak bytes numpy (and Python) allocate while ``fn`` runs, and its result.

    Numba's own allocations (NRT) are not traced: see the NRT test below.
    """
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        gc.collect()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        if started:
            tracemalloc.stop()
    return peak, result


def _long_sequence(T, N=1, D=8, H=8, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    Wx, Wh, b = make_params(rng, D, H, dtype, contractive=True)
    xs = rng.standard_normal((N, T, D)).astype(dtype)
    dhs = rng.standard_normal((N, T, H)).astype(dtype)
    return (Wx, Wh, b), xs, dhs


def _exact_check(actual_hs, actual_dxs, params, xs, dhs, h0, name):
    """Compare a window of a long run with the reference started from ``h0``."""
    ref = reference.TimeRNN(*params, stateful=True)
    exact = reference.TimeRNN(*(p.astype(np.float64) for p in params), stateful=True)
    ref.set_state(h0)
    exact.set_state(h0.astype(np.float64))
    hs_ref, hs_exact = ref.forward(xs), exact.forward(xs.astype(np.float64))
    dxs_ref, dxs_exact = ref.backward(dhs), exact.backward(dhs.astype(np.float64))
    scale = max(np.abs(hs_exact).max(), np.abs(dxs_exact).max())
    assert_close(actual_hs, hs_ref, f"{name} hs", exact=hs_exact, scale=scale)
    if actual_dxs is not None:
        assert_close(actual_dxs, dxs_ref, f"{name} dxs", exact=dxs_exact, scale=scale)


def test_a_100k_step_sequence_is_right_and_takes_linear_memory():
    """N=1, T=100,000, D=H=8, float32.

    Memory: forward must create hs (N, T, H), its output and the cache for
    backward; backward must create dxs (N, T, D), its output, and holds one
    (N, T, H) intermediate, dts (the gradient before tanh at every step,
    which the weight gradients sum as matrix products over all steps). So
    the arrays that must exist at once take N*T*(2H + D)*itemsize bytes
    (9.6 MB here; measured peak: exactly that). The bound allows 20% more
    plus 256 KiB: one extra full-length copy of hs or xs (a third more)
    fails it. It is far inside the looser 8 * T * (D + H) * itemsize.
    """
    T, N, D, H, item = 100_000, 1, 8, 8, 4
    params, xs, dhs = _long_sequence(T, N, D, H)
    layer = fastrnn.TimeRNN(*params)
    layer.forward(xs[:, :5])
    layer.backward(dhs[:, :5])  # compile or load outside the measurement

    def fwd_bwd(layer=layer, xs=xs, dhs=dhs):
        hs = layer.forward(xs)
        return hs, layer.backward(dhs)

    peak, (hs, dxs) = _traced_peak(fwd_bwd)
    required = N * T * (2 * H + D) * item
    assert peak <= 1.2 * required + 256 * 1024, (peak, required)
    assert peak <= 8 * T * (D + H) * item + 2**20

    # Linear in T: the same at a tenth of the length.
    small_params, small_xs, small_dhs = _long_sequence(T // 10, N, D, H)
    small = fastrnn.TimeRNN(*small_params)
    small_peak, _ = _traced_peak(lambda: (small.forward(small_xs), small.backward(small_dhs)))
    assert peak <= 12 * small_peak, (peak, small_peak)

    # Right at the start (from zeros) ...
    K = 200
    zeros = np.zeros((N, H), np.float32)
    _exact_check(hs[:, :K], None, params, xs[:, :K], dhs[:, :K], zeros, "first 200 steps")
    # ... and at the end, 100,000 steps on: forward from fastrnn's own state at
    # step T-K-1, backward from the end (where the gradient chain starts).
    _exact_check(hs[:, -K:], dxs[:, -K:], params, xs[:, -K:], dhs[:, -K:],
                 hs[:, -K - 1].copy(), "last 200 steps")
    for g in [dxs, layer.dh, *layer.grads]:
        assert np.isfinite(g).all()
    # The weight gradients, from the hidden states: db is the sum of dts over
    # all steps, dts = (dhs + dh_next) * (1 - hs^2). Check db in float64 by
    # running the gradient chain backwards with numpy.
    wh = params[1].astype(np.float64)
    dh = np.zeros((N, H))
    db = np.zeros(H)
    hs64, dhs64 = hs.astype(np.float64), dhs.astype(np.float64)
    for t in range(T - 1, -1, -1):
        dt = (dhs64[:, t] + dh) * (1 - hs64[:, t] ** 2)
        db += dt.sum(axis=0)
        dh = dt @ wh.T
    assert_close(layer.grads[2], db.astype(np.float32), "db over 100,000 steps",
                 exact=db, scale=np.abs(db).max())


_CHILD_NRT = r'''
import json
import numpy as np
from numba.core.runtime import rtsys
from fastrnn import TimeRNN

def nrt_allocations(N, T, D, H):
    rng = np.random.default_rng(0)
    layer = TimeRNN((rng.standard_normal((D, H)) / np.sqrt(D)).astype("f"),
                    (0.5 * rng.standard_normal((H, H)) / np.sqrt(H)).astype("f"),
                    np.zeros(H, "f"))
    xs = rng.standard_normal((N, T, D)).astype("f")
    dhs = rng.standard_normal((N, T, H)).astype("f")
    layer.forward(xs[:, :2]); layer.backward(dhs[:, :2])  # compile or load
    before = rtsys.get_allocation_stats()
    layer.forward(xs); layer.backward(dhs)
    after = rtsys.get_allocation_stats()
    return {"alloc": after.alloc - before.alloc, "free": after.free - before.free}

print("RESULT " + json.dumps({"short": nrt_allocations(1, 1_000, 8, 8),
                              "long": nrt_allocations(1, 100_000, 8, 8),
                              "short_blas": nrt_allocations(2, 1_000, 8, 8),
                              "long_blas": nrt_allocations(2, 100_000, 8, 8),
                              "numpy_loop": nrt_allocations(2, 50, 3, 400)}))
'''


def test_the_kernels_allocate_nothing_per_step_and_free_what_they_allocate(tmp_path):
    """What tracemalloc cannot see: Numba's runtime (NRT) allocations, counted
    with NUMBA_NRT_STATS=1. The fused time loops (one-row at N = 1, with
    BLAS at N = 2) allocate the same at T=1,000 and T=100,000; every
    allocation is freed."""
    proc = _run_python(_CHILD_NRT, env=_child_env(NUMBA_NRT_STATS="1"), cwd=tmp_path)
    res = _result(proc.stdout)
    assert res["short"]["alloc"] == res["long"]["alloc"], res
    assert res["short_blas"]["alloc"] == res["long_blas"]["alloc"], res
    for case in res.values():
        assert case["alloc"] == case["free"], res


def test_training_on_a_200k_token_corpus_does_not_grow_memory():
    corpus, _ = markov.builtin_corpus(train_tokens=200_000, valid_tokens=1_000, test_tokens=1_000)
    # 700 tokens per iteration: 285 iterations per epoch, so the 300 below
    # also wrap around into the second epoch.
    cfg = TrainConfig(batch_size=20, time_size=35, wordvec_size=64, hidden_size=64)
    trainer = Trainer(make_model(cfg, len(corpus.vocab)), corpus.train, cfg)
    assert trainer.batcher.iters_per_epoch < 300
    trainer.step()
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        current, losses = {}, []
        for i in range(1, 301):
            losses.append(trainer.step())
            if i in (50, 300):
                gc.collect()
                current[i] = tracemalloc.get_traced_memory()[0]
    finally:
        if started:
            tracemalloc.stop()
    # Measured: a few hundred bytes. A leak of 1 KB per iteration would show.
    assert abs(current[300] - current[50]) < 256 * 1024, current
    assert np.isfinite(losses).all()
    assert np.mean(losses[-50:]) < np.mean(losses[:50])  # it does learn


# --- 5. Ctrl-C during `fastrnn train --save` ----------------------------------

_TRAIN = "import sys; from fastrnn.cli import main; sys.exit(main(sys.argv[1:]))"
_TRAIN_ARGS = ["train", "--corpus-size", "20000", "--epochs", "50", "--wordvec", "16",
               "--hidden", "16", "--quiet", "--save"]
_INTERRUPTED = "fastrnn train: interrupted; the last complete checkpoint is F.npz\n"


def _check_checkpoint(folder: Path) -> None:
    """F.npz loads into a model of the run's configuration; no temp file is left."""
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["F.npz"], names
    with np.load(folder / "F.npz") as f:
        vocab = [str(w) for w in f["vocab"]]
    model = SimpleRnnlm(len(vocab), 16, 16, rng=np.random.default_rng(1))
    before = [p.copy() for p in model.params]
    model.load_params(folder / "F.npz", vocab=vocab)
    assert any(not np.array_equal(a, b) for a, b in zip(model.params, before))


def _start_training(folder: Path, env: dict[str, str], code: str = _TRAIN) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *_TRAIN_ARGS, "F.npz"], cwd=folder,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(path: Path, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + CHILD_TIMEOUT
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"training ended ({proc.returncode}) before saving: "
                                 f"{proc.stderr.read()[-4000:]}")
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.002)


@pytest.mark.parametrize("delay", [0.0, 0.045, 0.11, 0.23])
def test_ctrl_c_during_training_keeps_a_loadable_checkpoint(tmp_path, delay):
    """SIGINT at various moments after the first checkpoint (an epoch takes
    about 0.16 s here: these fall in different phases of the next epoch)."""
    proc = _start_training(tmp_path, _child_env())
    try:
        _wait_for(tmp_path / "F.npz", proc)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (proc.returncode, stderr) == (130, _INTERRUPTED), stderr[-4000:]
    _check_checkpoint(tmp_path)


def test_ctrl_c_as_a_checkpoint_is_renamed_into_place(tmp_path):
    # A real SIGINT, delivered while the second checkpoint's rename runs: the
    # handler raises as soon as os.replace returns, as it would for a signal
    # arriving during the system call.
    code = (
        "import os, signal, sys\n"
        "real, saves = os.replace, []\n"
        "def replace(src, dst):\n"
        "    real(src, dst)\n"
        "    saves.append(dst)\n"
        "    if len(saves) == 2:\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "os.replace = replace\n" + _TRAIN)
    proc = _start_training(tmp_path, _child_env(), code)
    stdout, stderr = proc.communicate(timeout=CHILD_TIMEOUT)
    assert (proc.returncode, stderr) == (130, _INTERRUPTED), stderr[-4000:]
    _check_checkpoint(tmp_path)


def test_a_checkpoint_gets_the_usual_file_mode(tmp_path):
    model = SimpleRnnlm(5, 3, 3, rng=np.random.default_rng(0))
    model.save_params(tmp_path / "m.npz")
    np.savez(tmp_path / "plain.npz", a=np.zeros(1))
    assert (stat.S_IMODE((tmp_path / "m.npz").stat().st_mode)
            == stat.S_IMODE((tmp_path / "plain.npz").stat().st_mode))


# --- 6. Damaged parameter files -----------------------------------------------


def _npz(arrays: dict, compressed: bool = False) -> bytes:
    b = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(b, **arrays)
    return b.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        for name, content in members.items():
            z.writestr(name, content)
    return b.getvalue()


def _patched_central_directory(good: bytes, offset: int, value: int) -> bytes:
    """``good`` with the 2-byte field at ``offset`` of its first central
    directory entry set to ``value``."""
    c = bytearray(good)
    struct.pack_into("<H", c, good.find(b"PK\x01\x02") + offset, value)
    return bytes(c)


def _corrupt_deflate_stream(named: dict) -> bytes:
    c = bytearray(_npz(named, compressed=True))
    name_len, extra_len = struct.unpack_from("<HH", c, 26)  # the first local header
    c[30 + name_len + extra_len] ^= 0xFF  # the first byte of compressed data
    return bytes(c)


def _damaged_files(model: SimpleRnnlm) -> dict:
    """name -> (file content, a phrase the error message must hold)."""
    named = dict(zip(model.names, model.params))
    good = _npz(named)
    missing = {k: v for k, v in named.items() if k != "rnn_b"}
    wrong_dtype = {**named, "rnn_Wh": named["rnn_Wh"].astype(np.float64)}
    wrong_shape = {**named, "affine_b": np.zeros(3, np.float32)}
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0xFF  # inside a member's data: its CRC no longer fits
    return {
        "truncated": (good[:len(good) // 2], "cannot read"),
        "truncated-by-a-byte": (good[:-1], "cannot read"),
        "empty": (b"", "cannot read"),
        "zip-but-not-npz": (_zip({"readme.txt": b"hello"}), "readme.txt"),
        "missing-param": (_npz(missing), "rnn_b"),
        "wrong-dtype": (_npz(wrong_dtype), "rnn_Wh has shape (4, 4) and dtype float64"),
        "wrong-shape": (_npz(wrong_shape), "affine_b has shape (3,)"),
        "object-array": (_npz({**named, "rnn_b": np.array([None], object)}), "cannot read"),
        "bad-crc": (bytes(flipped), "cannot read"),
    }


# Files that used to escape as something other than ParamsFileError (through
# `fastrnn train --load`: a traceback and status 1, not one line and 2), with
# what they raised before load_params checked the zip signature and caught
# every reading error.
_ESCAPED_BEFORE_THE_FIX = {
    "zip-of-non-npy-members": "NpzFile returns the raw bytes of a member that is not "
                              "an .npy: AttributeError ('bytes' has no 'shape')",
    "npy-not-npz": "np.load returns an ndarray for .npy content, which is not a "
                   "context manager: TypeError",
    "corrupt-deflate-stream": "zlib.error is not caught",
    "needs-newer-unzip": "zipfile's NotImplementedError is not caught",
    "unknown-compression": "zipfile's NotImplementedError is not caught",
    "encrypted-member": "zipfile's RuntimeError is not caught",
    "random-bytes": "random bytes are refused as 'pickled (object) data', with numpy's "
                    "advice to load them unsafely with allow_pickle",
}


def _damaged_files_that_escaped(model: SimpleRnnlm) -> dict:
    named = dict(zip(model.names, model.params))
    good = _npz(named)
    npy = io.BytesIO()
    np.save(npy, named["rnn_b"])
    return {
        "zip-of-non-npy-members": (_zip({n + ".npy": b"not npy" for n in named}), "embed_W"),
        "npy-not-npz": (npy.getvalue(), "cannot read"),
        "corrupt-deflate-stream": (_corrupt_deflate_stream(named), "cannot read"),
        "needs-newer-unzip": (_patched_central_directory(good, 6, 255), "cannot read"),
        "unknown-compression": (_patched_central_directory(good, 10, 99), "cannot read"),
        "encrypted-member": (_patched_central_directory(good, 8, 1), "cannot read"),
        "random-bytes": (np.random.default_rng(0).bytes(4096), "not an .npz"),
    }


def _model():
    return SimpleRnnlm(7, 3, 4, rng=np.random.default_rng(0))


def _check_refused(tmp_path, content: bytes, phrase: str) -> None:
    model = _model()
    before = [p.copy() for p in model.params]
    path = tmp_path / "damaged.npz"
    path.write_bytes(content)
    with pytest.raises(ParamsFileError) as info:
        model.load_params(path)
    message = str(info.value)
    assert str(path) in message and phrase in message, message
    # Never the advice to unpickle a file that is not what it should be.
    assert "unsafely" not in message and "If you trust" not in message, message
    for p, b in zip(model.params, before):
        np.testing.assert_array_equal(p, b)


@pytest.mark.parametrize("case", sorted(_damaged_files(_model())))
def test_a_damaged_parameter_file_is_refused_and_changes_nothing(tmp_path, case):
    content, phrase = _damaged_files(_model())[case]
    _check_refused(tmp_path, content, phrase)


@pytest.mark.parametrize("case", sorted(_ESCAPED_BEFORE_THE_FIX))
def test_other_damaged_parameter_files_are_refused_and_change_nothing(tmp_path, case):
    content, phrase = _damaged_files_that_escaped(_model())[case]
    _check_refused(tmp_path, content, phrase)


def test_damaged_files_never_load_wrong_values(tmp_path):
    """Flip every byte of a saved file in turn: each load either fails (with
    any exception: see the known bugs above) or gives exactly the saved
    values; never different numbers."""
    model = SimpleRnnlm(3, 2, 2, rng=np.random.default_rng(0))
    saved = [p.copy() for p in model.params]
    path = tmp_path / "m.npz"
    model.save_params(path)
    good = path.read_bytes()
    target = SimpleRnnlm(3, 2, 2, rng=np.random.default_rng(1))
    initial = [p.copy() for p in target.params]
    for i in range(len(good)):
        c = bytearray(good)
        c[i] ^= 0xFF
        path.write_bytes(bytes(c))
        try:
            target.load_params(path)
        except ParamsFileError:
            expected = initial
        else:
            expected = saved
        for p, e in zip(target.params, expected):
            assert np.array_equal(p, e), f"byte {i} flipped: wrong values loaded"
        for p, e in zip(target.params, initial):
            p[...] = e
