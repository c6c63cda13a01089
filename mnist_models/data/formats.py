"""How verified files become images and labels: the official IDX files, a user's ``.npz``, torchvision's archives.

Each reader has ``names`` (the files it reads, among its spec's ``files``), ``check(spec, filename, data,
where)`` (raise ``DataError`` on a malformed file, before it is kept) and ``read(spec, folder)`` (a dict of
uint8 images ``(N, H, W)`` and int64 labels for ``train`` and ``test``, and ``val`` where the files have one).
Torch and torchvision are imported by ``read`` only.
"""

from __future__ import annotations

import io
import math
import os
import shutil
import struct
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DataError

IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
IMAGE_MAGIC, LABEL_MAGIC = 0x00000803, 0x00000801


def check_idx(data: bytes, where: str, images: bool, shape: tuple[int, int], count: int | None = None) -> None:
    """Raise :class:`DataError` unless ``data`` is a well-formed IDX file of images of ``shape`` (or labels)."""
    magic_expected, ndim = (IMAGE_MAGIC, 3) if images else (LABEL_MAGIC, 1)
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{where}: truncated IDX file ({len(data)} bytes, shorter than its header)")
    magic = struct.unpack(">I", data[:4])[0]
    if magic != magic_expected:
        raise DataError(
            f"{where}: wrong magic number 0x{magic:08x}, expected 0x{magic_expected:08x} (not an IDX {'image' if images else 'label'} file)"
        )
    dims = struct.unpack(f">{ndim}I", data[4:header])
    rows = dims[0] if count is None else count
    expected_dims = (rows, *shape) if images else (rows,)
    if dims != expected_dims:
        raise DataError(f"{where}: shape {dims}, expected {expected_dims}")
    expected_size = header + math.prod(dims)
    if len(data) != expected_size:
        raise DataError(f"{where}: {len(data)} bytes, expected {expected_size} for shape {dims} (truncated or padded)")


@dataclass(frozen=True)
class IdxFiles:
    """Four IDX files (uncompressed once kept): train images, train labels, test images, test labels."""

    names: tuple[str, str, str, str] = IDX_FILES
    counts: tuple[int, int] | None = None  # (train, test) rows, where the dataset's size is known

    def check(self, spec, filename: str, data: bytes, where: str) -> None:
        role = self.names.index(filename)
        check_idx(data, where, role % 2 == 0, spec.image_shape, self.counts[role // 2] if self.counts else None)

    def read(self, spec, folder: Path) -> dict:
        from torchvision.datasets.mnist import read_image_file, read_label_file  # torchvision's own IDX readers

        x_train, y_train, x_test, y_test = (
            (read_image_file if i % 2 == 0 else read_label_file)(str(folder / name))
            for i, name in enumerate(self.names)
        )
        for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
            if len(x) != len(y):
                raise DataError(f"{folder}: {len(x)} {split} images but {len(y)} labels")
        return _checked(
            spec, {"x_train": x_train, "y_train": y_train.long(), "x_test": x_test, "y_test": y_test.long()}
        )


NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")  # and, optionally, x_val and y_val together


@dataclass(frozen=True)
class NpzFile:
    """One ``.npz`` holding ``x_train, y_train, x_test, y_test`` (optionally ``x_val, y_val``): uint8 images
    ``(N, H, W)`` (or ``(N, 1, H, W)``) and integer labels; read without pickles."""

    name: str

    @property
    def names(self) -> tuple[str]:
        return (self.name,)

    def check(self, spec, filename: str, data: bytes, where: str) -> None:
        self._arrays(spec, data, where)

    def read(self, spec, folder: Path) -> dict:
        import torch

        path = folder / self.name
        arrays = self._arrays(spec, path.read_bytes(), str(path))
        return {k: torch.from_numpy(v.copy()) for k, v in arrays.items()}

    def _arrays(self, spec, data: bytes, where: str) -> dict:
        import numpy as np

        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            raise DataError(f"{where}: not a readable .npz without pickles ({exc})") from None
        wanted = [*NPZ_KEYS, *(("x_val", "y_val") if "x_val" in arrays or "y_val" in arrays else ())]
        missing = [k for k in wanted if k not in arrays]
        if missing:
            raise DataError(
                f"{where}: no {', '.join(missing)} in it (it needs {', '.join(NPZ_KEYS)}, optionally x_val, y_val)"
            )
        out = {}
        for key in wanted:
            value = arrays[key]
            if key.startswith("x"):
                value = (
                    value.reshape(len(value), *value.shape[2:]) if value.ndim == 4 and value.shape[1] == 1 else value
                )
                if value.dtype != np.uint8 or value.shape[1:] != tuple(spec.image_shape):
                    raise DataError(
                        f"{where}: {key} is {value.dtype} {value.shape}, expected uint8 (N, {', '.join(map(str, spec.image_shape))})"
                    )
            elif not np.issubdtype(value.dtype, np.integer) or value.ndim != 1:
                raise DataError(f"{where}: {key} is {value.dtype} {value.shape}, expected integer labels (N,)")
            else:
                value = value.astype(np.int64)
            out[key] = value
        for split in ("train", "val", "test"):
            if f"x_{split}" in out and len(out[f"x_{split}"]) != len(out[f"y_{split}"]):
                raise DataError(f"{where}: {len(out[f'x_{split}'])} {split} images but {len(out[f'y_{split}'])} labels")
        return _checked(spec, out, where)


@dataclass(frozen=True)
class TorchvisionArchives:
    """The official archives as torchvision's class ``torchvision`` knows them, extracted and read by torchvision.

    The archives are checked against the spec's MD5s (torchvision's own table, ``tests/data`` keeps them equal)
    before anything reads them; torchvision extracts copies in a scratch folder, where its download finds the
    verified archive and goes nowhere, so no unverified file is ever read.
    """

    torchvision: str  # the class in torchvision.datasets: "KMNIST", "QMNIST", "EMNIST"
    options: tuple[tuple[str, Any], ...] = ()  # its keyword arguments: EMNIST's (("split", "digits"),)
    label_column: int | None = None  # QMNIST's labels are rows of eight figures; the class is column 0
    transpose: bool = False  # EMNIST's images are stored transposed
    names: tuple[str, ...] = ()

    def check(self, spec, filename: str, data: bytes, where: str) -> None:
        """An archive is pinned by its MD5 alone."""

    def read(self, spec, folder: Path) -> dict:
        cls = pinned_class(self.torchvision, spec.files)
        with tempfile.TemporaryDirectory(prefix=".read-") as scratch:
            raw = Path(scratch) / cls.__name__ / "raw"
            raw.mkdir(parents=True)
            for name in spec.files:
                os.symlink(folder / name, raw / name)
            splits = {}
            for split, train in (("train", True), ("test", False)):
                got = cls(scratch, train=train, download=True, **dict(self.options))
                x, y = got.data, got.targets.long()
                y = y[:, self.label_column] if self.label_column is not None else y
                splits[f"x_{split}"] = x.transpose(1, 2).contiguous() if self.transpose else x
                splits[f"y_{split}"] = y.contiguous()
            shutil.rmtree(raw)
        return _checked(spec, splits)


def pinned_class(name: str, files) -> type:
    """torchvision's dataset class ``name`` checking the archives against ``files``' MD5s, with no mirror to
    reach: its download finds each verified archive in place and only extracts it."""
    from torchvision import datasets

    cls = getattr(datasets, name)
    md5 = lambda url, known: files.get(os.path.basename(url), known)  # noqa: E731
    attrs: dict[str, Any] = {"mirrors": ["file:///nonexistent/"]}
    if isinstance(cls.resources, dict):
        attrs["resources"] = {k: [(u, md5(u, m)) for u, m in v] for k, v in cls.resources.items()}
    else:
        attrs["resources"] = [(u, md5(u, m)) for u, m in cls.resources]
    if isinstance(getattr(cls, "url", None), str):
        attrs["md5"] = md5(cls.url, getattr(cls, "md5", None))
    return type(cls.__name__, (cls,), attrs)


def _checked(spec, splits: dict, where: str = "") -> dict:
    """Refuse labels outside the spec's classes (a label the model has no output for)."""
    for key in [k for k in splits if k.startswith("y_")]:
        y = splits[key]
        if len(y) and (int(y.min()) < 0 or int(y.max()) >= len(spec.classes)):
            raise DataError(
                f"{where or spec.name}: {key} holds labels {int(y.min())}..{int(y.max())}, outside the "
                f"{len(spec.classes)} classes of {spec.name}"
            )
    return splits
