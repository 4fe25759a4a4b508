"""The project's import graph has no cycle, counting the imports inside functions.

A cycle hidden in a function-local import still ties the modules together: neither can be
read, tested or moved without the other, and the order of imports at start decides whether
the gateway comes up. The graph is computed from the source (an AST walk of gateway/, audit/
and adapters/), so it also sees imports no test happens to execute. Only imports under
``if TYPE_CHECKING:`` are left out: they never run, so they cannot decide an import order,
and mypy reads mutually referring types without trouble.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("gateway", "audit", "adapters")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # alembic loads revisions by file, never by import
            modules[module_name(path)] = path
    return modules


def _imported(node: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, str | None]]:
    """(module, name imported from it or None) for one import statement."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name, None
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, base] if base else package)
        for alias in node.names:
            yield base, alias.name


def _type_checking_only(tree: ast.Module) -> set[int]:
    """The ids of the nodes inside ``if TYPE_CHECKING:`` blocks."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for statement in node.body:
                hidden.update(id(inner) for inner in ast.walk(statement))
    return hidden


def import_graph() -> dict[str, set[str]]:
    """Every project module and the project modules it imports (at any depth of the code)."""
    modules = project_modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        hidden = _type_checking_only(tree)
        for node in ast.walk(tree):
            if id(node) in hidden:
                continue
            for target, member in _imported(node, name, is_package):
                submodule = f"{target}.{member}" if member else None
                if submodule in modules:
                    graph[name].add(submodule)
                elif target in modules:
                    graph[name].add(target)
        # A module's own packages are imported before it: no edge back to them is a cycle
        # anyone can act on (``gateway.crypto`` re-exporting ``gateway.crypto.keystore``).
        graph[name] -= {p for p in graph[name] if name.startswith(p + ".")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), and self-loops."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(root: str) -> None:
        # Iterative, so a deep graph never meets the recursion limit.
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
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
                if len(component) > 1 or node in graph[node]:
                    found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_sees_function_local_imports() -> None:
    """The walk must find an import inside a function, or the main test proves nothing."""
    graph = import_graph()
    assert len(graph) > 150
    # gateway.cli imports the demo only inside the ``demo`` command.
    assert "gateway.demo.run" in graph["gateway.cli"]
    source = (ROOT / "gateway" / "cli.py").read_text(encoding="utf-8")
    assert "    from gateway.demo.run import run_demo" in source


def test_cycles_finds_a_cycle_through_a_function_local_import() -> None:
    """Positive control for the detector on a graph built from code, not from a literal."""
    first = ast.parse("def f():\n    import b\n")
    edges = {
        "a": {t for n in ast.walk(first) for t, _ in _imported(n, "a", False)},
        "b": {"c"},
        "c": {"a"},
        "d": {"a"},
    }
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


#: Calls that import a module named by a string: an edge neither this graph nor mypy sees.
IMPORT_BY_NAME = ("import_module", "__import__")


def imports_by_name(tree: ast.Module) -> list[str]:
    """The calls in ``tree`` that import a module by its name as a string."""
    return [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and ast.unparse(node.func).rsplit(".", 1)[-1] in IMPORT_BY_NAME
    ]


def test_no_module_is_imported_by_a_name_in_a_string() -> None:
    """The pages reached the cases, exchange, audit and retention domains through
    ``importlib.import_module("gateway.cases.service")``: invisible to the cycle check and
    to mypy. Every wire is an import statement (or an argument from gateway/context.py)."""
    found = {
        name: calls
        for name, path in project_modules().items()
        if (calls := imports_by_name(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert found == {}


def test_the_string_import_check_finds_one() -> None:
    tree = ast.parse(
        "import importlib\n"
        "def f():\n"
        "    return importlib.import_module('gateway.cases.service')\n"
        "g = __import__('os')\n"
    )
    assert sorted(imports_by_name(tree)) == [
        "__import__('os')",
        "importlib.import_module('gateway.cases.service')",
    ]
    assert imports_by_name(ast.parse("import importlib.util\nimportlib.util.find_spec('x')")) == []


def test_the_graph_sees_the_pages_reach_the_domains() -> None:
    """The pages' wires to other domains are edges of the graph the cycle check reads."""
    graph = import_graph()
    assert "gateway.cases.meetings" in graph["gateway.web.meeting_pages"]
    assert "gateway.retention.service" in graph["gateway.web.privacy_pages"]
    assert "gateway.cases.references" in graph["gateway.web.logbook"]
    assert {m for m in graph["gateway.web.case_pages"] if m.startswith("gateway.exchange")}


def test_no_import_cycles() -> None:
    found = cycles(import_graph())
    assert found == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)
