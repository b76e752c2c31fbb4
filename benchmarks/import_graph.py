"""The package's import graph, read with `ast`: cycles between modules, and imports that run up the layers.

    python benchmarks/import_graph.py            # cycles and upward imports, one per line; exit 1 if any
    python benchmarks/import_graph.py --edges    # every edge, module -> module

Every `import` counts, also those inside functions (a lazy import still ties two modules together), except
the lazy public names of `claude_magic/__init__.py` (imports inside its functions). The layers, from the bottom, are in
LAYERS: a module may import its own layer and those below, never one above.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "claude_magic"


def _layers(spec: dict[int, tuple[str, ...]]) -> dict[str, int]:
    return {f"{PACKAGE}.{name}" if name else PACKAGE: level for level, names in spec.items() for name in names}


# Layer of a module: the first prefix that matches (longest first). Bottom = 0. `testing` (the local
# stand-in for the API) is in no layer.
LAYERS: dict[str, int] = _layers({
    0: ("core",),
    1: ("transport", "notebook"),
    2: ("tools", "engines", "mcp"),
    3: ("views", "panel", "rows", "store", "replay", "cells"),
    4: ("", "magics", "commands", "api", "session", "auth_report", "quickstart"),
})


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted((ROOT / PACKAGE).rglob("*.py"))}


def _resolve(current: str, is_package: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    base = current.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """The package's modules that `name` imports (an imported name that is a submodule counts as that module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(name, is_package, node.level, node.module)
            targets = [f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module
                       for alias in node.names]
        else:
            continue
        for target in targets:
            if target.startswith(PACKAGE) and target != name:
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    yield target


def _lazy_init_names(known: dict[str, Path]) -> set[str]:
    """Modules that claude_magic/__init__.py reaches only inside its functions (the lazy public names)."""
    tree = ast.parse(known[PACKAGE].read_text(encoding="utf-8"))
    lazy: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom):
                    lazy.add(_resolve(PACKAGE, True, inner.level, inner.module))
    return lazy


def graph() -> dict[str, set[str]]:
    known = modules()
    edges = {name: set(imports(name, path, known)) for name, path in known.items()}
    edges[PACKAGE] -= _lazy_init_names(known)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def layer_of(module: str, layers: dict[str, int]) -> int | None:
    for prefix in sorted(layers, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return layers[prefix]
    return None


def upward(edges: dict[str, set[str]], layers: dict[str, int]) -> list[tuple[str, str]]:
    """Imports from a lower layer to a higher one."""
    found = []
    for source, targets in edges.items():
        below = layer_of(source, layers)
        for target in targets:
            above = layer_of(target, layers)
            if below is not None and above is not None and above > below:
                found.append((source, target))
    return sorted(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", action="store_true", help="print every edge")
    arguments = parser.parse_args(argv)
    edges = graph()
    if arguments.edges:
        for source in sorted(edges):
            for target in sorted(edges[source]):
                print(f"{source} -> {target}")
        return 0
    found_cycles = cycles(edges)
    found_upward = upward(edges, LAYERS)
    print(f"{len(edges)} modules, {sum(map(len, edges.values()))} imports")
    print(f"{len(found_cycles)} cycle(s)")
    for component in found_cycles:
        print("  cycle: " + " <-> ".join(component))
    print(f"{len(found_upward)} import(s) up the layers")
    for source, target in found_upward:
        print(f"  up: {source} -> {target}")
    return 1 if found_cycles or found_upward else 0


if __name__ == "__main__":
    raise SystemExit(main())
