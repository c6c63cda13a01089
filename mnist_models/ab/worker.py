"""One side of an A/B comparison: ``python -m mnist_models.ab.worker``, run inside that side's tree.

Reads its settings as one JSON line on stdin, builds the suite's timed calls for every
(model, seed) and group (weights from the cache, trained once if missing), answers
``ready`` with what it measures, then times one block per request: ``{"case": id,
"rounds": n}`` -> ``{"times": [...]}``. ``{"finish": true}`` -> the side's run as stock
pytest-benchmark JSON. Anything the code prints goes to stderr; stdout carries the protocol.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from datetime import datetime, timezone

MIN_BLOCK_S = 0.02  # a block's timed work at least (batch-1 latency: some 60 rounds)


def _build(settings: dict):
    from ..bench.config import SuiteConfig
    from ..bench.groups import Group
    from ..bench.profiles import PROFILES
    from ..bench.session import Suite
    from ..bench.weights import Weights
    from ..data.dataset import load_dataset
    from ..models.registry import resolve_models
    from ..training.device import resolve_device, set_threads

    profile = PROFILES[settings["profile"]]
    device = resolve_device(settings.get("device") or "auto")
    config = SuiteConfig(
        profile=profile,
        specs=tuple(resolve_models(settings["models"])),
        seeds=tuple(settings["seeds"]),
        device=device,
        dataset=settings["dataset"],
        data_dir=settings.get("data_dir"),
        cache_dir=settings["cache_dir"],
        threads=set_threads(settings.get("threads")),
        slowdown=settings.get("slowdown", 0.0),
    )
    data = load_dataset(config.dataset, config.data_dir, device=device)
    data = data.subset(*profile.subset) if profile.subset else data
    suite = Suite(Weights(config, data))
    calls = {}
    for spec, seed in config.cases:
        trained = suite.weights.get(spec, seed)
        for group in map(Group, settings["groups"]):
            calls[f"{group.value}/{spec.display_name}-seed{seed}"] = (group, spec, seed, trained, [])
    return suite, calls


def _timed_call(runners, group, spec, seed: int, model):
    from ..bench.groups import Group

    if group is Group.TRAIN_STEP:
        return runners.train_step(spec, seed)
    if group is Group.LATENCY:
        return runners.latency(spec, seed, model)
    if group is Group.THROUGHPUT:
        return runners.throughput(spec, seed, model)
    raise ValueError(f"A/B measures the timed groups train-step, latency and throughput, not {group.value}")


def _facts(suite, calls) -> dict:
    import torch

    data = suite.data
    return {
        "ready": True,
        "cases": sorted(calls),
        "dataset": data.name,
        "checksum": data.checksum,
        "sizes": [len(data.y_train), len(data.y_val), len(data.y_test)],
        "profile": suite.config.profile.name,
        "profile_settings": {k: v for k, v in vars(suite.config.profile).items() if k != "description"},
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": sys.executable,
    }


def _block(suite, group, spec, seed: int, trained, rounds: int) -> tuple[object, list[float]]:
    """One block: a fresh timed call on fresh copies of the weights and inputs, warmed up, then ``rounds``.

    Fresh copies each block, because where tensors land in memory moves speed a lot: the same
    batch-512 CNN forward took 34 or 60 ms in one process depending on the copy (measured,
    2-core EPYC). Built once, a side would keep its layout's luck for the whole comparison;
    rebuilt per block, the luck is drawn anew each time and averages out over the pairs.
    """
    import copy

    from ..bench.groups import Group

    call = _timed_call(suite.runners, group, spec, seed, copy.deepcopy(trained.model)).slowed(suite.config.slowdown)
    warmed = 0.0
    for _ in range(0 if group is Group.TRAIN_STEP else 1):  # train-step: warmed up when built; else one call
        start = time.perf_counter()
        call.run()
        warmed = time.perf_counter() - start
    if warmed > 0:  # short calls: enough rounds for MIN_BLOCK_S of timed work, so a block's median is stable
        rounds = max(rounds, math.ceil(MIN_BLOCK_S / warmed))
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call.run()  # every timed call synchronises the device before it returns
        times.append(time.perf_counter() - start)
    return call, times


def _run_json(suite, calls, last, side: str) -> dict:
    from pytest_benchmark.plugin import pytest_benchmark_generate_machine_info
    from pytest_benchmark.stats import Stats
    from pytest_benchmark.utils import get_commit_info

    from .. import __version__
    from ..bench.record import pack_outcomes
    from ..bench.session import versions
    from ..training.device import device_name

    benchmarks = []
    for case_id, (group, spec, seed, trained, times) in calls.items():
        call = last[case_id]
        stats = Stats()
        for t in times:
            stats.update(t)
        record = suite.record(group, spec, seed, trained, **call.fields, **call.summary(times, group))
        name = f"test_{group.value.replace('-', '_')}[{spec.display_name}-seed{seed}]"
        benchmarks.append(
            {
                "group": group.value,
                "name": name,
                "fullname": f"mnist-models ab ({side})::{name}",
                "params": {"mnist_case": f"{spec.display_name}-seed{seed}"},
                "param": f"{spec.display_name}-seed{seed}",
                "extra_info": {**record.to_json(), "ab_side": side},
                "options": {"timer": "perf_counter", "interleaved": "A/B blocks"},
                "stats": {**stats.as_dict(), "iterations": 1},
            }
        )
    pack_outcomes(benchmarks)
    machine = pytest_benchmark_generate_machine_info()
    machine["mnist_models"] = {
        **versions(),
        "mnist_models": __version__,
        "device": str(suite.config.device),
        "device_name": device_name(suite.config.device),
        "threads": suite.config.threads,
        "matmul_peak_flops": suite.peak_flops,
        **({"injected_slowdown": suite.config.slowdown} if suite.config.slowdown else {}),
    }
    return {
        "machine_info": machine,
        "commit_info": get_commit_info(),
        "benchmarks": benchmarks,
        "datetime": datetime.now(timezone.utc).isoformat(),
        "version": __import__("pytest_benchmark").__version__,
    }


def main() -> int:
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints (tqdm, warnings) go to stderr, never into the protocol
    sys.stdout = sys.stderr

    def send(message: dict) -> None:
        protocol.write(json.dumps(message) + "\n")

    settings = json.loads(sys.stdin.readline())
    suite, calls = _build(settings)
    last: dict = {}  # each case's latest timed call, whose fields (batch, steps...) go into the record
    send(_facts(suite, calls))
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("finish"):
            send({"run": _run_json(suite, calls, last, settings["side"])})
            return 0
        group, spec, seed, trained, times = calls[request["case"]]
        call, block = _block(suite, group, spec, seed, trained, request["rounds"])
        times.extend(block)
        last[request["case"]] = call
        send({"times": block})
    return 0


if __name__ == "__main__":
    sys.exit(main())
