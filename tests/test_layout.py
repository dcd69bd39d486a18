"""The package's layout rules (docs/design.md, "Layout"), read from the source.

The command line depends on the library and never the reverse; no module
imports one that imports it back; a module over 400 lines says why it is
one module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = {"fastrnn": ROOT / "fastrnn", "fastrnn_kernels": ROOT / "kernels"}
LONG = 400
WHY = "Why one module:"


def _modules() -> dict[str, Path]:
    found = {}
    for package, folder in SOURCES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, module_level: bool) -> set[str]:
    """The fastrnn modules ``name`` imports (at its top level only, or anywhere)."""
    path = MODULES[name]
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    nodes = tree.body if module_level else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        # A module's own packages are imported before it: no edge to them.
        found |= {t for t in targets if t in MODULES and t != name
                  and not name.startswith(t + ".")}
    return found


def test_the_library_never_imports_the_command_line():
    app = ("fastrnn.cli", "fastrnn.__main__")
    for name in MODULES:
        if name.startswith(app):
            continue
        reached = {m for m in _imports(name, module_level=False) if m.startswith("fastrnn.cli")}
        assert not reached, f"{name} imports {reached}"


def test_no_import_cycles():
    graph = {name: _imports(name, module_level=True) for name in MODULES}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for other in sorted(graph[name]):
            if state.get(other) == 1:
                cycle = path[path.index(other):] + [name, other]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if other not in state:
                visit(other, path + [name])
        state[name] = 2

    for name in MODULES:
        if name not in state:
            visit(name, [])


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_long_module_says_why_it_is_one(name):
    path = MODULES[name]
    source = path.read_text()
    if source.count("\n") <= LONG:
        return
    doc = ast.get_docstring(ast.parse(source)) or ""
    assert WHY in doc, f"{path.relative_to(ROOT)} is over {LONG} lines: say why in its docstring"
