"""Installed packages' contributions: every entry point of a group imported once, a failure named with its fix.

Architectures (``mnist_models.architectures``), benchmark groups (``mnist_models.groups``) and runtimes
(``mnist_models.runtimes``) all come in this way; importing an entry point's module registers what it holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from importlib import metadata


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


def _entries(group: str) -> Iterator[tuple[metadata.EntryPoint, str]]:
    for entry in metadata.entry_points(group=group):
        dist = getattr(entry, "dist", None)
        yield entry, f"entry point '{entry.name} = {entry.value}'" + (f" ({dist.name} {dist.version})" if dist else "")
