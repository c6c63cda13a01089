"""Each group's runner: the ``TimedCall`` of one benchmark, built and warmed up outside any clock.

A runner is ``runner(session, case, variant) -> TimedCall`` (``case`` a ``plan.Case``, ``variant``
the group's own parameter or ``None``), bound to its group here with ``register_runner``: the
group's spec (``results.groups``) is data, and this is where its code lives. A group of an
installed package registers its spec and its runner from the same module.
"""

from __future__ import annotations

import resource
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import torch

from ..data.dataset import gather, iterate_batches
from ..results.groups import ENGINE, GROUPS, LATENCY, LEVERS, THROUGHPUT, TRAIN, TRAIN_STEP
from ..runtimes.base import get_runtime
from ..training.device import synchronize
from ..training.notebook import notebook_step_runner
from ..training.stepper import make_stepper
from .levers import Lever, get_lever
from .timing import NotApplicable, TimedCall

if TYPE_CHECKING:
    from .plan import Case
    from .session import Session

Runner = Callable[..., TimedCall]
RUNNERS: dict[str, Runner] = {}


def register_runner(group: str) -> Callable[[Runner], Runner]:
    """Decorator: the function that builds ``group``'s ``TimedCall`` for one case (and variant)."""

    def bind(runner: Runner) -> Runner:
        existing = RUNNERS.get(group)
        if existing is not None and existing is not runner:
            raise ValueError(f"benchmark group {group!r} has a runner already ({existing.__qualname__})")
        RUNNERS[group] = runner
        return runner

    return bind


def runner_for(group: str) -> Runner:
    GROUPS.get(group)  # the group is known (installed packages' groups and runners loaded)
    if group not in RUNNERS:
        raise KeyError(
            f"benchmark group {group!r} has no runner; bind one with @register_runner({group!r}) from "
            "mnist_models.bench.runners, in the module that registers the group"
        )
    return RUNNERS[group]


@register_runner(TRAIN)
def train(session: Session, case: Case, variant=None) -> TimedCall:
    """The profile's whole training run, once; a fresh model, compiled and warmed up in ``setup``."""
    weights, world = session.weights, session.plan.world

    def finish(result):
        trained = weights.finish_training(case, result)
        rate = len(session.data.y_train) * result.epochs_run / result.train_time_s  # every process together
        fields = {
            "batch_size": result.config.batch_size,
            "images_per_s": rate,
            "images_per_s_per_process": rate / world.size,
            "world_size": world.size,
            "backend": world.backend,
            "compile_time_s": result.compile_time_s,
        }
        return trained, fields

    return TimedCall(
        run=lambda *prepared: weights.run_training(case, *prepared),
        rounds=1,
        warmup_rounds=0,
        images=0,  # the rate is the training loop's own (finish), not the round's
        flops_per_image=session.facts(case).flops_train_step,
        setup=lambda: (weights.prepare_training(case), {}),
        finish=finish,
    )


def steps_per_round(session: Session, case: Case) -> int:
    """Optimiser steps per train-step round: about ``step_target_flop`` of work, 2 to 50 steps."""
    per_step = max(session.facts(case).flops_train_step * case.training.config.batch_size, 1)
    return int(min(50, max(2, round(session.plan.profile.step_target_flop / per_step))))


@register_runner(TRAIN_STEP)
def train_step(session: Session, case: Case, variant=None, lever: Lever | None = None) -> TimedCall:
    """A fixed number of optimiser steps per call on a fresh model, warmed up.

    Batches cycle through one seeded shuffle of the training split and are gathered inside
    the clock; the learning rate stays constant; a ``lever`` changes one setting (the levers group).
    """
    training = case.training.with_layer(f"group {TRAIN_STEP}", {"schedule": "constant"})
    if lever is not None:
        training = training.with_layer(f"lever {lever.name}", lever.train)
    config, plan = training.config, session.plan
    stepper = make_stepper(plan.fresh_model(case), session.data, config, warm_up=False)
    x = session.data.x_train.contiguous(memory_format=config.memory_format)
    y = session.data.y_train
    batch = config.batch_size
    pool = list(iterate_batches(len(y), batch, torch.Generator().manual_seed(case.seed), plan.device))
    pool = [b for b in pool if len(b) == batch] or pool
    stepper.warm_up(x, y, [batch])
    steps, position = steps_per_round(session, case), [0]

    def run() -> None:
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
    rounds = session.rounds(GROUPS.get(TRAIN_STEP))
    return TimedCall(run, rounds, 1, steps * batch, session.facts(case).flops_train_step, fields)


@register_runner(ENGINE)
def engine(session: Session, case: Case, loop: str) -> TimedCall:
    """Our engine (``loop="ours"``) or the notebook-style loop: same model, data, steps and batch size."""
    if loop == "ours":
        call = train_step(session, case)
        return replace(call, fields={**call.fields, "engine_loop": loop})
    plan = session.plan
    steps, batch = steps_per_round(session, case), case.training.config.batch_size
    x, y = session.data.x_train, session.data.y_train
    run = notebook_step_runner(plan.fresh_model(case), x, y, steps, batch, case.seed, plan.device)
    fields = {"batch_size": batch, "steps_per_round": steps, "engine_loop": loop}
    rounds = session.rounds(GROUPS.get(TRAIN_STEP))
    return TimedCall(run, rounds, 1, steps * batch, session.facts(case).flops_train_step, fields)


def inference(session: Session, case: Case, batch_size: int, group: str, runtime: str | None) -> TimedCall:
    """``batch_size`` test images through the trained weights per call, by ``runtime`` (eager by default).

    The runtime prepares the model here, outside any timer (export, compilation, first calls),
    and its predictions on the whole test set are checked against eager PyTorch's (the record's
    ``agreement``; the case fails below ``AGREEMENT_TOLERANCE``). A runtime that is not installed,
    or cannot run the session's precision, is not applicable (a skip saying why); one that fails
    to convert the model raises its ``ConversionError``, naming the model and the runtime.
    """
    name = runtime or "eager"
    chosen = get_runtime(name)
    config = case.training.config
    why_not = chosen.missing()
    if why_not is None and config.precision not in chosen.precisions:
        why_not = f"{name} runs the weights at fp32; this session runs {config.precision}"
    if why_not:
        raise NotApplicable(why_not)
    trained = session.trained(case)
    x = session.data.x_test[:batch_size].clone(memory_format=config.memory_format)  # its own copy, as in training
    prepared = session.prepared(case, name, trained.model.eval(), x)
    fields = {
        "batch_size": batch_size,
        "runtime": name,
        "compile_time_s": prepared.conversion_time_s if name == "eager" else None,
        "conversion_time_s": prepared.conversion_time_s,
        "conversion_warm_time_s": prepared.conversion_warm_time_s,
        "artifact_bytes": prepared.artifact_bytes,
        **session.agreement(case, name, prepared.forward, batch_size),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,  # Linux: KiB
    }
    spec = GROUPS.get(group)
    return TimedCall(
        prepared.run,
        session.rounds(spec),
        spec.warmup_rounds,
        batch_size,
        session.facts(case).flops_inference,
        fields,
        trained=trained,
        percentiles=group == LATENCY,
    )


@register_runner(LATENCY)
def latency(session: Session, case: Case, variant=None) -> TimedCall:
    return inference(session, case, 1, LATENCY, variant)


@register_runner(THROUGHPUT)
def throughput(session: Session, case: Case, variant=None, batch_size: int | None = None) -> TimedCall:
    batch = min(batch_size or session.plan.profile.throughput_batch, len(session.data.y_test))
    return inference(session, case, batch, THROUGHPUT, variant)


@register_runner(LEVERS)
def lever(session: Session, case: Case, name: str) -> TimedCall:
    """One levers-group variant of the train-step or throughput work; its thread count, if any, is set
    for each call and restored after it."""
    chosen = get_lever(name)
    config = case.training.config
    model = session.weights.get(case).model
    why_not = chosen.applies(model, session.plan.threads, config.precision, config.compile)
    if why_not:
        raise NotApplicable(f"{chosen.name}: {why_not}")
    if chosen.group == TRAIN_STEP:
        call = train_step(session, case, lever=chosen)
    else:
        call = replace(throughput(session, case, batch_size=chosen.batch_size), warmup_rounds=1)
    run = call.run if chosen.threads is None else _with_threads(call.run, chosen.threads)
    fields = {
        **call.fields,
        "lever": chosen.name,
        "lever_baseline": chosen.baseline,
        "threads": chosen.threads or session.plan.threads,
    }
    return replace(call, run=run, fields=fields)


def _with_threads(run: Callable[[], object], threads: int) -> Callable[[], object]:
    def with_threads() -> object:
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return run()
        finally:
            torch.set_num_threads(before)

    return with_threads
