"""The ``train-step`` group's runner: a fixed number of optimiser steps per call on a fresh model."""

from __future__ import annotations

from typing import Any

import torch

from ...bench.context import RunContext
from ...bench.plan import Case
from ...bench.timing import TimedCall
from ...data.dataset import gather, iterate_batches
from ...training.device import synchronize
from ...training.stepper import make_stepper
from .spec import NAME, SPEC


def steps_per_round(context: RunContext, case: Case) -> int:
    """Optimiser steps per train-step round: about ``step_target_flop`` of work, 2 to 50 steps."""
    per_step = max(context.facts(case).flops_train_step * case.training.config.batch_size, 1)
    return int(min(50, max(2, round(context.plan.profile.step_target_flop / per_step))))


def run(context: RunContext, case: Case, variant=None, lever: Any = None) -> TimedCall:
    """A fixed number of optimiser steps per call on a fresh model, warmed up.

    Batches cycle through one seeded shuffle of the training split and are gathered inside
    the clock; the learning rate stays constant; a ``lever`` changes one setting (the levers group).
    """
    training = case.training.with_layer(f"group {NAME}", {"schedule": "constant"})
    if lever is not None:
        training = training.with_layer(f"lever {lever.name}", lever.train)
    config, plan, data = training.config, context.plan, context.data
    stepper = make_stepper(plan.fresh_model(case), data, config, warm_up=False)
    x = data.x_train.contiguous(memory_format=config.memory_format)
    y = data.y_train
    batch = config.batch_size
    pool = list(iterate_batches(len(y), batch, torch.Generator().manual_seed(case.seed), plan.device))
    pool = [b for b in pool if len(b) == batch] or pool
    stepper.warm_up(x, y, [batch])
    steps, position = steps_per_round(context, case), [0]

    def call() -> None:
        start = position[0]
        stepper.run(gather(x, y, pool[(start + i) % len(pool)]) for i in range(steps))
        position[0] = (start + steps) % len(pool)
        synchronize(plan.device)

    fields = {
        "batch_size": batch,
        "steps_per_round": steps,
        "compile_time_s": stepper.compile_time_s,
        "precision": config.precision,
        "compiled": config.compile,
        "settings": training.record(),
    }
    return TimedCall(call, context.rounds(SPEC), 1, steps * batch, context.facts(case).flops_train_step, fields)
