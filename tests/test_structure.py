"""The package's shape, read from its code: layers that import only downwards, no circle, no import hidden in a
string, functions that fit on a screen, and one place that makes a ``TrainConfig``."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mnist_models"
STUDIES, TOOLS = PACKAGE.parent / "studies", PACKAGE.parent / "tools"

# Each room's layer, bottom up: a room imports only rooms of its own layer or below (README "Where things live").
LAYERS = {
    "files": 0, "version": 0, "installed": 0, "parse": 0, "stats": 0, "models": 0, "data": 1,
    "results": 1,  # the contract: below everything that writes or reads a record
    "training": 2, "runtimes": 3, "report": 4, "history": 5, "exports": 5, "bench": 6,
    "groups": 6.5,  # the built-in groups, each one folder: above the bench and report registries they fill
    "ab": 7,
    "cli": 8, "maintain": 8, "__main__": 9, "__init__": 9,  # the package's face: its public names, imported on first use
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


def _built_in_group_names() -> set[str]:
    """The names the built-in groups' specs (``mnist_models/groups/<name>/spec.py``) give them, read from the code
    (importing a group's folder would register it)."""
    names = set()
    for path in sorted((PACKAGE / "groups").glob("*/spec.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        strings = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
                   for t in n.targets if isinstance(t, ast.Name)}  # fmt: skip
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "GroupSpec"):
            first = call.args[0]
            names.add(first.value if isinstance(first, ast.Constant) else strings[first.id])
    return names


def _group_literals(node: ast.AST, names: set[str]) -> list[str]:
    parts = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
    return [p.value for p in parts if isinstance(p, ast.Constant) and p.value in names]


_GROUP_CONSTANTS = {"TRAIN", "TRAIN_STEP", "LATENCY", "THROUGHPUT", "ENGINE", "LEVERS"}


def _branch_on_a_group(node: ast.AST, names: set[str]) -> list[str]:
    """The built-in group names ``node`` compares or looks up a group's records by, or imports from a group."""
    if isinstance(node, ast.Compare):
        operands = [node.left, *node.comparators]
        about = any("group" in ast.unparse(o) or "records" in ast.unparse(o) for o in operands)
        return [n for o in operands for n in _group_literals(o, names)] if about else []
    lookup = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
    if isinstance(node, ast.Subscript) or lookup:
        target = ast.unparse(node.value if isinstance(node, ast.Subscript) else node.func.value)
        keys = [node.slice] if isinstance(node, ast.Subscript) else node.args[:1]
        about = "group" in target.lower() or "records" in target
        return [n for k in keys for n in _group_literals(k, names)] if about else []
    if isinstance(node, ast.ImportFrom) and "groups" in (node.module or ""):
        return [a.name for a in node.names if a.name in _GROUP_CONSTANTS or (node.module or "").endswith(".spec")]
    return []


def test_no_module_outside_a_groups_folder_branches_on_its_name():
    """A group's name is spelled in its own folder; elsewhere code asks the specs (fields, variants, sections)."""
    names = _built_in_group_names()
    assert {"train", "train-step", "latency", "throughput", "engine", "levers"} <= names
    found = [
        f"{module}:{node.lineno}: {ast.unparse(node)[:80]}"
        for module, path in _modules().items()
        if not module.startswith("mnist_models.groups.")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if _branch_on_a_group(node, names)
    ]
    assert not found, found


# Studies (studies/<name>/) and tools (tools/) stand outside the package: they import its public names only (no
# module or name with a leading underscore), never another study's or tool's code, and the package never imports
# them. A tool that needs a study's figures runs the study's command line.
def _scripts() -> list[Path]:
    return sorted([*STUDIES.rglob("*.py"), *TOOLS.rglob("*.py")])


def _owner(path: Path) -> Path:
    """The folder a script belongs to: its study, or tools/."""
    return path.parent if path.is_relative_to(STUDIES) and path.parent.parent == STUDIES else TOOLS


def _imported_names(tree: ast.AST) -> list[tuple[str, str | None]]:
    """(module, name) for every import; name is None for ``import module``."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            out += [("." * node.level + (node.module or ""), a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            out += [(a.name, None) for a in node.names]
    return out


@pytest.mark.parametrize("path", _scripts(), ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_studies_and_tools_use_only_the_packages_public_names(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    ours = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and
            (n.module or "").startswith("mnist_models") for a in n.names}  # fmt: skip
    private = [f"{m}.{n}" if n else m for m, n in _imported_names(tree) if m.startswith("mnist_models")
               and any(part.startswith("_") for part in [*m.split("."), n or ""] if part != "__version__")]  # fmt: skip
    private += [f"{n.value.id}.{n.attr}" for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                and isinstance(n.value, ast.Name) and n.value.id in ours and n.attr.startswith("_")]  # fmt: skip
    assert not private, f"{path.name} reaches past the package's public names: {private}"


@pytest.mark.parametrize("path", _scripts(), ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_a_study_or_tool_imports_no_other_study_or_tool(path):
    own = {p.stem for p in _owner(path).rglob("*.py")} | {p.name for p in _owner(path).iterdir() if p.is_dir()}
    others = {p.stem for p in _scripts() if _owner(p) != _owner(path)} - own
    text = path.read_text(encoding="utf-8")
    reached = [m for m, _ in _imported_names(ast.parse(text)) if m.split(".")[0] in others | {"studies", "tools"}]
    assert not reached, f"{path.name} imports another study's or tool's code: {reached}"
    assert not re.search(r"spec_from_file_location|import_module|__import__", text), path.name


def test_the_package_never_imports_a_study_or_tool():
    names = {p.stem for p in _scripts()} | {"studies", "tools", "blocks"}
    found = [f"{module} -> {m}" for module, path in _modules().items()
             for m, _ in _imported_names(ast.parse(path.read_text(encoding="utf-8"))) if m.split(".")[0] in names]  # fmt: skip
    assert not found, found


def test_no_test_puts_a_script_folder_on_sys_path():
    """Tests load a study's module by its path (the ``script_module`` fixture) or run its command line."""
    tests = Path(__file__).resolve().parent
    found = [str(p.relative_to(tests)) for p in tests.rglob("*.py")
             if re.search(r"sys\.path\.(insert|append)\([^)]*(scripts|studies|tools)", p.read_text(encoding="utf-8"))]  # fmt: skip
    assert not found, found


@pytest.mark.parametrize("study", sorted(p for p in STUDIES.iterdir() if p.is_dir() and p.name != "__pycache__"),
                         ids=lambda p: p.name)  # fmt: skip
def test_every_study_has_a_readme_naming_its_scripts(study):
    readme = study / "README.md"
    assert readme.is_file(), f"{study.name}: no README.md (what it measures, the command, what it writes)"
    text = readme.read_text(encoding="utf-8")
    scripts = [p.name for p in study.iterdir() if p.suffix in (".py", ".sh")]
    assert scripts, f"{study.name}: no script"
    assert all(name in text for name in scripts), f"{study.name}/README.md does not name each of {scripts}"
