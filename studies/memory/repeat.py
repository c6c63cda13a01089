"""How far two memory probes of one benchmark differ: the evidence for the memory groups' stated resolution.

Usage: python studies/memory/repeat.py [--repeats 4] [--models mlp_64,lenet5,speedrun_cnn] [--out reports/memory/repeat.json]

For each model (fresh weights: a peak does not depend on the weights' values) it probes optimiser steps at its
quick-profile batch, and batch-1 and batch-256 inference on eager PyTorch and ONNX Runtime (if installed), each
``--repeats`` times, in rounds: every measurement once, then every one again, so that a probe's neighbours change
from round to round. Prints each measurement's median and range (max - min) in MiB and the largest range against
``RESOLUTION_MIB``; ``--out`` writes them, with the CPU, as JSON.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
from pathlib import Path
from types import SimpleNamespace

import torch

from mnist_models.bench.session import resolve
from mnist_models.bench.settings import SuiteSettings
from mnist_models.groups.memory.runner import MIB, probe, request_for
from mnist_models.groups.memory.spec import CALLS, RESOLUTION_MIB, TRAIN_STEPS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--models", default="mlp_64,lenet5,speedrun_cnn")
    parser.add_argument("--out", type=Path)
    options = parser.parse_args()
    plan = resolve(SuiteSettings(profile="quick", models=tuple(options.models.split(",")), device="cpu"))
    runtimes = ["eager"] + (["onnxruntime"] if importlib.util.find_spec("onnxruntime") else [])
    data = SimpleNamespace(x_test=torch.zeros(1, 1, 28, 28), classes=tuple(range(10)))
    context = SimpleNamespace(data=data, plan=plan)
    requests = {}
    for case in plan.cases:
        model = plan.fresh_model(case)
        batch = case.training.config.batch_size
        requests[f"{case.model} train-step batch {batch}"] = request_for(context, case, model, "train-step", batch,
                                                                      calls=TRAIN_STEPS)  # fmt: skip
        for runtime in runtimes:
            for batch in (1, 256):
                requests[f"{case.model} {runtime} batch {batch}"] = request_for(
                    context, case, model, "inference", batch, runtime=runtime, options={}, calls=CALLS)  # fmt: skip
    found: dict[str, list[float]] = {name: [] for name in requests}
    for round_ in range(options.repeats):
        for name, request in requests.items():
            found[name].append(probe(request, name)["peak_bytes"] / MIB)
        print(f"round {round_ + 1} of {options.repeats} done", flush=True)
    rows = [{"measurement": n, "median_mib": statistics.median(v), "range_mib": max(v) - min(v), "peaks_mib": v}
            for n, v in found.items()]  # fmt: skip
    for row in rows:
        print(f"{row['measurement']:<44} {row['median_mib']:10.3f} MiB  range {row['range_mib']:.3f}")
    widest = max(r["range_mib"] for r in rows)
    print(f"largest range {widest:.3f} MiB; stated resolution {RESOLUTION_MIB} MiB")
    if options.out:
        options.out.parent.mkdir(parents=True, exist_ok=True)
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), platform.processor())  # fmt: skip
        options.out.write_text(json.dumps({"cpu": cpu, "torch": torch.__version__, "repeats": options.repeats,
                                           "resolution_mib": RESOLUTION_MIB, "largest_range_mib": widest,
                                           "rows": rows}, indent=1) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()
