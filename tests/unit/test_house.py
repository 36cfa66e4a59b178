"""The house holds: imports in regelwerk run one way, form no circle, and take no other module's private names.

The import graph is read with ``ast`` from the source, function-local imports included, so an import
hidden inside a function counts like any other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "core" / "regelwerk"

# Bottom to top. A module may import modules of its own stage and of stages below it, never above.
STAGES = ("", "model", "engine", "documents", "store", "delivery", "ingest", "actions", "api")


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, str | None, int]]:
    """(module imported, name taken from it or None, line) for every import of a regelwerk module."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(a.name, None, node.lineno) for a in node.names if a.name.split(".")[0] == "regelwerk"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "regelwerk":
                continue
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                found.append((sub, None, node.lineno) if sub in MODULES else (module, alias.name, node.lineno))
    return found


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in STAGES) else ""


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def test_the_stages_are_the_packages():
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(STAGES) - {""}


def test_every_stage_says_what_it_is_for_and_what_it_may_import():
    for stage in STAGES[1:]:
        doc = ast.get_docstring(ast.parse((PACKAGE / stage / "__init__.py").read_text()))
        assert doc and "May import" in doc, stage


def test_imports_go_down_or_sideways_never_up():
    upward = []
    for name, imports in GRAPH.items():
        mine = STAGES.index(_stage(name))
        for target, _, line in imports:
            if STAGES.index(_stage(target)) > mine:
                upward.append(f"{MODULES[name].relative_to(PACKAGE.parent)}:{line} imports {target}")
    assert not upward, "\n".join(upward)


def test_no_import_circle():
    edges = {name: sorted({t for t, _, _ in imports if t in MODULES and t != name}) for name, imports in GRAPH.items()}
    # a package's __init__ is imported with any of its modules: an edge to "a.b.c" implies "a.b"
    for name, targets in edges.items():
        for t in list(targets):
            parent = t.rsplit(".", 1)[0]
            if parent in MODULES and parent not in targets and parent != name:
                targets.append(parent)
    state: dict[str, int] = {}
    path: list[str] = []
    circles = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in edges.get(node, []):
            if state.get(nxt) == 1:
                circles.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert not circles, "\n".join(circles)


def test_no_module_takes_another_modules_private_names():
    taken = [
        f"{MODULES[name].relative_to(PACKAGE.parent)}:{line} takes {target}.{what}"
        for name, imports in GRAPH.items()
        for target, what, line in imports
        if what and what.startswith("_") and not what.startswith("__")
    ]
    assert not taken, "\n".join(taken)


@pytest.mark.parametrize("stage", STAGES[1:])
def test_the_stage_imports_on_its_own(stage):
    """Each stage imports without anything above it having been imported first."""
    import subprocess
    import sys

    code = f"import sys, regelwerk.{stage}; import importlib, pkgutil\n" + (
        f"for m in pkgutil.walk_packages(regelwerk.{stage}.__path__, 'regelwerk.{stage}.'): "
        "importlib.import_module(m.name)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
