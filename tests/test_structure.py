"""The package's shape, read from its code: layers that import only downwards, no circle, no import hidden in a
string, functions that fit on a screen, and one place that makes a ``TrainConfig``."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mnist_models"

# Each room's layer, bottom up: a room imports only rooms of its own layer or below (README "Where things live").
LAYERS = {
    "files": 0, "version": 0, "installed": 0, "parse": 0, "stats": 0, "models": 0, "data": 1,
    "results": 1,  # the contract: below everything that writes or reads a record
    "training": 2, "runtimes": 3, "report": 4, "history": 5, "bench": 6, "ab": 7,
    "cli": 8, "__main__": 9, "__init__": 9,  # the package's face: its public names, imported on first use
}  # fmt: skip
MAX_FUNCTION_LINES = 60


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(module: str, path: Path) -> set[str]:
    """Every module of ours that ``module`` imports, at the top or inside a function."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)] if node.level else []
            target = ".".join([*base, node.module] if node.module else base)
            found.update([target] if node.module else [f"{target}.{a.name}" for a in node.names])
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {t for t in found if t == "mnist_models" or t.startswith("mnist_models.")}


def test_every_room_has_a_layer():
    assert {_room(m) for m in _modules()} <= set(LAYERS)


def test_imports_run_down_the_layers_only():
    upward = []
    for module, path in _modules().items():
        for target in _imports(module, path):
            if LAYERS[_room(target)] > LAYERS[_room(module)]:
                upward.append(f"{module} -> {target}")
    assert not upward, upward


def test_no_circle_between_rooms():
    graph = defaultdict(set)
    for module, path in _modules().items():
        graph[_room(module)] |= {_room(t) for t in _imports(module, path)} - {_room(module)}
    state: dict[str, int] = {}

    def visit(room: str, trail: list[str]) -> list[str] | None:
        state[room] = 1
        for nxt in sorted(graph[room]):
            if state.get(nxt) == 1:
                return [*trail, room, nxt]
            if nxt not in state and (circle := visit(nxt, [*trail, room])):
                return circle
        state[room] = 2
        return None

    circles = [c for room in sorted(graph) if room not in state and (c := visit(room, []))]
    assert not circles, circles


def test_results_stand_below_training():
    results = [m for m in _modules() if _room(m) == "results"]
    below = {room for room, layer in LAYERS.items() if layer == 0} | {"results"}
    assert all(_room(t) in below for m in results for t in _imports(m, _modules()[m]))


def test_no_module_is_imported_by_a_string_from_below():
    """``import_module`` only where the package's face hands out its public names, and where a runtime's spec
    names its own module; never a reach up the layers that the import graph would not show."""
    allowed = {"mnist_models": "the package's face", "mnist_models.runtimes.base": "a runtime's own module"}
    used = {m for m, p in _modules().items() if re.search(r"import_module|__import__", p.read_text(encoding="utf-8"))}
    assert used <= set(allowed), used - set(allowed)


@pytest.mark.parametrize("module", sorted(_modules()))
def test_functions_fit_on_a_screen(module):
    tree = ast.parse(_modules()[module].read_text(encoding="utf-8"))
    long = [
        f"{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, long


def test_train_config_is_made_in_one_function():
    makers = []
    for module, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
            calls = [
                c for c in ast.walk(function) if isinstance(c, ast.Call) and getattr(c.func, "id", "") == "TrainConfig"
            ]
            if calls:
                makers.append(f"{module}.{function.name}")
    assert makers == ["mnist_models.bench.plan.resolve_training"], makers
