"""The package's import graph has no cycles (issue #16): not at run time, not for type checks.

The graph comes from grimp (import-linter's library), built from the source, so imports
under ``if TYPE_CHECKING:`` count too: a circle that only the type checker walks is still
two modules that cannot be understood (or moved) one without the other. Break one with a
small protocol or types module, or by moving the shared piece down.
"""

from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp
import pytest

PACKAGE = "micboard_desktop"


def strongly_connected(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Return every import circle: components of more than one module, or a self-import."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, ()):
                    circles.append(sorted(component))
    return circles


def build(package: str) -> grimp.ImportGraph:
    """Return the import graph of ``package``, TYPE_CHECKING imports included."""
    return grimp.build_graph(package, exclude_type_checking_imports=False, cache_dir=None)


def edges_of(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    """Return module -> the modules it imports directly."""
    return {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}


def test_the_cycle_finder_finds_cycles() -> None:
    # Guard against a test that cannot fail.
    edges = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"], "e": ["e"], "f": []}
    assert strongly_connected(edges) == [["a", "b", "c"], ["e"]]


def test_a_type_checking_only_circle_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Built the same way as the real graph: a circle closed only under TYPE_CHECKING is found.
    package = tmp_path / "circle_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from circle_pkg.b import B\n\nclass A(B): ...\n")
    (package / "b.py").write_text(
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
        "    from circle_pkg.a import A\n\nclass B: ...\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    small = build("circle_pkg")
    assert strongly_connected(edges_of(small)) == [["circle_pkg.a", "circle_pkg.b"]]


def test_the_package_import_graph_has_no_cycles() -> None:
    graph = build(PACKAGE)
    assert "micboard_desktop.plugins.api" in graph.modules
    assert strongly_connected(edges_of(graph)) == []
