"""The dataset registry: a user's IDX or .npz dataset, KMNIST/QMNIST/EMNIST from generated official-format files,
and no branch on a dataset's name outside its entry."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mnist_models import DatasetSpec, get_dataset, list_datasets, register_dataset
from mnist_models.data import registry
from mnist_models.data.dataset import DataError, fetch_dataset, load_dataset
from mnist_models.data.formats import IdxFiles, NpzFile
from mnist_models.data.registry import class_word, unregister_dataset
from mnist_models.data.routes import Folder

PACKAGE = Path(__file__).resolve().parents[2] / "mnist_models"


def _images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 28, 28), dtype=np.uint8)


def _labels(n: int) -> np.ndarray:
    return (np.arange(n) % 10).astype(np.uint8)


def _idx(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """An IDX file: magic (0, 0, type, ndim), each dimension as a big-endian int32, then the data."""
    big = array.astype(array.dtype.newbyteorder(">"))
    return (
        struct.pack(">I", (type_code << 8) | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + big.tobytes()
    )


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def registered(monkeypatch):
    """Register specs for one test; each is removed after it."""
    names = []

    def add(spec: DatasetSpec) -> DatasetSpec:
        registered = register_dataset(spec)
        names.append(spec.name)  # only once registered: a refused clash leaves the built-in in place
        return registered

    yield add
    for name in names:
        unregister_dataset(name)


def test_a_users_idx_folder_registers_loads_and_is_checked(tmp_path, registered):
    folder = tmp_path / "mine"
    folder.mkdir()
    files = {"train-images-idx3-ubyte": _idx(_images(100)), "train-labels-idx1-ubyte": _idx(_labels(100)),
             "t10k-images-idx3-ubyte": _idx(_images(30, 1)), "t10k-labels-idx1-ubyte": _idx(_labels(30))}  # fmt: skip
    for name, data in files.items():
        (folder / f"{name}.gz").write_bytes(gzip.compress(data))  # gzipped, as the official files are
    spec = registered(DatasetSpec("mine", tuple("abcdefghij"), IdxFiles(), files=dict.fromkeys(files),
                                  routes=(Folder((str(folder),)),), class_word="letter", val_size=20))  # fmt: skip
    assert "mine" in list_datasets()
    assert class_word("mine") == "letter"
    data = load_dataset("mine", tmp_path / "root")
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (80, 20, 30)
    assert data.classes == spec.classes
    assert data.x_train.shape[1:] == (1, 28, 28)
    assert np.bincount(data.y_val.numpy()).tolist() == [2] * 10  # stratified
    labels = tmp_path / "root" / "mine" / "raw" / "t10k-labels-idx1-ubyte"
    labels.write_bytes(_idx(_labels(30))[:-3])  # unpinned files are still checked for their format
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte: 35 bytes, expected 38"):
        load_dataset("mine", tmp_path / "root", download=False)
    labels.write_bytes(_idx(_labels(29)))  # well-formed, but not one label per test image
    with pytest.raises(DataError, match=r"30 test images but 29 labels"):
        load_dataset("mine", tmp_path / "root", download=False)


def test_a_users_npz_with_its_own_validation_split(tmp_path, registered):
    arrays = {"x_train": _images(50), "y_train": _labels(50), "x_val": _images(20, 2), "y_val": _labels(20),
              "x_test": _images(30, 3), "y_test": _labels(30)}  # fmt: skip
    np.savez(tmp_path / "toy.npz", **arrays)
    pinned = _md5((tmp_path / "toy.npz").read_bytes())
    registered(DatasetSpec("toy", tuple(map(str, range(10))), NpzFile("toy.npz"), files={"toy.npz": pinned},
                           routes=(Folder((str(tmp_path),)),), normalization=(0.5, 0.25)))  # fmt: skip
    data = load_dataset("toy", tmp_path / "root", normalize=True)
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (50, 20, 30)
    assert np.array_equal(data.y_val.numpy(), arrays["y_val"])
    assert data.normalization == (0.5, 0.25)
    assert data.x_val.flatten()[0].item() == pytest.approx((arrays["x_val"].flatten()[0] / 255 - 0.5) / 0.25)
    np.savez(tmp_path / "toy.npz", **{**arrays, "y_test": _labels(30)[::-1]})  # other content, same name
    with pytest.raises(DataError, match="checksum mismatch"):
        fetch_dataset("toy", tmp_path / "other", source_dir=tmp_path)


def test_an_npz_without_a_split_or_with_bad_labels_is_named(tmp_path, registered):
    np.savez(tmp_path / "bad.npz", x_train=_images(20), y_train=_labels(20) + 5, x_test=_images(10), y_test=_labels(10))
    registered(DatasetSpec("bad", tuple(map(str, range(10))), NpzFile("bad.npz"), files={"bad.npz": None},
                           routes=(Folder((str(tmp_path),)),), val_size=10))  # fmt: skip
    with pytest.raises(DataError, match=r"y_train holds labels 5\.\.14, outside the 10 classes"):
        fetch_dataset("bad", tmp_path / "root")
    np.savez(tmp_path / "bad.npz", x_train=_images(20), y_train=_labels(20))
    with pytest.raises(DataError, match="no x_test, y_test in it"):
        fetch_dataset("bad", tmp_path / "root")


def test_a_clash_with_a_built_in_names_both(registered):
    with pytest.raises(ValueError, match=r"dataset 'mnist' from module .*clashes with .*mnist_models built-ins"):
        registered(DatasetSpec("mnist", ("a",) * 10, NpzFile("x.npz"), files={"x.npz": None}))
    assert get_dataset("mnist").class_word == "digit"  # the built-in stands


# --- KMNIST, QMNIST, EMNIST's digits: torchvision's readers on generated official-format files ----------------


def _kmnist_files() -> dict[str, bytes]:
    return {"train-images-idx3-ubyte.gz": gzip.compress(_idx(_images(60))),
            "train-labels-idx1-ubyte.gz": gzip.compress(_idx(_labels(60))),
            "t10k-images-idx3-ubyte.gz": gzip.compress(_idx(_images(20, 1))),
            "t10k-labels-idx1-ubyte.gz": gzip.compress(_idx(_labels(20)))}  # fmt: skip


def _qmnist_files() -> dict[str, bytes]:
    rows = lambda n: np.stack([_labels(n).astype(np.int32)] + [np.arange(n, dtype=np.int32)] * 7, axis=1)  # noqa: E731
    return {"qmnist-train-images-idx3-ubyte.gz": gzip.compress(_idx(_images(60))),
            "qmnist-train-labels-idx2-int.gz": gzip.compress(_idx(rows(60), 0x0C)),  # 8 int32 figures a row
            "qmnist-test-images-idx3-ubyte.gz": gzip.compress(_idx(_images(20, 1))),
            "qmnist-test-labels-idx2-int.gz": gzip.compress(_idx(rows(20), 0x0C))}  # fmt: skip


def _emnist_files() -> dict[str, bytes]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for split, n, seed in (("train", 60, 0), ("test", 20, 1)):
            zf.writestr(f"gzip/emnist-digits-{split}-images-idx3-ubyte.gz", gzip.compress(_idx(_images(n, seed))))
            zf.writestr(f"gzip/emnist-digits-{split}-labels-idx1-ubyte.gz", gzip.compress(_idx(_labels(n))))
    return {"gzip.zip": buffer.getvalue()}


@pytest.mark.parametrize(("name", "make"), [("kmnist", _kmnist_files), ("qmnist", _qmnist_files),
                                            ("emnist-digits", _emnist_files)])  # fmt: skip
def test_torchvision_sets_from_a_folder_of_official_files(name, make, tmp_path, monkeypatch):
    from dataclasses import replace

    files = make()
    folder = tmp_path / "downloads"
    folder.mkdir()
    for file, data in files.items():
        (folder / file).write_bytes(data)
    spec = get_dataset(name)
    assert set(spec.files) == set(files)
    # the generated files stand for the official ones: pin their MD5s in place of the real table's
    monkeypatch.setitem(
        registry.REGISTRY._specs, name, replace(spec, files={f: _md5(d) for f, d in files.items()}, val_size=10)
    )
    with pytest.raises(DataError, match=r"Tried:\n  - nothing"):
        fetch_dataset(name, tmp_path / "root", skip_mirrors=True)  # no mirrors, no folder: one error, the advice
    fetch_dataset(name, tmp_path / "root", source_dir=folder)
    data = load_dataset(name, tmp_path / "root", download=False)
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (50, 10, 20)
    assert sorted(data.y_test.tolist()) == sorted(_labels(20).tolist())
    expected = _images(20, 1).transpose(0, 2, 1) if name == "emnist-digits" else _images(20, 1)
    assert np.array_equal((data.x_test[:, 0] * 255).round().byte().numpy(), expected)
    (tmp_path / "root" / spec.folder / "raw" / next(iter(files))).write_bytes(b"tampered")
    with pytest.raises(DataError, match="checksum mismatch"):
        load_dataset(name, tmp_path / "root", download=False)


def test_the_torchvision_sets_pin_torchvisions_own_checksums():
    from torchvision import datasets

    table = {"kmnist": dict(datasets.KMNIST.resources),
             "qmnist": {Path(u).name: m for u, m in [*datasets.QMNIST.resources["train"], *datasets.QMNIST.resources["test"]]},
             "emnist-digits": {"gzip.zip": datasets.EMNIST.md5}}  # fmt: skip
    for name, files in table.items():
        assert dict(get_dataset(name).files) == files, name


# --- Nothing outside a dataset's entry branches on its name ---------------------------------------------------


def test_no_branch_on_a_dataset_name_outside_its_entry():
    names = "|".join(re.escape(n) for n in list_datasets())
    quoted = rf"""["'](?:{names})["']"""
    branch = re.compile(rf"""(?:[=!]=\s*{quoted}|{quoted}\s*[=!]=|\bin\s*[(\[{{][^)\]}}]*{quoted}|case\s+{quoted})""")
    found = [f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}"
             for path in PACKAGE.rglob("*.py") if "entries" not in path.relative_to(PACKAGE).parts
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if branch.search(line)]  # fmt: skip
    assert not found, "branches on a dataset's name outside mnist_models/data/entries/:\n" + "\n".join(found)


def test_an_unregistered_dataset_is_refused_when_the_session_resolves():
    from mnist_models.bench.session import SettingsError, resolve
    from mnist_models.bench.settings import SuiteSettings, parse_dataset

    assert parse_dataset("toy") == "toy"  # any name parses: a conftest may register it after options are read
    with pytest.raises(SettingsError, match=r"unknown dataset 'nope'; choose one of: mnist, fashion-mnist"):
        resolve(SuiteSettings(dataset="nope", models=("linear",), device="cpu"))
