"""The benchmark suite: one parametrized case per architecture and seed, in five groups.

Run with ``pytest benchmarks --benchmark-only``; options are listed under
"mnist-models" in ``pytest --help``.
"""

from __future__ import annotations

import pytest

from mnist_models.suite import percentile_ms, timing_summary


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
    record = mnist_suite.record(
        "train",
        spec,
        seed,
        trained,
        batch_size=result.config.batch_size,
        images_per_s=len(mnist_suite.data.y_train) * result.epochs_run / result.train_time_s,
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
