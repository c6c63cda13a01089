"""The ``engine`` group's runner: our loop's train-step work, or the notebook-style loop's, on the same model."""

from __future__ import annotations

from dataclasses import replace

from ...bench.context import RunContext
from ...bench.plan import Case
from ...bench.timing import TimedCall
from ..train_step import runner as train_step
from .notebook import notebook_step_runner
from .spec import SPEC


def run(context: RunContext, case: Case, loop: str) -> TimedCall:
    """Our engine (``loop="ours"``) or the notebook-style loop: same model, data, steps and batch size."""
    if loop == "ours":
        call = train_step.run(context, case)
        return replace(call, fields={**call.fields, "engine_loop": loop})
    plan = context.plan
    steps, batch = train_step.steps_per_round(context, case), case.training.config.batch_size
    x, y = context.data.x_train, context.data.y_train
    call = notebook_step_runner(plan.fresh_model(case), x, y, steps, batch, case.seed, plan.device)
    fields = {"batch_size": batch, "steps_per_round": steps, "engine_loop": loop}
    return TimedCall(call, context.rounds(SPEC), 1, steps * batch, context.facts(case).flops_train_step, fields)
