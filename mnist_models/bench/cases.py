"""The benchmark suite's cases: one parametrized test per concern, for any pytest project to collect.

``benchmarks/test_mnist.py`` of this checkout imports them, and so can a test module of
your own project (``from mnist_models.bench.cases import *``), next to the ``conftest.py`` that
registers your architectures: pytest then collects the suite there, with your conftest.
Each case asks for the plugin's fixtures (``mnist_case``, ``mnist_suite``,
``trained_model``); options are listed under "mnist-models" in ``pytest --help``. The
``levers`` group runs only with ``--mnist-levers``.
"""

from __future__ import annotations

import pytest

from .levers import LEVER_NAMES, get_lever
from .session import percentile_ms, timing_summary

__all__ = ["test_engine", "test_latency", "test_levers", "test_throughput", "test_train", "test_train_step"]


def _round_times(benchmark) -> list[float]:
    return list(benchmark.stats.stats.data) if benchmark.stats else []  # empty with --benchmark-disable


def _check_floor(benchmark, record) -> None:
    benchmark.extra_info.update(record.to_json())  # saved even when the assertion below fails
    assert record.floor_passed, record.floor_message()


@pytest.mark.benchmark(group="train")
def test_train(benchmark, mnist_case, mnist_suite):
    """The whole training run of the profile, timed once (validation included, test evaluation not)."""
    spec, seed = mnist_case
    result = benchmark.pedantic(
        mnist_suite.run_training, setup=lambda: ((spec, seed, *mnist_suite.prepare_training(spec, seed)), {}), rounds=1
    )
    trained = mnist_suite.finish_training(spec, seed, result)
    world = mnist_suite.config.world
    rate = len(mnist_suite.data.y_train) * result.epochs_run / result.train_time_s  # every process together
    record = mnist_suite.record(
        "train",
        spec,
        seed,
        trained,
        batch_size=result.config.batch_size,
        images_per_s=rate,
        images_per_s_per_process=rate / world.size,
        world_size=world.size,
        backend=world.backend,
        compile_time_s=result.compile_time_s,
    )
    _check_floor(benchmark, record)


@pytest.mark.benchmark(group="train-step")
def test_train_step(benchmark, mnist_case, mnist_suite, trained_model):
    """Training throughput: rounds of a fixed number of optimiser steps on a fresh model."""
    spec, seed = mnist_case
    run, steps, batch, compile_time = mnist_suite.step_runner(spec, seed)
    benchmark.pedantic(run, rounds=mnist_suite.config.profile.step_rounds, warmup_rounds=1)
    timing = timing_summary(_round_times(benchmark), steps * batch, mnist_suite.facts(spec)[2])
    record = mnist_suite.record("train-step", spec, seed, trained_model, batch_size=batch, steps_per_round=steps,
                                compile_time_s=compile_time, **timing)  # fmt: skip
    _check_floor(benchmark, record)


@pytest.mark.benchmark(group="latency")
def test_latency(benchmark, mnist_case, mnist_suite, trained_model):
    """Batch-1 inference on the trained weights; p50 and p99 over many rounds."""
    spec, seed = mnist_case
    run, compile_time = mnist_suite.inference_runner(trained_model.model, 1, mnist_suite.train_config(spec, seed))
    benchmark.pedantic(run, rounds=mnist_suite.config.profile.latency_rounds, warmup_rounds=10)
    times = _round_times(benchmark)
    timing = timing_summary(times, 1, mnist_suite.facts(spec)[1])
    record = mnist_suite.record(
        "latency",
        spec,
        seed,
        trained_model,
        batch_size=1,
        latency_p50_ms=percentile_ms(times, 50),
        latency_p99_ms=percentile_ms(times, 99),
        compile_time_s=compile_time,
        **timing,
    )
    _check_floor(benchmark, record)


@pytest.mark.benchmark(group="throughput")
def test_throughput(benchmark, mnist_case, mnist_suite, trained_model):
    """Batched inference on the trained weights, in images per second."""
    spec, seed = mnist_case
    batch = mnist_suite.config.profile.throughput_batch
    run, compile_time = mnist_suite.inference_runner(trained_model.model, batch, mnist_suite.train_config(spec, seed))
    benchmark.pedantic(run, rounds=mnist_suite.config.profile.throughput_rounds, warmup_rounds=2)
    timing = timing_summary(_round_times(benchmark), batch, mnist_suite.facts(spec)[1])
    record = mnist_suite.record(
        "throughput", spec, seed, trained_model, batch_size=batch, compile_time_s=compile_time, **timing
    )
    _check_floor(benchmark, record)


@pytest.mark.benchmark(group="engine")
@pytest.mark.parametrize("loop", ["notebook", "ours"])
def test_engine(benchmark, mnist_case, mnist_suite, trained_model, loop):
    """Our training loop against a faithful notebook-style loop: same model, data, batch size and steps."""
    spec, seed = mnist_case
    run, steps, batch, _ = mnist_suite.engine_runner(spec, seed, loop)
    benchmark.pedantic(run, rounds=mnist_suite.config.profile.step_rounds, warmup_rounds=1)
    timing = timing_summary(_round_times(benchmark), steps * batch, mnist_suite.facts(spec)[2])
    speedup = mnist_suite.engine_speedup(spec, seed, loop, timing.get("images_per_s"))
    record = mnist_suite.record("engine", spec, seed, trained_model, batch_size=batch, steps_per_round=steps,
                                engine_loop=loop, engine_speedup=speedup, **timing)  # fmt: skip
    _check_floor(benchmark, record)


@pytest.mark.mnist_levers
@pytest.mark.benchmark(group="levers")
@pytest.mark.parametrize("lever_name", LEVER_NAMES)
def test_levers(benchmark, mnist_case, mnist_suite, trained_model, lever_name):
    """One variant of the train-step or throughput case (see mnist_models.bench.levers)."""
    spec, seed = mnist_case
    lever = get_lever(lever_name)
    config = mnist_suite.config
    settings = mnist_suite.train_config(spec, seed)
    why_not = lever.applies(trained_model.model, config.threads, settings.precision, settings.compile)
    if why_not:
        pytest.skip(f"{lever.name}: {why_not}")
    run, fields = mnist_suite.lever_runner(spec, seed, trained_model, lever)
    rounds = config.profile.step_rounds if lever.case == "train-step" else config.profile.throughput_rounds
    benchmark.pedantic(run, rounds=rounds, warmup_rounds=1)
    timing = timing_summary(_round_times(benchmark), fields.pop("images_per_round"), fields.pop("flops_per_image"))
    ratio = mnist_suite.lever_ratio(spec, seed, lever, timing.get("images_per_s"))
    record = mnist_suite.record("levers", spec, seed, trained_model, lever=lever.name, lever_ratio=ratio,
                                threads=lever.threads or config.threads, **fields, **timing)  # fmt: skip
    benchmark.extra_info.update(record.to_json())
