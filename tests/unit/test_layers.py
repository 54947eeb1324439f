"""The package's parts depend on each other one way only: the path data takes (appservice →
ingest → store → live; api → outbox → matrix) never loops back, so each part can be read, and
changed, knowing only what it imports."""

from __future__ import annotations

import ast
from collections import defaultdict
import os

import crm_appservice

PACKAGE = os.path.dirname(crm_appservice.__file__)


def _part(module: str) -> str | None:
    """The first-level part of a dotted module of the package (``store``, ``config``)."""
    names = module.split(".")
    return names[1] if names[0] == "crm_appservice" and len(names) > 1 else None


def _is_module(part: str) -> bool:
    return os.path.isdir(os.path.join(PACKAGE, part)) or os.path.isfile(
        os.path.join(PACKAGE, part + ".py")
    )


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node but those under ``if TYPE_CHECKING:``: a name imported for the type checker
    only (keys.py's) is no dependency at run time."""
    found: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            todo.extend(node.orelse)
            continue
        found.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return found


def _imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, os.path.dirname(PACKAGE))[:-3].replace(os.sep, ".")
            module = rel.removesuffix(".__init__")
            package = module if name == "__init__.py" else module.rpartition(".")[0]
            source = _part(module) or module
            with open(path) as f:
                tree = ast.parse(f.read())
            for node in _runtime_nodes(tree):
                targets: list[str] = []
                if isinstance(node, ast.ImportFrom):
                    base = node.module or ""
                    if node.level:
                        parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                        base = ".".join([*parent, base] if base else parent)
                    targets = [base] + [f"{base}.{a.name}" for a in node.names]
                elif isinstance(node, ast.Import):
                    targets = [a.name for a in node.names]
                for target in targets:
                    part = _part(target)
                    if part and part != source and _is_module(part):
                        graph[source].add(part)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_parts_import_each_other_without_a_loop() -> None:
    graph = _imports()
    assert "store" in graph and "api" in graph, "the walk found the package's parts"
    assert _cycle(graph) is None, " → ".join(_cycle(graph) or [])


def test_the_path_of_data_points_one_way() -> None:
    graph = _imports()
    assert "api" not in graph["live"], "the live hub is given a renderer, it never imports api"
    assert not {"api", "live", "appservice", "outbox"} & graph["store"]
    assert not {"store", "api", "live"} & graph["ingest"]
    assert "testbed" not in {p for deps in graph.values() for p in deps}
