"""The package installs as the design card lays it out."""

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import fastrnn
import fastrnn_kernels

ROOT = Path(__file__).resolve().parent.parent


def test_kernels_install_under_their_own_import_name():
    # kernels/ installs as fastrnn_kernels: no top-level "kernels" (a PyPI
    # package has that name) and no fastrnn.kernels (the source tree's
    # fastrnn/ folder would shadow it when run from the repository root).
    assert Path(fastrnn_kernels.__file__).parent.name in ("kernels", "fastrnn_kernels")
    dist = importlib.metadata.distribution("fastrnn")
    record = dist.read_text("RECORD") or ""  # what pip installed (None: a source egg-info)
    assert not any(line.startswith("kernels/") for line in record.splitlines()), \
        "the wheel must not install a top-level 'kernels' package"
    top_level = dist.read_text("top_level.txt")
    if top_level is not None:  # absent in editable installs
        assert sorted(top_level.split()) == ["fastrnn", "fastrnn_kernels"]


def test_the_source_tree_imports_from_the_repository_root():
    # python -c / python -m put the current folder first on sys.path, so the
    # repository's own fastrnn/ is imported: it must find its kernels.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", "import fastrnn, fastrnn.lm; print(fastrnn.__file__)"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()).resolve().is_relative_to(ROOT / "fastrnn")


def test_version_matches_the_distribution():
    assert fastrnn.__version__ == importlib.metadata.version("fastrnn")
