"""The benchmark suite's cases: one parametrized test per group, for any pytest project to collect.

``benchmarks/test_mnist.py`` of this checkout imports them, and so can a test module of
your own project (``from mnist_models.bench.cases import *``), next to the ``conftest.py``
that registers your architectures: pytest then collects the suite there, with your conftest.
Each case asks for the plugin's fixtures (``mnist_case``, ``mnist_suite``,
``trained_model``); options are listed under "mnist-models" in ``pytest --help``. The
``levers`` group runs only with ``--mnist-levers``. Each body is one ``TimedCall``
measured by ``measure`` (see ``mnist_models.bench.timing``) and a floor check.
"""

from __future__ import annotations

import pytest

from .groups import Group
from .levers import LEVER_NAMES, get_lever
from .timing import measure, measure_training

__all__ = ["test_engine", "test_latency", "test_levers", "test_throughput", "test_train", "test_train_step"]


def _check_floor(record) -> None:
    assert record.floor_passed, record.floor_message()


@pytest.mark.benchmark(group=Group.TRAIN.value)
def test_train(benchmark, mnist_case, mnist_suite):
    """The whole training run of the profile, timed once (validation included, test evaluation not)."""
    _check_floor(measure_training(benchmark, mnist_suite, mnist_case))


@pytest.mark.benchmark(group=Group.TRAIN_STEP.value)
def test_train_step(benchmark, mnist_case, mnist_suite, trained_model):
    """Training throughput: rounds of a fixed number of optimiser steps on a fresh model."""
    call = mnist_suite.runners.train_step(*mnist_case)
    _check_floor(measure(benchmark, mnist_suite, Group.TRAIN_STEP, mnist_case, trained_model, call))


@pytest.mark.benchmark(group=Group.LATENCY.value)
def test_latency(benchmark, mnist_case, mnist_suite, trained_model):
    """Batch-1 inference on the trained weights; p50 and p99 over many rounds."""
    call = mnist_suite.runners.latency(*mnist_case, trained_model.model)
    _check_floor(measure(benchmark, mnist_suite, Group.LATENCY, mnist_case, trained_model, call))


@pytest.mark.benchmark(group=Group.THROUGHPUT.value)
def test_throughput(benchmark, mnist_case, mnist_suite, trained_model):
    """Batched inference on the trained weights, in images per second."""
    call = mnist_suite.runners.throughput(*mnist_case, trained_model.model)
    _check_floor(measure(benchmark, mnist_suite, Group.THROUGHPUT, mnist_case, trained_model, call))


@pytest.mark.benchmark(group=Group.ENGINE.value)
@pytest.mark.parametrize("loop", ["notebook", "ours"])
def test_engine(benchmark, mnist_case, mnist_suite, trained_model, loop):
    """Our training loop against a faithful notebook-style loop: same model, data, batch size and steps.
    The report divides the two rates."""
    call = mnist_suite.runners.engine(*mnist_case, loop)
    _check_floor(measure(benchmark, mnist_suite, Group.ENGINE, mnist_case, trained_model, call))


@pytest.mark.mnist_levers
@pytest.mark.benchmark(group=Group.LEVERS.value)
@pytest.mark.parametrize("lever_name", LEVER_NAMES)
def test_levers(benchmark, mnist_case, mnist_suite, trained_model, lever_name):
    """One variant of the train-step or throughput case (see mnist_models.bench.levers); the report
    divides its rate by the unchanged case's."""
    lever = get_lever(lever_name)
    settings = mnist_suite.config.train_config(*mnist_case)
    why_not = lever.applies(trained_model.model, mnist_suite.config.threads, settings.precision, settings.compile)
    if why_not:
        pytest.skip(f"{lever.name}: {why_not}")
    call = mnist_suite.runners.lever(*mnist_case, trained_model.model, lever)
    measure(benchmark, mnist_suite, Group.LEVERS, mnist_case, trained_model, call)
