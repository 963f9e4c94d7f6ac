"""The package's import graph: arrows only point down the pipeline's stages, and nothing is circular.

Read from the source with ``ast`` (every import, those inside functions included), not by importing:
an import hidden in a function is still an arrow.  The standard library suffices, so the rule costs
no dependency and runs wherever the tests do.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import voiceguide

PACKAGE = Path(voiceguide.__file__).parent

LAYERS = [
    ("base", {"voiceguide.errors", "voiceguide.signals", "voiceguide.progress",
              "voiceguide.stale", "voiceguide.files"}),  # whole-or-nothing files and their stale parts: every layer writes them
    ("log", {"voiceguide.log"}),  # the practice log: plain rows in SQLite, below everything that writes them
    ("script", {"voiceguide.script", "voiceguide.page", "voiceguide.programme"}),  # a page, a programme: read as scripts are
    ("audio", {"voiceguide.audio"}),
    ("voice", {"voiceguide.voice"}),
    ("timeline", {"voiceguide.timeline"}),
    # the three outputs: files, the live player, the phone (which publishes the files it serves)
    ("export", {"voiceguide.export"}),
    ("play", {"voiceguide.play"}),
    ("phone", {"voiceguide.phone"}),
    # publish decides which sessions a site needs made again and runs `serve`: orchestration, so on top
    ("top", {"voiceguide", "voiceguide.session", "voiceguide.publish", "voiceguide.cli", "voiceguide.__main__",
             "voiceguide.practice"}),
]
"""Lowest first.  A module may import its own layer or any layer below it, never one above."""


def module_name(path: Path, root: Path = PACKAGE.parent) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    best, rank = "", -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
                best, rank = prefix, i
    assert rank >= 0, f"{module} belongs to no layer: add it to LAYERS"
    return rank


@functools.cache
def parsed(path: Path) -> ast.Module:
    """``path``'s syntax tree, parsed once for the tests here that walk the package (they only read it)."""
    return ast.parse(path.read_text(encoding="utf-8"))


def imports_of(path: Path, modules: set[str], root: Path = PACKAGE.parent) -> set[str]:
    """The package's own modules that ``path`` imports, anywhere in it."""
    me = module_name(path, root)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found = set()
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import name` imports pkg.name when that is a module, else pkg itself
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        found |= {t for t in targets if t in modules and t != me}
    return found


@functools.cache
def graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): imports_of(p, modules) for p in paths}


def test_every_import_points_down_or_sideways():
    upward = [f"{a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0]})"
              for a, targets in graph().items() for b in sorted(targets) if layer_of(b) > layer_of(a)]
    assert not upward, "imports that point up a layer:\n" + "\n".join(upward)


def test_no_import_circle():
    edges = dict(graph())  # a copy: graph() is made once and shared
    # the package's __init__ re-exports a few names; importing a submodule runs it, but nothing
    # below imports it back, so it is left out as a node that only points down
    edges.pop("voiceguide", None)
    state: dict[str, int] = {}
    circles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                circles.append(" -> ".join(path[path.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_the_rule_sees_a_function_local_import(tmp_path):
    """The checker itself: an import inside a function counts, and points up."""
    fake = tmp_path / "voiceguide" / "script" / "routine.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("def _f():\n    from ..session import prepare\n", encoding="utf-8")
    found = imports_of(fake, {"voiceguide.session", "voiceguide.script.routine"}, root=tmp_path)
    assert found == {"voiceguide.session"}
    assert layer_of("voiceguide.session") > layer_of("voiceguide.script.routine")


def test_no_kind_is_compared_with_a_string_where_an_enum_says_it():
    """``StepKind`` and ``EventKind`` name the kinds of steps and events: code compares with them, so a
    misspelt kind is an AttributeError at once, not a branch that is silently never taken."""
    written = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(parsed(path)):
            if isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute) and node.left.attr == "kind":
                for other in node.comparators:
                    values = other.elts if isinstance(other, (ast.Tuple, ast.List, ast.Set)) else [other]
                    if any(isinstance(v, ast.Constant) and isinstance(v.value, str) for v in values):
                        written.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {ast.unparse(node)}")
    assert not written, "kinds compared with strings:\n" + "\n".join(written)
