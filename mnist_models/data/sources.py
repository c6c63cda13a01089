"""Getting a dataset's files into place and checking them: its routes' actions, and the check on every load.

Everything ends as the spec's ``files`` in ``<root>/<folder>/raw/``, each checked against its MD5 and by
its reader's format check. Every write is atomic (temporary file, then rename), so an interrupted fetch
never leaves a file that a later run would trust.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

from ..files import atomic_write_bytes
from .errors import DataError, DataWarning
from .formats import IDX_FILES, IMAGE_MAGIC, LABEL_MAGIC, IdxFiles
from .registry import DATASETS, DatasetSpec, get_dataset

__all__ = [
    "DATASETS",
    "DOWNLOAD_TIMEOUT_S",
    "IDX_FILES",
    "DataError",
    "DataWarning",
    "check_idx_bytes",
    "dataset_info",
    "default_data_root",
    "find_system_directory",
    "has_raw_files",
    "install_files",
    "install_from_directory",
    "raw_dir",
    "verify_raw_files",
]

_IMAGE_MAGIC, _LABEL_MAGIC = IMAGE_MAGIC, LABEL_MAGIC  # the names hub.py and older code import
DOWNLOAD_TIMEOUT_S = 30.0


def dataset_info(name: str) -> DatasetSpec:
    """The registered spec of ``name`` (``DataError`` listing the registered names)."""
    return get_dataset(name)


def default_data_root() -> Path:
    """``$MNIST_MODELS_DATA``, else ``$XDG_CACHE_HOME/mnist-models`` (``~/.cache/mnist-models``)."""
    env = os.environ.get("MNIST_MODELS_DATA")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "mnist-models"


def raw_dir(root: Path, spec: DatasetSpec) -> Path:
    return Path(root) / spec.folder / "raw"


# --- Checking files ----------------------------------------------------------------------------


def check_idx_bytes(data: bytes, filename: str, where: str) -> None:
    """Raise :class:`DataError` unless ``data`` is the official MNIST-sized IDX file ``filename`` in form."""
    IdxFiles(counts=(60_000, 10_000)).check(SimpleNamespace(image_shape=(28, 28)), filename, data, where)


def _check_file(spec: DatasetSpec, filename: str, data: bytes, where: str) -> str:
    """The MD5 of ``data`` after its format and pinned MD5 are checked (``DataError`` naming ``where``)."""
    if filename in getattr(spec.reader, "names", ()):
        spec.reader.check(spec, filename, data, where)
    md5 = hashlib.md5(data).hexdigest()
    expected = spec.files[filename]
    if expected is not None and md5 != expected:
        raise DataError(f"{where}: checksum mismatch (MD5 {md5}, expected {expected})")
    return md5


def verify_raw_files(root: Path, spec: DatasetSpec) -> str:
    """Check the spec's files under ``root`` and return one checksum for the dataset.

    Raises :class:`DataError` naming the first bad file and how to fix it.
    """
    folder = raw_dir(root, spec)
    combined = hashlib.sha256()
    for filename in spec.files:
        path = folder / filename
        if not path.is_file():
            raise DataError(f"{path}: missing. Run `mnist-models data fetch --dataset {spec.name}` to get it.")
        fix = f"Delete it and run `mnist-models data fetch --dataset {spec.name}`."
        try:
            md5 = _check_file(spec, filename, path.read_bytes(), str(path))
        except DataError as exc:
            raise DataError(f"{exc}. {fix}") from None
        combined.update(md5.encode())
    return combined.hexdigest()[:16]


def has_raw_files(root: Path, spec: DatasetSpec) -> bool:
    return all((raw_dir(root, spec) / f).is_file() for f in spec.files)


def install_files(files: dict[str, bytes], root: Path, spec: DatasetSpec, origin: str) -> None:
    """Check every file first, then write them; nothing is written if any is bad."""
    for filename in spec.files:
        _check_file(spec, filename, files[filename], f"{filename} from {origin}")
    for filename in spec.files:
        atomic_write_bytes(raw_dir(root, spec) / filename, files[filename])


_install_files = install_files  # the name hub.py has always used


# --- torchvision's download from the dataset's mirrors ---------------------------------------------


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    # torchvision's urllib calls have no timeout; a firewall that drops packets would hang forever.
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def download_with_torchvision(root: Path, spec: DatasetSpec, mirrors) -> None:
    """Download through torchvision (``mirrors``: a ``routes.Mirrors``) into a scratch folder, then move the
    checked files into place."""
    from torchvision import datasets

    tv_class = getattr(datasets, mirrors.torchvision)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".download-") as scratch, _socket_timeout(DOWNLOAD_TIMEOUT_S):
        try:
            for train in (True, False):  # most download both splits at once; QMNIST one at a time
                tv_class(scratch, train=train, download=True, **dict(mirrors.options))
        except Exception as exc:  # torchvision raises RuntimeError/URLError/OSError for network trouble
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError(f"torchvision could not download {spec.name}: {first_line}") from exc
        folder = Path(scratch) / tv_class.__name__ / "raw"
        try:
            files = {f: (folder / f).read_bytes() for f in spec.files}
        except OSError as exc:
            raise DataError(f"torchvision's download of {spec.name} left no {exc.filename}") from None
    install_files(files, root, spec, "torchvision's download")


# --- A folder of the files, uncompressed or as .gz -------------------------------------------------


def install_from_directory(root: Path, spec: DatasetSpec, directory: Path) -> None:
    """Copy the spec's files from ``directory`` (each as ``<name>.gz`` or as is), checking their content."""
    files = {}
    for filename in spec.files:
        plain, packed = directory / filename, directory / f"{filename}.gz"
        if packed.is_file() and not filename.endswith(".gz"):
            try:
                files[filename] = gzip.decompress(packed.read_bytes())
            except (OSError, EOFError) as exc:
                raise DataError(f"{packed}: not a valid gzip file ({exc})") from None
        elif plain.is_file():
            files[filename] = plain.read_bytes()
        else:
            raise DataError(f"{directory}: no {filename}.gz (or {filename}) there")
    install_files(files, root, spec, str(directory))


def holds_files(spec: DatasetSpec, path: Path) -> bool:
    """Whether ``path`` holds each of the spec's files (as is or as ``<name>.gz``)."""
    return all((path / f"{f}.gz").is_file() or (path / f).is_file() for f in spec.files)


def find_system_directory(spec: DatasetSpec) -> Path | None:
    """The first of the spec's OS-package folders (``Folder(..., if_present=True)``) that holds its files."""
    for route in spec.routes:
        for label, _ in route.attempts(spec, Path()) if getattr(route, "if_present", False) else ():
            return Path(label.removeprefix("directory "))
    return None
