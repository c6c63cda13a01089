"""The memory groups as data: ``memory-train`` (optimiser steps on a fresh model) and ``memory`` (batch-1 and
batched inference per runtime), each figure the peak of one fresh process (``probe``) above its baseline."""

from __future__ import annotations

from ...results.groups import Cost, GroupSpec, SummaryColumn, Variants

TRAIN = "memory-train"
INFERENCE = "memory"
RUNTIMES = Variants("runtime", "runtimes", default="eager")  # the runtimes the session was asked for
TRAIN_STEPS = 3  # optimiser steps measured: the first makes the optimiser's state, the next run as training does
CALLS = 5  # inference calls measured, after the runtime's own preparation and warm-up
# Two probes of one benchmark differ by up to this much (MiB): blocks under glibc's 64 KiB threshold come from heap
# pages that may be resident already, threads touch their stacks as they run, and the resident set counts 4 KiB
# pages (tests/groups/test_memory.py checks it, studies/memory measures it).
RESOLUTION_MIB = 0.5
TRAIN_SPEC = GroupSpec(
    TRAIN,
    "peak memory of optimiser steps at the profile's batch on a fresh model, in a fresh process",
    order=50,
    warmup_rounds=0,
    left_out_by="no_memory",
    measures_time=False,
    fields=("batch_size",),
    summary=(
        SummaryColumn(
            "train_peak_mib",
            "train_step_peak_mib",
            "train MiB",
            ",.2f",
            order=40,
            gate="memory",
            resolution=RESOLUTION_MIB,
        ),
    ),
)
INFERENCE_SPEC = GroupSpec(
    INFERENCE,
    "peak memory of batch-1 and batched inference on the trained weights, per runtime, in a fresh process",
    order=51,
    warmup_rounds=0,
    left_out_by="no_memory",
    measures_time=False,
    fields=("batch_size", "runtime"),
    variants=RUNTIMES,
    summary=(
        SummaryColumn(
            "latency_peak_mib",
            "latency_peak_mib",
            "batch-1 MiB",
            ",.2f",
            key=True,
            by_runtime=True,
            order=41,
            gate="memory",
            resolution=RESOLUTION_MIB,
            cost=Cost("peak memory, batch 1, eager", "{:.3g} MiB", "MiB"),
        ),
        SummaryColumn(
            "throughput_peak_mib",
            "throughput_peak_mib",
            "batched MiB",
            ",.2f",
            by_runtime=True,
            order=42,
            gate="memory",
            resolution=RESOLUTION_MIB,
        ),
    ),
)
