"""One measurement path: ``measure`` times a runner's ``TimedCall`` under pytest-benchmark and records it.

Clock rules (pytest-benchmark reads the clock around each call): a timed call does its
own work and synchronises the device before it returns, so queued GPU work is inside the
clock; warm-up (lazy initialisation, compilation) happens before the first timed round.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .groups import Group

if TYPE_CHECKING:
    from .record import BenchmarkRecord
    from .runners import TimedCall
    from .session import Suite
    from .weights import Trained


def measure(benchmark, suite: Suite, group: Group, case: tuple, trained: Trained, call: TimedCall) -> BenchmarkRecord:
    """Time ``call`` under pytest-benchmark, summarise its rounds and save the record in ``extra_info``."""
    spec, seed = case
    call = call.slowed(suite.config.slowdown)
    benchmark.pedantic(call.run, rounds=call.rounds, warmup_rounds=call.warmup_rounds)
    times = list(benchmark.stats.stats.data) if benchmark.stats else []  # empty with --benchmark-disable
    record = suite.record(group, spec, seed, trained, **call.fields, **call.summary(times, group))
    benchmark.extra_info.update(record.to_json())  # saved even when the case then fails its floor
    return record


def measure_training(benchmark, suite: Suite, case: tuple) -> BenchmarkRecord:
    """Time one whole training run (a fresh model, warmed up outside the clock) and record it."""
    spec, seed = case
    weights = suite.weights
    result = benchmark.pedantic(
        weights.run_training, setup=lambda: ((spec, seed, *weights.prepare_training(spec, seed)), {}), rounds=1
    )
    trained = weights.finish_training(spec, seed, result)
    world = suite.config.world
    rate = len(suite.data.y_train) * result.epochs_run / result.train_time_s  # every process together
    record = suite.record(
        Group.TRAIN,
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
    benchmark.extra_info.update(record.to_json())
    return record
