"""A run's JSON: our machine facts in ``machine_info``, our part added before it is saved, and a
whole run's JSON through pytest-benchmark's own serialisation where no pytest session makes one.

``finish_run_json`` is the one way a run's JSON gets our part (the peak in use, each outcome
stored once) before it is saved, by the pytest plugin and by ``run_document`` (the A/B worker).
"""

from __future__ import annotations

from importlib import metadata
from types import SimpleNamespace
from typing import Any

import torch
from pytest_benchmark.plugin import pytest_benchmark_generate_json, pytest_benchmark_generate_machine_info
from pytest_benchmark.stats import Metadata
from pytest_benchmark.utils import get_commit_info

from ..results.record import SCHEMA, pack_outcomes
from ..training.device import device_name, nominal_peak_flops
from ..version import __version__
from .plan import SuitePlan
from .session import Session


def versions() -> dict[str, str]:
    """torch's and torchvision's versions (torchvision's from its metadata: importing it costs seconds)."""
    try:
        vision = metadata.version("torchvision")
    except metadata.PackageNotFoundError:
        vision = "not installed"
    return {"torch": torch.__version__, "torchvision": vision}


def machine_facts(plan: SuitePlan) -> dict[str, Any]:
    """Our part of a run's ``machine_info``: versions, threads, device, and how the run was made."""
    info: dict[str, Any] = {
        **versions(),
        "mnist_models": __version__,
        "record_schema": SCHEMA,
        "threads": torch.get_num_threads(),
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "device": str(plan.device),
        "device_name": device_name(plan.device),
    }
    if plan.shard is not None:
        info["shard"] = "{}/{}".format(*plan.shard)
    if plan.slowdown:
        info["injected_slowdown"] = plan.slowdown
    if plan.world.parallel:
        info["world_size"], info["backend"] = plan.world.size, plan.world.backend
    return info


def finish_run_json(output_json: dict[str, Any], session: Session | None) -> None:
    """Our part of a run's JSON, added just before it is saved: the peaks measured, each outcome stored once.

    The fp32 matmul peak is the best of the session's probes (at its start and its end, a few sizes
    each), and every fp32 record's ``peak_fraction`` is against it; a bf16 record's against the bf16
    peak measured the same way. A benchmark that ran faster than its peak keeps its fraction above
    100%, and the run says by how much the probes fell short (``peak_exceeded``), instead of moving the
    peak after the fact.
    """
    benchmarks = output_json.get("benchmarks", [])
    info = output_json.get("machine_info", {}).get("mnist_models")
    if session is not None and isinstance(info, dict):
        peaks = session.final_peaks()
        info["matmul_peak_flops"] = max(peaks)
        info["matmul_peak_measurements"] = peaks
        info["nominal_peak_flops"] = nominal_peak_flops(session.plan.device, session.plan.threads)
        if session.bf16_peak:
            info["matmul_peak_bf16_flops"] = session.bf16_peak
        for bench in benchmarks:
            record = bench.get("extra_info") or {}
            if record.get("peak_fraction") and record.get("precision") == "fp32":
                record["peak_flops"], record["peak_fraction"] = max(peaks), record["achieved_flops"] / max(peaks)
        over = [(b["extra_info"]["peak_fraction"], b["name"]) for b in benchmarks
                if ((b.get("extra_info") or {}).get("peak_fraction") or 0) > 1]  # fmt: skip
        if over:
            fraction, name = max(over)
            info["peak_exceeded"] = {"benchmark": name, "fraction": fraction}
        if session.seed_rounds is not None:
            info["seed_rounds"] = session.seed_rounds.summary()
    pack_outcomes(benchmarks)


def run_document(session: Session, benchmarks: list[dict[str, Any]], label: str) -> dict[str, Any]:
    """A run's JSON for benchmarks timed outside pytest, through pytest-benchmark's own serialisation.

    ``benchmarks``: per benchmark its ``name``, ``group``, ``param`` (the test id's parameter),
    ``record`` and round ``times``; ``label`` names where they were timed (``fullname``).
    """
    metas = []
    for bench in benchmarks:
        fixture = SimpleNamespace(
            name=bench["name"],
            fullname=f"{label}::{bench['name']}",
            group=bench["group"],
            param=bench["param"],
            params={"mnist_case": bench["param"]},
            extra_info=bench["record"].to_json(),
            cprofile_stats=None,
            has_error=False,
        )
        meta = Metadata(fixture, iterations=1, options={"timer": "perf_counter", "interleaved": "A/B blocks"})
        for duration in bench["times"]:
            meta.update(duration)
        metas.append(meta)
    machine = pytest_benchmark_generate_machine_info()
    machine["mnist_models"] = {**machine_facts(session.plan), "threads": session.plan.threads}
    output = pytest_benchmark_generate_json(
        config=None, benchmarks=metas, include_data=True, machine_info=machine, commit_info=get_commit_info()
    )
    finish_run_json(output, session)
    return output
