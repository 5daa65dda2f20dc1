"""Layers point down: a module of ``mdptheory`` imports only from its own layer or the ones
before it, in the order of ``mdptheory.LAYERS`` (stated in ``mdptheory/__init__.py``).

The check parses every module's ``import`` statements (top level and inside functions, so
lazy imports count too) with :mod:`ast`; nothing is imported to run it."""

from __future__ import annotations

import ast
import pathlib

import pytest

import mdptheory

PKG = pathlib.Path(mdptheory.__file__).resolve().parent
MODULES = sorted(p for p in PKG.rglob("*.py") if p.relative_to(PKG).parts != ("__init__.py",))


def imported_modules(source: str, package: str) -> list[tuple[int, str]]:
    """``(line, absolute module name)`` of every import in ``source`` (a module of ``package``)."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
            if mod == "mdptheory":        # ``from mdptheory import envs`` names a layer
                out += [(node.lineno, f"mdptheory.{a.name}") for a in node.names]
    return out


def upward_imports(source: str, layer: str, package: str) -> list[str]:
    """The imports of a module in ``layer`` that reach a layer above it."""
    rank = {name: i for i, name in enumerate(mdptheory.LAYERS)}
    bad = []
    for line, mod in imported_modules(source, package):
        parts = mod.split(".")
        if parts[0] != "mdptheory" or len(parts) < 2 or parts[1] == layer:
            continue
        if parts[1] in rank and rank[parts[1]] > rank[layer]:
            bad.append(f"line {line}: {mod} (layer {parts[1]!r} is above {layer!r})")
    return bad


def _where(path: pathlib.Path) -> tuple[str, str]:
    rel = path.relative_to(PKG)
    return rel.parts[0].removesuffix(".py"), ".".join(("mdptheory",) + rel.parent.parts)


def test_layer_list_covers_every_subpackage():
    layers = {_where(p)[0] for p in MODULES}
    assert layers <= set(mdptheory.LAYERS), layers - set(mdptheory.LAYERS)


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PKG)) for p in MODULES])
def test_module_imports_point_down(path):
    layer, package = _where(path)
    bad = upward_imports(path.read_text(), layer, package)
    assert not bad, f"{path.relative_to(PKG)}: " + "; ".join(bad)


@pytest.mark.parametrize("source", [
    "def f():\n    from mdptheory.plots import style\n",       # lazy, absolute
    "from ..sweeps import store\n",                             # relative
    "from mdptheory import regret\n",                           # a layer named as an attribute
    "import mdptheory.cli\n",
])
def test_checker_catches_an_upward_import(source):
    assert upward_imports(source, "learners", "mdptheory.learners")


def test_checker_allows_downward_and_sibling_imports():
    src = "from mdptheory.core import EpisodicMDP\nfrom .base import Learner\nimport numpy\n"
    assert upward_imports(src, "learners", "mdptheory.learners") == []
