"""Installed packages' contributions: every entry point of a group imported once, a failure named with its fix.

Architectures (``mnist_models.architectures``), benchmark groups (``mnist_models.groups``), report
sections (``mnist_models.sections``; the built-in groups and sections too), runtimes
(``mnist_models.runtimes``) and datasets (``mnist_models.datasets``) all come in this way; importing an entry point's module registers what it holds.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from importlib import metadata
from pathlib import Path


def load_entry_points(group: str, attribute: Callable[[str], AbstractContextManager] | None = None) -> None:
    """Import each entry point of ``group``; ``attribute(source)`` wraps each import (e.g. to name what it registers).

    With ``attribute`` (whose registry names the source in its own errors: a clash, a bad spec) a ValueError
    passes unchanged; any other error of an installed package's import becomes a ValueError naming the
    entry point and what to do.
    """
    for entry, source in _entries(group):
        with attribute(source) if attribute else nullcontext():
            try:
                entry.load()
            except Exception as exc:  # an installed package's import error: name it, with the fix
                if isinstance(exc, ValueError) and attribute is not None:
                    raise
                raise ValueError(
                    f"{source} ({group}) could not be loaded ({type(exc).__name__}: {exc}); "
                    "fix or uninstall that package"
                ) from exc


OWN_DISTRIBUTION = "mnist-models"


def _entries(group: str) -> Iterator[tuple[metadata.EntryPoint, str]]:
    """``group``'s entry points, this package's built-ins first (in file order), so a clash names the newcomer."""

    def theirs(entry: metadata.EntryPoint) -> bool:
        dist = getattr(entry, "dist", None)
        return dist is None or re.sub(r"[-_.]+", "-", dist.name).lower() != OWN_DISTRIBUTION

    for entry in sorted(metadata.entry_points(group=group), key=theirs):
        dist = getattr(entry, "dist", None)
        if not theirs(entry):
            yield entry, f"mnist_models built-ins ({entry.value})"
        else:
            yield (
                entry,
                f"entry point '{entry.name} = {entry.value}'" + (f" ({dist.name} {dist.version})" if dist else ""),
            )


# --- Another tree of ours, in a subprocess --------------------------------------------------------------------


def tree_environment(tree: Path) -> dict[str, str]:
    """``os.environ`` for a process that imports ``tree``'s ``mnist_models`` (an A/B side, a bisect probe, a run
    measured again at its commit): ``PYTHONPATH`` starts with ``tree``, and before it a folder holding a dist-info
    of ``tree``'s own entry points, read from its ``pyproject.toml``.

    Entry points are read from the installed distribution's metadata, whichever tree is imported: a tree older or
    newer than the install would otherwise be told to load built-in modules it does not have (or miss its own).
    The first distribution of a name on ``sys.path`` is the one ``importlib.metadata`` reads, so this dist-info
    shadows the installed one for this package only; other packages' entry points stay as they are.
    """
    tree = Path(tree).resolve()
    paths = [str(tree), os.environ.get("PYTHONPATH", "")]
    shim = _metadata_of(tree)
    if shim is not None:
        paths.insert(0, str(shim))
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def _metadata_of(tree: Path) -> Path | None:
    """A temporary folder with ``mnist_models-0.dist-info`` holding ``tree``'s entry points (removed at exit);
    ``None`` for a tree without a ``pyproject.toml``."""
    pyproject = tree / "pyproject.toml"
    if not pyproject.is_file():
        return None
    sections: dict[str, list[str]] = {}
    current = None
    for raw in pyproject.read_text(encoding="utf-8").splitlines():  # the tables of entry points only
        line = raw.strip()
        header = re.match(r'\[project\.entry-points\.(?:"([^"]+)"|([\w.-]+))\]', line)
        entry = re.match(r'("?)([\w.-]+)\1\s*=\s*"([^"]+)"', line)
        if header:
            current = header[1] or header[2]
            sections[current] = []
        elif line.startswith("["):
            current = None
        elif current and entry:
            sections[current].append(f"{entry[2]} = {entry[3]}")
    folder = Path(tempfile.mkdtemp(prefix="mnist-models-meta-"))
    atexit.register(shutil.rmtree, folder, True)
    info = folder / "mnist_models-0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mnist-models\nVersion: 0\n", encoding="utf-8")
    text = "".join(f"[{group}]\n" + "".join(f"{e}\n" for e in entries) + "\n" for group, entries in sections.items())
    (info / "entry_points.txt").write_text(text, encoding="utf-8")
    return folder
