"""The ``levers`` group's runner: the train-step or throughput work with one engine setting changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import torch

from ...bench.context import RunContext
from ...bench.plan import Case
from ...bench.runners import runner_for
from ...bench.timing import NotApplicable, TimedCall
from .levers import get_lever


def run(context: RunContext, case: Case, name: str) -> TimedCall:
    """One levers-group variant of the work of the lever's group (its runner, handed the lever); its thread
    count, if any, is set for each call and restored after it."""
    chosen = get_lever(name)
    config = case.training.config
    model = context.weights.get(case).model
    why_not = chosen.applies(model, context.plan.threads, config.precision, config.compile)
    if why_not:
        raise NotApplicable(f"{chosen.name}: {why_not}")
    call = runner_for(chosen.group)(context, case, None, lever=chosen)
    call_run = call.run if chosen.threads is None else _with_threads(call.run, chosen.threads)
    fields = {
        **call.fields,
        "lever": chosen.name,
        "lever_baseline": chosen.baseline,
        "threads": chosen.threads or context.plan.threads,
    }
    return replace(call, run=call_run, fields=fields)


def _with_threads(run: Callable[[], object], threads: int) -> Callable[[], object]:
    def with_threads() -> object:
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return run()
        finally:
            torch.set_num_threads(before)

    return with_threads
