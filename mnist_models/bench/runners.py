"""The timed calls of each group, built and warmed up outside any clock: one ``TimedCall`` each."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data.dataset import MNISTData, gather, iterate_batches
from ..models.facts import ModelFacts
from ..models.registry import ModelSpec
from ..training.device import autocast, synchronize
from ..training.stepper import compile_model, make_stepper
from .config import SuiteConfig
from .groups import Group
from .levers import Lever


@dataclass(frozen=True)
class TimedCall:
    """A warmed-up callable, how often to time it, and what one call does."""

    run: Callable[[], object]
    rounds: int
    warmup_rounds: int
    images: int  # images one call processes (steps x batch for training)
    flops_per_image: int
    fields: Mapping[str, Any] = field(default_factory=dict)  # record fields the runner fixes (batch, steps...)

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

        def run_slower() -> object:
            start = time.perf_counter()
            out = run()
            deadline = time.perf_counter() + fraction * (time.perf_counter() - start)
            while time.perf_counter() < deadline:
                pass
            return out

        return replace(self, run=run_slower, fields={**self.fields, "slowdown": fraction})

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


class Runners:
    """Builds each group's ``TimedCall`` for a (model, seed) from the session's config and data."""

    def __init__(self, config: SuiteConfig, data: MNISTData, facts: Callable[[ModelSpec], ModelFacts]) -> None:
        self.config = config
        self.data = data
        self.facts = facts

    def steps_per_round(self, spec: ModelSpec) -> int:
        """Optimiser steps per train-step round: about ``step_target_flop`` of work, 2 to 50 steps."""
        batch = self.config.train_config(spec, 0).batch_size
        per_step = max(self.facts(spec).flops_train_step * batch, 1)
        return int(min(50, max(2, round(self.config.profile.step_target_flop / per_step))))

    def train_step(
        self, spec: ModelSpec, seed: int, overrides: dict | None = None, switches: dict | None = None
    ) -> TimedCall:
        """A fixed number of optimiser steps per call on a fresh model, warmed up.

        Batches cycle through one seeded shuffle of the training split and are gathered
        inside the clock; ``overrides`` change the training config and ``switches`` the
        stepper's attributes (the levers group).
        """
        config = self.config.train_config(spec, seed).updated({"schedule": "constant", **(overrides or {})})
        stepper = make_stepper(self.config.fresh_model(spec, seed), self.data, config, warm_up=False)
        for name, value in (switches or {}).items():
            setattr(stepper, name, value)
        x, y = self.data.x_train.contiguous(memory_format=config.memory_format), self.data.y_train
        pool = list(iterate_batches(len(y), config.batch_size, torch.Generator().manual_seed(seed), self.config.device))
        pool = [b for b in pool if len(b) == config.batch_size] or pool
        stepper.warm_up(x, y, [config.batch_size])
        steps, position, device = self.steps_per_round(spec), [0], self.config.device

        def run() -> None:
            start = position[0]
            stepper.run(gather(x, y, pool[(start + i) % len(pool)]) for i in range(steps))
            position[0] = (start + steps) % len(pool)
            synchronize(device)

        fields = {
            "batch_size": config.batch_size,
            "steps_per_round": steps,
            "compile_time_s": stepper.compile_time_s,
            "precision": config.precision,
            "compiled": config.compile,
        }
        rounds = self.config.profile.step_rounds
        return TimedCall(run, rounds, 1, steps * config.batch_size, self.facts(spec).flops_train_step, fields)

    def engine(self, spec: ModelSpec, seed: int, loop: str) -> TimedCall:
        """Our engine (``loop="ours"``) or the notebook-style loop: same model, data, steps and batch size."""
        if loop == "ours":
            call = self.train_step(spec, seed)
            return replace(call, fields={**call.fields, "engine_loop": loop})
        from ..training.notebook import notebook_step_runner

        steps, batch = self.steps_per_round(spec), self.config.train_config(spec, seed).batch_size
        x, y = self.data.x_train, self.data.y_train
        run = notebook_step_runner(self.config.fresh_model(spec, seed), x, y, steps, batch, seed, self.config.device)
        fields = {"batch_size": batch, "steps_per_round": steps, "engine_loop": loop}
        return TimedCall(
            run, self.config.profile.step_rounds, 1, steps * batch, self.facts(spec).flops_train_step, fields
        )

    def inference(
        self, spec: ModelSpec, seed: int, model: nn.Module, batch_size: int, rounds: int, warmup: int
    ) -> TimedCall:
        """``batch_size`` test images through the trained ``model`` per call, in eval and inference mode.

        Under autocast at the model's training precision and through ``torch.compile`` when
        it trains compiled; the first call, which compiles, happens here, outside any timer.
        """
        config = self.config.train_config(spec, seed)
        model.eval()
        x = self.data.x_test[:batch_size].clone(memory_format=config.memory_format)  # its own copy, as in training
        device, precision = self.config.device, config.precision
        forward = compile_model(model) if config.compile else model

        def run() -> torch.Tensor:
            with torch.inference_mode(), autocast(precision, device):
                out = forward(x)
            synchronize(device)
            return out

        start = time.perf_counter()
        run()  # first call outside the timer: lazy initialisation, compilation
        compile_time = time.perf_counter() - start if config.compile else None
        fields = {"batch_size": batch_size, "compile_time_s": compile_time}
        return TimedCall(run, rounds, warmup, batch_size, self.facts(spec).flops_inference, fields)

    def latency(self, spec: ModelSpec, seed: int, model: nn.Module) -> TimedCall:
        return self.inference(spec, seed, model, 1, self.config.profile.latency_rounds, 10)

    def throughput(self, spec: ModelSpec, seed: int, model: nn.Module, batch_size: int | None = None) -> TimedCall:
        batch = min(batch_size or self.config.profile.throughput_batch, len(self.data.y_test))
        return self.inference(spec, seed, model, batch, self.config.profile.throughput_rounds, 2)

    def lever(self, spec: ModelSpec, seed: int, model: nn.Module, lever: Lever) -> TimedCall:
        """One levers-group variant of the train-step or throughput call; its thread count, if any, is set
        for each call and restored after it."""
        if lever.case == "train-step":
            call = self.train_step(spec, seed, lever.train, lever.stepper)
        else:
            call = replace(self.throughput(spec, seed, model, lever.batch_size), warmup_rounds=1)
        run = call.run if lever.threads is None else _with_threads(call.run, lever.threads)
        return replace(
            call, run=run, fields={**call.fields, "lever": lever.name, "threads": lever.threads or self.config.threads}
        )


def _with_threads(run: Callable[[], object], threads: int) -> Callable[[], object]:
    def with_threads() -> object:
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return run()
        finally:
            torch.set_num_threads(before)

    return with_threads
