"""Merging saved runs (shards of one suite run, or runs of one protocol on several machines) into one.

The result is stock pytest-benchmark JSON: the union of the runs' benchmarks, the first
run's top-level fields, and in ``machine_info["mnist_models"]["merged_from"]`` every
run's own machine, commit and time; each benchmark's ``extra_info["ran_in"]`` names the
run it came from. The report, ``pytest-benchmark compare`` and the gate read it like
any other run.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from ..files import atomic_write_bytes
from ..results.record import RunError, benchmark_key
from ..results.runs import load_run


def merge_runs(paths: list[Path]) -> dict:
    """The merged JSON document of ``paths``; raises :class:`RunError` on anything that does not belong together."""
    if len(paths) < 2:
        raise RunError("merge needs at least two different runs")
    documents = []
    for path in paths:
        run = load_run(path)  # a truncated, foreign or mixed-dataset file stops here, named
        if run.skipped:
            raise RunError(f"{path}: {run.skipped} benchmark(s) carry no mnist-models record; not a suite run")
        documents.append((path, run, json.loads(path.read_text(encoding="utf-8"))))
    for label, of_run in (
        ("profiles", lambda run: run.profile),
        ("datasets", lambda run: run.dataset),
        ("suite versions", lambda run: str(run.machine.get("mnist_models", {}).get("mnist_models"))),
    ):
        values = {path.name: of_run(run) for path, run, _ in documents}
        if len(set(values.values())) > 1:
            listing = ", ".join(f"{name}: {value}" for name, value in values.items())
            raise RunError(f"these runs have different {label} ({listing}); merge runs of one suite run only")
    seen: dict[tuple, Path] = {}
    for path, run, _ in documents:
        for bench in run.benches:
            key = benchmark_key(bench.record)
            if key in seen:
                raise RunError(
                    f"{bench.record.model} {bench.record.group} seed {bench.record.seed} is in both {seen[key]} and "
                    f"{path}: a benchmark may come from one run only (was a shard or a model run twice?)"
                )
            seen[key] = path

    merged = copy.deepcopy(documents[0][2])
    merged["benchmarks"] = []
    sources = []
    for _, run, document in documents:
        for bench in document["benchmarks"]:
            bench = copy.deepcopy(bench)
            bench["extra_info"]["ran_in"] = run.name
            merged["benchmarks"].append(bench)
        sources.append(
            {
                "run": run.name,
                "datetime": document.get("datetime"),
                "benchmarks": len(document["benchmarks"]),
                "machine_info": document.get("machine_info", {}),
                "commit_info": document.get("commit_info", {}),
            }
        )
    info = merged.setdefault("machine_info", {}).setdefault("mnist_models", {})
    info.pop("shard", None)  # the merged run is every shard
    info["merged_from"] = sources
    return merged


def write_merged(paths: list[Path], out: Path) -> dict:
    """Merge ``paths`` and write the result to ``out`` atomically (nothing is written on an error)."""
    merged = merge_runs(paths)
    atomic_write_bytes(out, json.dumps(merged, indent=2).encode())
    return merged
