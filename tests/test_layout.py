"""The shape of the package (issue #13): no import cycle, even through imports deferred into
functions; no function-local import of the package's own modules outside the named exceptions;
files and functions of a readable size."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "videomae"
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60

# Function-local imports of our own modules that are deliberate, with the reason.
LOCAL_IMPORT_EXCEPTIONS: dict[str, str] = {
    "videomae.cli.serve.run_serve": "videomae.serve.app imports FastAPI, the optional serve extra",
}
# Functions allowed past the length limit, with the reason.
LONG_FUNCTION_EXCEPTIONS: dict[str, str] = {}
# Files allowed past the size limit, with the reason.
LONG_FILE_EXCEPTIONS: dict[str, str] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, tuple[Path, ast.Module]]:
    return {
        _module_name(p): (p, ast.parse(p.read_text(encoding="utf-8")))
        for p in sorted(PACKAGE.rglob("*.py"))
    }


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """Names of our modules an import statement refers to (relative imports resolved)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "videomae"]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = module.split(".")
        base = base if is_package else base[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != "videomae":
        return []
    return [target] + [f"{target}.{a.name}" for a in node.names]


def _graph(sources) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, (path, tree) in sources.items():
        deps = set()
        for node in ast.walk(tree):
            for target in _imported(node, name, path.name == "__init__.py"):
                if target in sources and target != name:
                    deps.add(target)
        graph[name] = deps
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def _without_package_inits(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """A package's __init__ importing its own submodule is not a cycle of ideas; keep edges
    between distinct modules only."""
    return {k: {d for d in v if not k.startswith(d + ".")} for k, v in graph.items()}


def test_no_import_cycle_even_through_deferred_imports() -> None:
    graph = _without_package_inits(_graph(_sources()))
    assert _cycles(graph) == []


def test_no_function_local_imports_of_our_modules() -> None:
    offenders = []
    for name, (path, tree) in _sources().items():
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                if _imported(node, name, path.name == "__init__.py"):
                    where = f"{name}.{func.name}"
                    if where not in LOCAL_IMPORT_EXCEPTIONS:
                        offenders.append(where)
    assert sorted(set(offenders)) == []


def test_files_and_functions_stay_readable() -> None:
    long_files, long_functions = [], []
    for name, (path, tree) in _sources().items():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_FILE_LINES and name not in LONG_FILE_EXCEPTIONS:
            long_files.append(f"{name} ({lines} lines)")
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                where = f"{name}.{node.name}"
                if length > MAX_FUNCTION_LINES and where not in LONG_FUNCTION_EXCEPTIONS:
                    long_functions.append(f"{where} ({length} lines)")
    assert long_files == []
    assert long_functions == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
