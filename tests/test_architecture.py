"""The house's rules, read from the source: imports flow one way through the layers, no module
imports itself back through others (imports inside functions count), click lives in cli/ only,
and the package's top holds few modules."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "backprop_cli"

# Each layer may import only from the layers before it (and from itself, without cycles).
LAYERS = (
    "core",
    "ops",
    "graph",
    "language",
    "engines",
    "inputs",
    "render",
    "modes",
    "training",
    "cli",
    "launch",
    "__main__",
)
# The package root only names the API and the version; it imports nothing when it loads.
ROOT = "backprop_cli"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imported_modules(path: Path) -> set[str]:
    """Every backprop_cli module this file imports, at module level or inside functions,
    leaving out imports under `if TYPE_CHECKING:`, which never run."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if is_type_checking_block(node):
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        pending.extend(ast.iter_child_nodes(node))
    return {name for name in found if name == ROOT or name.startswith(ROOT + ".")}


def import_graph() -> dict[str, set[str]]:
    files = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        # `from backprop_cli.x import y` names either module x.y or attribute y of x.
        graph[name] = {m for m in imported_modules(path) if m in files and m != name}
    return graph


def layer_of(module: str) -> int:
    if module == ROOT:
        return -1
    return LAYERS.index(module.split(".")[1])


def test_every_module_belongs_to_a_layer() -> None:
    for module in import_graph():
        layer_of(module)  # raises ValueError for a module outside the layers


def test_imports_flow_one_way_through_the_layers() -> None:
    upward = [
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        for target in targets
        if module != ROOT and layer_of(target) > layer_of(module)
    ]
    assert upward == []


def test_the_package_root_imports_nothing_when_it_loads() -> None:
    assert import_graph()[ROOT] == set()


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_back() -> None:
    assert cycles(import_graph()) == []


def third_party_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_click_is_imported_only_in_the_cli() -> None:
    outside = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "click" in third_party_imports(path) and path.parent.name != "cli"
    ]
    assert outside == []


def test_every_runtime_dependency_is_imported_somewhere() -> None:
    used = set().union(*(third_party_imports(path) for path in PACKAGE.rglob("*.py")))
    for dependency in ("click", "lark", "rich", "numpy"):
        assert dependency in used, dependency


def test_the_package_top_holds_at_most_eight_modules() -> None:
    assert len(list(PACKAGE.glob("*.py"))) <= 8
