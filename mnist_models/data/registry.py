"""The dataset registry: a name maps to a ``DatasetSpec``, the one door for the built-ins and everyone else.

The registry imports none of its contents: the built-ins (``data.entries``, one module each) and installed
packages' datasets all come through the entry point group ``mnist_models.datasets`` at the first lookup,
this package's own first, so a clash always names the newcomer. A project's own ``register_dataset`` call (its ``conftest.py``)
adds to the same table. No torch here: ``pytest`` option checks and the report read it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import DataError

ENTRY_POINT_GROUP = "mnist_models.datasets"  # installed packages contribute datasets here
DEFAULT_CLASS_WORD = "class"  # the report's word for one class of a dataset it does not know


@dataclass(frozen=True)
class DatasetSpec:
    """One MNIST-like dataset: what it is called, which files it is and how to get and read them.

    ``files`` maps each file kept under ``<root>/<folder>/raw/`` to the MD5 of its bytes (``None``: not
    pinned, checked for its format only); ``routes`` are tried in order to get them there; ``reader`` turns
    the verified files into uint8 images and integer labels (its ``check`` refuses a malformed file).
    """

    name: str
    classes: tuple[str, ...]
    reader: Any  # a ``formats`` reader: IdxFiles, NpzFile, TorchvisionArchives
    files: Mapping[str, str | None] = field(default_factory=dict)
    routes: tuple[Any, ...] = ()  # ``routes`` objects: Folder, Mirrors, PackageIndex
    class_word: str = DEFAULT_CLASS_WORD  # what one class is called: "digit", "garment"
    image_shape: tuple[int, int] = (28, 28)
    folder: str = ""  # its folder under the data root (default: the name)
    val_size: int = 12_000  # training rows held out, stratified, for validation (where the files have none)
    normalization: tuple[float, float] | None = None  # (mean, std) of pixels in [0, 1]; None: the training split's
    advice: str = ""  # what to do when no route worked
    source: str = ""  # where it was registered (set by the registry)

    def __post_init__(self) -> None:
        if not self.folder:
            object.__setattr__(self, "folder", self.name)
        if not self.files:
            raise ValueError(f"dataset {self.name!r}: no files")
        missing = [name for name in getattr(self.reader, "names", ()) if name not in self.files]
        if missing:
            raise ValueError(f"dataset {self.name!r}: its reader reads {missing}, which are not among its files")

    @property
    def md5(self) -> Mapping[str, str | None]:
        """The files' pinned MD5s (the name the data tests and scripts have always used)."""
        return self.files


class UnknownDatasetError(DataError, ValueError):
    """A dataset name the registry does not know; the message lists the registered ones."""


class DatasetRegistry:
    """Name -> :class:`DatasetSpec`; the built-ins and installed packages' entries load at the first lookup."""

    def __init__(self) -> None:
        self._specs: dict[str, DatasetSpec] = {}
        self._state = "empty"  # "loading" while the built-ins and entry points import, then "loaded"
        self.loading: str | None = None  # the entry point being loaded: the source of what it registers

    def load(self) -> None:
        if self._state != "empty":
            return
        from ..installed import load_entry_points

        self._state = "loading"
        try:
            load_entry_points(ENTRY_POINT_GROUP, self.registering_from)
        finally:
            self._state = "loaded"

    @contextlib.contextmanager
    def registering_from(self, source: str) -> Iterator[None]:
        previous, self.loading = self.loading, source
        try:
            yield
        finally:
            self.loading = previous

    def add(self, spec: DatasetSpec, source: str) -> DatasetSpec:
        self.load()
        spec = replace(spec, source=self.loading or spec.source or source)
        existing = self._specs.get(spec.name)
        if existing is not None and replace(existing, source="") != replace(spec, source=""):
            raise ValueError(
                f"dataset {spec.name!r} from {spec.source} clashes with the dataset of that name from "
                f"{existing.source}; register one of them under another name"
            )
        self._specs.setdefault(spec.name, spec)
        return self._specs[spec.name]

    def remove(self, name: str) -> None:
        self._specs.pop(name, None)

    def names(self) -> list[str]:
        self.load()
        return list(self._specs)

    def get(self, name: str) -> DatasetSpec:
        self.load()
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownDatasetError(f"unknown dataset {name!r}; choose one of: {', '.join(self._specs)}") from None


REGISTRY = DatasetRegistry()


def register_dataset(spec: DatasetSpec) -> DatasetSpec:
    """Register ``spec`` under its name (re-registering an equal spec is harmless); returns the registered spec."""
    caller = sys._getframe(1).f_globals.get("__name__", "?")  # the module that registers it: named in a clash
    return REGISTRY.add(spec, source=f"module {caller}")


def unregister_dataset(name: str) -> None:
    """Remove a dataset (mainly for tests that register temporary ones)."""
    REGISTRY.remove(name)


def get_dataset(name: str) -> DatasetSpec:
    """The registered spec of ``name``; :class:`UnknownDatasetError` (a ``DataError``) lists the valid names."""
    return REGISTRY.get(name)


def list_datasets() -> list[str]:
    """Registered dataset names: the built-ins first, in registration order."""
    return REGISTRY.names()


def class_word(name: str) -> str:
    """What one class of dataset ``name`` is called ("digit"); ``"class"`` for a dataset not registered here."""
    try:
        return get_dataset(name).class_word
    except DataError:
        return DEFAULT_CLASS_WORD


class _Datasets(Mapping):
    """The registry as a read-only mapping of name -> spec (``sources.DATASETS``)."""

    def __getitem__(self, name: str) -> DatasetSpec:
        try:
            return get_dataset(name)
        except UnknownDatasetError:
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(list_datasets())

    def __len__(self) -> int:
        return len(list_datasets())


DATASETS: Mapping[str, DatasetSpec] = _Datasets()
