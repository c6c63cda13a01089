"""Each group's runner: the ``TimedCall`` of one benchmark, built and warmed up outside any clock.

A runner is ``runner(session, case, variant) -> TimedCall`` (``case`` is a (spec, seed) pair,
``variant`` the group's own parameter or ``None``); each built-in group's spec in
``mnist_models.results.groups`` names its runner here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import torch

from ..data.dataset import gather, iterate_batches
from ..results.groups import GROUPS, LATENCY, THROUGHPUT, TRAIN_STEP
from ..training.device import synchronize
from ..training.stepper import make_stepper
from .levers import get_lever
from .timing import NotApplicable, TimedCall

if TYPE_CHECKING:
    from .session import Session


def train(session: Session, case, variant=None) -> TimedCall:
    """The profile's whole training run, once; a fresh model, compiled and warmed up in ``setup``."""
    spec, seed = case
    weights, world = session.weights, session.config.world

    def finish(result):
        trained = weights.finish_training(spec, seed, result)
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
        run=lambda *prepared: weights.run_training(spec, seed, *prepared),
        rounds=1,
        warmup_rounds=0,
        images=0,  # the rate is the training loop's own (finish), not the round's
        flops_per_image=session.facts(spec).flops_train_step,
        setup=lambda: (weights.prepare_training(spec, seed), {}),
        finish=finish,
    )


def steps_per_round(session: Session, spec) -> int:
    """Optimiser steps per train-step round: about ``step_target_flop`` of work, 2 to 50 steps."""
    batch = session.config.train_config(spec, 0).batch_size
    per_step = max(session.facts(spec).flops_train_step * batch, 1)
    return int(min(50, max(2, round(session.config.profile.step_target_flop / per_step))))


def train_step(session: Session, case, variant=None, lever=None) -> TimedCall:
    """A fixed number of optimiser steps per call on a fresh model, warmed up.

    Batches cycle through one seeded shuffle of the training split and are gathered inside
    the clock; a ``lever`` changes the settings (the levers group).
    """
    spec, seed = case
    config = session.config
    settings = config.training(spec, seed, group=(TRAIN_STEP, {"schedule": "constant"}), lever=lever)
    train_config = settings.config
    stepper = make_stepper(config.fresh_model(spec, seed), session.data, train_config, warm_up=False)
    x = session.data.x_train.contiguous(memory_format=train_config.memory_format)
    y = session.data.y_train
    batch = train_config.batch_size
    pool = list(iterate_batches(len(y), batch, torch.Generator().manual_seed(seed), config.device))
    pool = [b for b in pool if len(b) == batch] or pool
    stepper.warm_up(x, y, [batch])
    steps, position, device = steps_per_round(session, spec), [0], config.device

    def run() -> None:
        start = position[0]
        stepper.run(gather(x, y, pool[(start + i) % len(pool)]) for i in range(steps))
        position[0] = (start + steps) % len(pool)
        synchronize(device)

    fields = {
        "batch_size": batch,
        "steps_per_round": steps,
        "compile_time_s": stepper.compile_time_s,
        "precision": train_config.precision,
        "compiled": train_config.compile,
        "settings": settings.record(),
    }
    rounds = session.rounds(GROUPS.get(TRAIN_STEP))
    return TimedCall(run, rounds, 1, steps * batch, session.facts(spec).flops_train_step, fields)


def engine(session: Session, case, loop: str) -> TimedCall:
    """Our engine (``loop="ours"``) or the notebook-style loop: same model, data, steps and batch size."""
    if loop == "ours":
        call = train_step(session, case)
        return replace(call, fields={**call.fields, "engine_loop": loop})
    from ..training.notebook import notebook_step_runner

    spec, seed = case
    config = session.config
    steps, batch = steps_per_round(session, spec), config.train_config(spec, seed).batch_size
    x, y = session.data.x_train, session.data.y_train
    run = notebook_step_runner(config.fresh_model(spec, seed), x, y, steps, batch, seed, config.device)
    fields = {"batch_size": batch, "steps_per_round": steps, "engine_loop": loop}
    rounds = session.rounds(GROUPS.get(TRAIN_STEP))
    return TimedCall(run, rounds, 1, steps * batch, session.facts(spec).flops_train_step, fields)


def inference(session: Session, case, batch_size: int, group: str, warmup: int, runtime: str | None) -> TimedCall:
    """``batch_size`` test images through the trained weights per call, by ``runtime`` (eager by default).

    The runtime prepares the model here, outside any timer (export, compilation, first calls),
    and its predictions on the whole test set are checked against eager PyTorch's (the record's
    ``agreement``; the case fails below ``AGREEMENT_TOLERANCE``). A runtime that is not installed,
    or cannot run the session's precision, is not applicable (a skip saying why); one that fails
    to convert the model is a ``ConversionError`` naming the model and the runtime.
    """
    import resource

    from ..runtimes.base import ConversionError, get_runtime

    spec, seed = case
    name = runtime or "eager"
    chosen = get_runtime(name)
    trained = session.trained(case)
    config = session.config.train_config(spec, seed)
    why_not = chosen.missing()
    if why_not is None and config.precision not in chosen.precisions:
        why_not = f"{name} runs the weights at fp32; this session runs {config.precision}"
    if why_not:
        raise NotApplicable(why_not)
    model = trained.model.eval()
    x = session.data.x_test[:batch_size].clone(memory_format=config.memory_format)  # its own copy, as in training
    options = {"compile": config.compile} if name == "eager" else {}
    key = (spec.display_name, seed, name, batch_size)
    prepared = session.converted.get(key)
    if prepared is None:
        try:
            prepared = chosen.build(
                model, x, session.config.device, session.config.threads, config.precision, **options
            )
        except Exception as exc:  # any failure to convert: this benchmark fails, naming it; the others run on
            raise ConversionError(f"{spec.display_name} on {name}: {type(exc).__name__}: {exc}".strip()) from exc
        if session.fresh_copies and name != "eager":  # A/B: one conversion per side, timed block after block
            session.converted[key] = prepared
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
    rounds = session.rounds(GROUPS.get(group))
    return TimedCall(
        prepared.run,
        rounds,
        warmup,
        batch_size,
        session.facts(spec).flops_inference,
        fields,
        trained=trained,
        percentiles=group == LATENCY,
    )


def latency(session: Session, case, variant=None) -> TimedCall:
    return inference(session, case, 1, LATENCY, GROUPS.get(LATENCY).warmup_rounds, variant)


def throughput(session: Session, case, variant=None, batch_size: int | None = None) -> TimedCall:
    batch = min(batch_size or session.config.profile.throughput_batch, len(session.data.y_test))
    return inference(session, case, batch, THROUGHPUT, GROUPS.get(THROUGHPUT).warmup_rounds, variant)


def lever(session: Session, case, name: str) -> TimedCall:
    """One levers-group variant of the train-step or throughput work; its thread count, if any, is set
    for each call and restored after it."""
    spec, seed = case
    chosen = get_lever(name)
    settings = session.config.train_config(spec, seed)
    model = session.weights.get(spec, seed).model
    why_not = chosen.applies(model, session.config.threads, settings.precision, settings.compile)
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
        "threads": chosen.threads or session.config.threads,
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
