"""A runner's ``TimedCall``: what one benchmark times, and how its rounds are summarised.

``Session.measure`` times it under pytest-benchmark, the A/B worker in blocks; both record it
through ``Session.record``.

Clock rules (pytest-benchmark reads the clock around each call): a timed call does its own
work and synchronises the device before it returns, so queued GPU work is inside the clock;
warm-up (lazy initialisation, compilation, conversion) happens before the first timed round.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .weights import Trained


class NotApplicable(Exception):
    """A benchmark that does not apply to this model or session; its message is the reason (a skip)."""


@dataclass(frozen=True)
class TimedCall:
    """A warmed-up callable, how often to time it, and what one call does."""

    run: Callable[..., object]
    rounds: int
    warmup_rounds: int
    images: int  # images one call processes (steps x batch for training); 0: the runner reports its own rate
    flops_per_image: int
    fields: Mapping[str, Any] = field(default_factory=dict)  # record fields the runner fixes (batch, steps...)
    trained: Trained | None = None  # the weights it measures
    setup: Callable[[], tuple[tuple, dict]] | None = None  # before each round, outside the clock (train group)
    finish: Callable[[Any], tuple[Trained, dict[str, Any]]] | None = None  # the train group: weights and fields
    percentiles: bool = False  # record p50 and p99 of the rounds (latency)

    def slowed(self, fraction: float) -> TimedCall:
        """The same call plus ``fraction`` of its own duration in extra real work (``--mnist-slowdown``).

        A known slowdown on demand, to measure whether a gate catches one: after each call
        the host spins on the clock for ``fraction`` of the time the call took, busy on a
        core (not asleep), to within a microsecond even for a 0.3 ms call. (Spinning on
        small matrix products instead overshot by some 0.1 ms per call: a +20% slowdown
        came out as +37% on batch-1 latency.)
        """
        if fraction <= 0:
            return self
        run = self.run

        def run_slower(*args: Any) -> object:
            start = time.perf_counter()
            out = run(*args)
            deadline = time.perf_counter() + fraction * (time.perf_counter() - start)
            while time.perf_counter() < deadline:
                pass
            return out

        return replace(self, run=run_slower, fields={**self.fields, "slowdown": fraction})

    def summary(self, round_times: list[float]) -> dict[str, Any]:
        """Median-based rates from the rounds' times (empty when timing was disabled or the call counts none)."""
        if not round_times or not self.images:
            return {}
        rate = self.images / float(np.median(round_times))
        out = {"images_per_s": rate, "achieved_flops": rate * self.flops_per_image, "round_times_s": round_times}
        if self.percentiles:
            out.update(latency_p50_ms=percentile_ms(round_times, 50), latency_p99_ms=percentile_ms(round_times, 99))
        return out


def percentile_ms(round_times: list[float], q: float) -> float:
    return float(np.percentile(round_times, q, method="higher")) * 1e3
