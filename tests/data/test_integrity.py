"""The kept splits file is verified on every load: a flipped byte is rebuilt from the raw files, with one warning."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest
import torch

from mnist_models.data import dataset
from mnist_models.data.dataset import DataWarning, load_dataset
from mnist_models.data.sources import DATASETS, raw_dir

MNIST = DATASETS["mnist"]


@pytest.fixture
def kept(data_root, tmp_path):
    """A private data root with its splits file made, and the clean load it came from."""
    shutil.copytree(raw_dir(data_root[0], MNIST), raw_dir(tmp_path, MNIST))
    clean = load_dataset("mnist", tmp_path, download=False)
    [path] = (tmp_path / "MNIST" / "splits").glob("*.pt")
    return tmp_path, path, clean


def _flip(path, needle: bytes, at: int, to: int | None = None) -> None:
    """Change the byte ``at`` of the first occurrence of ``needle`` in the file (to ``to``, else its low bit)."""
    blob = bytearray(path.read_bytes())
    start = blob.find(needle)
    assert blob.count(needle) == 1, "the bytes to damage must be found once"
    blob[start + at] = to if to is not None else blob[start + at] ^ 1
    path.write_bytes(bytes(blob))


def _labels(clean) -> bytes:
    return clean.y_test[:16].numpy().astype(np.int64).tobytes()  # the first test labels: 7, 2, 1, 0, ...


def _pixels(clean) -> bytes:
    return (clean.x_test[0, 0] * 255).round().to(torch.uint8).numpy().tobytes()  # the first test image


@pytest.mark.parametrize(
    ("what", "needle", "at", "to"),
    [("label", _labels, 0, 6), ("pixel", _pixels, 14 * 28 + 14, None)],  # label 7 -> 6; a pixel's low bit
)
def test_a_flipped_byte_in_the_kept_splits_is_rebuilt_with_one_warning(kept, what, needle, at, to):
    root, path, clean = kept
    key = "y_test" if what == "label" else "x_test"
    before = torch.load(path, weights_only=True)[key]
    _flip(path, needle(clean), at, to)
    damaged = torch.load(path, weights_only=True)[key]  # torch reads the damaged file without a word...
    assert not torch.equal(damaged, before)
    if what == "label":
        assert (int(before[0]), int(damaged[0])) == (7, 6)
    with pytest.warns(DataWarning) as caught:
        again = load_dataset("mnist", root, download=False)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert str(path) in message
    assert "does not match its SHA-256 digest" in message
    assert "made again from the verified raw files" in message
    for field in ("x_test", "y_test", "x_train", "y_train"):
        assert torch.equal(getattr(again, field), getattr(clean, field))
    assert again.content == clean.content
    with warnings.catch_warnings():  # the rebuilt file is clean: no warning the next time
        warnings.simplefilter("error", DataWarning)
        load_dataset("mnist", root, download=False)


def test_a_kept_split_without_digests_is_not_trusted(kept, monkeypatch):
    root, path, clean = kept
    split = torch.load(path, weights_only=True)
    del split[dataset.DIGESTS]  # as an older mnist-models wrote it
    split["y_test"] = split["y_test"].flip(0)  # and unnoticed damage inside
    torch.save(split, path)
    with pytest.warns(DataWarning, match="without digests"):
        again = load_dataset("mnist", root, download=False)
    assert torch.equal(again.y_test, clean.y_test)


def test_the_content_digest_names_the_tensors_a_session_uses(kept):
    root, _, clean = kept
    assert len(clean.content) == 16
    assert load_dataset("mnist", root, download=False).content == clean.content
    small, other = clean.subset(train=500, val=100, test=200), clean.subset(train=500, val=100, test=200, seed=1)
    assert len({clean.content, small.content, other.content}) == 3
    assert clean.subset(train=500, val=100, test=200).content == small.content
