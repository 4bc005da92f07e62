"""The import graph of health_deep, read from the source (imports inside functions count: an
import put off until call time is still a circle in the design): no module imports itself
back through others, and the checks never import the serving layer above them."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "health_deep"
SERVING = {"health_deep.views", "health_deep.probe_cache", "health_deep.fleet"}
CHECKS = (
    "health_deep.history",
    "health_deep.schema",
    "health_deep.smoke",
    "health_deep.tenants",
    "health_deep.rollout",
    "health_deep.backends",
    "health_deep.runner",
)


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The health_deep modules ``name`` imports anywhere in its source. The top package
    itself is left out: it only holds ``__version__`` and lazy public aliases."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found |= {
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            }
    return {m for m in found if m in known and m not in (name, "health_deep")}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each set of two or more modules that import one another round (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            part = []
            while True:
                top = stack.pop()
                part.append(top)
                if top == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, set(known)) for name, path in known.items()}


def test_circles_are_found_where_there_are_some() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_back() -> None:
    assert circles(graph()) == []


def test_the_checks_never_import_the_serving_layer() -> None:
    wrong = {
        (name, target)
        for name, targets in graph().items()
        if name.startswith(CHECKS)
        for target in targets & SERVING
    }

    assert wrong == set()
