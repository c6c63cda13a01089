"""One measurement path: every runner returns a ``TimedCall``; ``measure`` times it and records it.

Clock rules (pytest-benchmark reads the clock around each call): a timed call does its
own work and synchronises the device before it returns, so queued GPU work is inside the
clock; warm-up (lazy initialisation, compilation) happens before the first timed round.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .groups import Group

if TYPE_CHECKING:
    from .record import BenchmarkRecord
    from .session import Suite
    from .weights import Trained


@dataclass(frozen=True)
class TimedCall:
    """A warmed-up callable, how often to time it, and what one call does."""

    run: Callable[[], object]
    rounds: int
    warmup_rounds: int
    images: int  # images one call processes (steps x batch for training)
    flops_per_image: int
    fields: Mapping[str, Any] = field(default_factory=dict)  # record fields the runner fixes (batch, steps...)

    def summary(self, round_times: list[float], group: Group) -> dict[str, Any]:
        """Median-based rates from the rounds' times (empty when timing was disabled)."""
        if not round_times:
            return {}
        rate = self.images / float(np.median(round_times))
        out = {"images_per_s": rate, "achieved_flops": rate * self.flops_per_image, "round_times_s": round_times}
        if group is Group.LATENCY:
            out.update(latency_p50_ms=percentile_ms(round_times, 50), latency_p99_ms=percentile_ms(round_times, 99))
        return out


def percentile_ms(round_times: list[float], q: float) -> float:
    return float(np.percentile(round_times, q, method="higher")) * 1e3


def measure(benchmark, suite: Suite, group: Group, case: tuple, trained: Trained, call: TimedCall) -> BenchmarkRecord:
    """Time ``call`` under pytest-benchmark, summarise its rounds and save the record in ``extra_info``."""
    spec, seed = case
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
