"""The package installs as the design card lays it out."""

import importlib.metadata
from pathlib import Path

import fastrnn
import fastrnn.kernels


def test_kernels_install_under_fastrnn_not_at_top_level():
    assert Path(fastrnn.kernels.__file__).parent.name == "kernels"
    assert fastrnn.kernels.__name__ == "fastrnn.kernels"
    files = importlib.metadata.files("fastrnn") or []
    assert not any(f.parts[0] == "kernels" for f in files), \
        "the wheel must not install a top-level 'kernels' package"
    top_level = importlib.metadata.distribution("fastrnn").read_text("top_level.txt")
    if top_level is not None:  # absent in editable installs
        assert top_level.split() == ["fastrnn"]


def test_version_matches_the_distribution():
    assert fastrnn.__version__ == importlib.metadata.version("fastrnn")
