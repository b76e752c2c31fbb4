"""The package's layers hold: no module imports a layer above its own, and no import cycles but the named ones.

The graph is `benchmarks/import_graph.py`'s (read with `ast`; lazy imports inside functions count too, except the
lazy public names of `claude_magic/__init__.py`). Layers, from the bottom: core -> transport, notebook -> tools,
engines, mcp -> views, panel, rows, store, replay -> the front door (see `LAYERS` there).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]

# Cycles and upward imports that remain by design, each with its reason (none today: add one only with a reason).
ALLOWED_CYCLES: dict[tuple[str, ...], str] = {}
ALLOWED_UPWARD: dict[tuple[str, str], str] = {}


def _import_graph() -> ModuleType:
    path = ROOT / "benchmarks" / "import_graph.py"
    spec = importlib.util.spec_from_file_location("claude_magic_import_graph", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # dataclasses and the like look their module up
    spec.loader.exec_module(module)
    return module


def _allowed(component: list[str]) -> bool:
    return any(all(name.startswith(prefixes) for name in component) for prefixes in ALLOWED_CYCLES)


def test_no_module_imports_a_layer_above_its_own() -> None:
    graph = _import_graph()
    upward = [edge for edge in graph.upward(graph.graph(), graph.LAYERS) if edge not in ALLOWED_UPWARD]
    assert not upward, "imports up the layers: " + "; ".join(f"{source} -> {target}" for source, target in upward)


def test_no_import_cycles_but_the_named_ones() -> None:
    graph = _import_graph()
    found = [component for component in graph.cycles(graph.graph()) if not _allowed(component)]
    assert not found, "import cycles: " + "; ".join(" <-> ".join(component) for component in found)


def test_every_module_has_a_layer_but_the_testing_stand_in() -> None:
    graph = _import_graph()
    unlayered = [name for name in graph.modules()
                 if graph.layer_of(name, graph.LAYERS) is None and not name.startswith("claude_magic.testing")]
    assert not unlayered, f"modules in no layer (add them to LAYERS in benchmarks/import_graph.py): {unlayered}"
