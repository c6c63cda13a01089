"""The inference groups' runners: test images through the trained weights, by a runtime, batch 1 or batched."""

from __future__ import annotations

import resource
from dataclasses import replace
from typing import Any

from ...bench.context import RunContext
from ...bench.plan import Case
from ...bench.timing import NotApplicable, TimedCall
from ...results.groups import GroupSpec
from ...runtimes.base import NotSupported, get_runtime
from .spec import LATENCY_SPEC, THROUGHPUT_SPEC


def inference(context: RunContext, case: Case, batch_size: int, spec: GroupSpec, runtime: str | None,
              percentiles: bool = False) -> TimedCall:  # fmt: skip
    """``batch_size`` test images through the trained weights per call, by ``runtime`` (eager by default).

    The runtime prepares the model here, outside any timer (export, compilation, first calls),
    and its predictions on the whole test set are checked against eager PyTorch's (the record's
    ``agreement``; the case fails below the runtime's ``agreement_floor``). A runtime that is not
    installed, or cannot run the session's precision or device, is not applicable (a skip saying
    why), and so is a model it cannot run by what it is made of (``NotSupported``); one that fails
    to convert the model raises its ``ConversionError``, naming the model and the runtime.
    """
    name = runtime or "eager"
    chosen = get_runtime(name)
    config = case.training.config
    why_not = chosen.why_not(context.plan.device.type, config.precision)
    if why_not:
        raise NotApplicable(why_not)
    trained = context.trained(case)
    x = context.data.x_test[:batch_size].clone(memory_format=config.memory_format)  # its own copy, as in training
    try:
        prepared = context.prepared(case, name, trained.model.eval(), x)
    except NotSupported as exc:
        raise NotApplicable(f"{case.model} on {name}: {exc}") from None
    fields = {
        "batch_size": batch_size,
        "runtime": name,
        "agreement_floor": chosen.agreement_floor,
        "runtime_baseline": chosen.baseline,
        "quantization": prepared.quantization,
        "compile_time_s": prepared.conversion_time_s if name == "eager" else None,
        "conversion_time_s": prepared.conversion_time_s,
        "conversion_warm_time_s": prepared.conversion_warm_time_s,
        "artifact_bytes": prepared.artifact_bytes,
        **context.agreement(case, name, prepared.forward, batch_size),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,  # Linux: KiB
    }
    return TimedCall(
        prepared.run,
        context.rounds(spec),
        spec.warmup_rounds,
        batch_size,
        context.facts(case).flops_inference,
        fields,
        trained=trained,
        percentiles=percentiles,
    )


def latency(context: RunContext, case: Case, variant=None) -> TimedCall:
    """Batch-1 inference, its p50 and p99 from the rounds."""
    return inference(context, case, 1, LATENCY_SPEC, variant, percentiles=True)


def throughput(context: RunContext, case: Case, variant=None, lever: Any = None) -> TimedCall:
    """Batched inference (the profile's batch, or a ``lever``'s, with one warm-up round)."""
    batch = min((lever and lever.batch_size) or context.plan.profile.throughput_batch, len(context.data.y_test))
    call = inference(context, case, batch, THROUGHPUT_SPEC, variant)
    return call if lever is None else replace(call, warmup_rounds=1)
