"""The package installs as the design card lays it out."""

import importlib.metadata
from pathlib import Path

import fastrnn
import fastrnn.kernels


def test_kernels_install_under_fastrnn_not_at_top_level():
    assert Path(fastrnn.kernels.__file__).parent.name == "kernels"
    assert fastrnn.kernels.__name__ == "fastrnn.kernels"
    dist = importlib.metadata.distribution("fastrnn")
    record = dist.read_text("RECORD") or ""  # what pip installed (None: a source egg-info)
    assert not any(line.startswith("kernels/") for line in record.splitlines()), \
        "the wheel must not install a top-level 'kernels' package"
    top_level = dist.read_text("top_level.txt")
    if top_level is not None:  # absent in editable installs
        assert top_level.split() == ["fastrnn"]


def test_version_matches_the_distribution():
    assert fastrnn.__version__ == importlib.metadata.version("fastrnn")
