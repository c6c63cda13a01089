"""Splitting the suite's (model, seed) cases into N shards of about equal cost, for N machines, by estimated or measured cost.

Every group of one (model, seed) stays in one shard, so its weights are trained once.
The split is deterministic: the same cases, costs and N give the same shards anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import numpy as np

from ..models.facts import training_flops

Case = TypeVar("Case")


def assign_shards(cases: Sequence[Case], cost: Callable[[Case], float], count: int, key=str) -> list[list[Case]]:
    """Greedy longest-processing-time split: the costliest case first, each to the least loaded shard.

    Returns ``count`` lists (some empty when there are fewer cases than shards); within a
    shard the cases keep their original order. ``key`` breaks ties between equal costs.
    """
    order = sorted(range(len(cases)), key=lambda i: (-cost(cases[i]), key(cases[i])))
    loads = [0.0] * count
    members: list[list[int]] = [[] for _ in range(count)]
    for i in order:
        target = min(range(count), key=lambda s: (loads[s], s))
        loads[target] += cost(cases[i])
        members[target].append(i)
    return [[cases[i] for i in sorted(indices)] for indices in members]


def shard_of(cases: Sequence, profile, measured: Mapping[str, float], index: int, count: int) -> tuple:
    """Shard ``index`` of ``count`` (counted from 1) of a session's cases, balanced by ``shard_costs``."""
    costs = shard_costs(profile, cases, measured)
    return tuple(assign_shards(cases, lambda case: costs[case.model], count, key=lambda case: case.id)[index - 1])


def shard_costs(profile, cases: Sequence, measured: Mapping[str, float]) -> dict[str, float]:
    """Each model's cost per seed in seconds: measured in a previous run where it has one, else its
    estimated FLOPs converted at the median seconds per FLOP of the measured models (FLOPs alone
    without any measurement: only the proportions matter)."""
    first = {case.model: case for case in reversed(cases)}  # one case per model: its cost per seed
    flops = {model: estimated_cost(profile, case) for model, case in first.items()}
    known = [measured[name] / flops[name] for name in flops if measured.get(name) and flops[name] > 0]
    rate = float(np.median(known)) if known else 1.0
    return {name: measured.get(name) or cost * rate for name, cost in flops.items()}


def seconds_per_case(run: Mapping) -> dict[str, float]:
    """From a saved run's JSON: each model's timed seconds (every group, every round), per seed."""
    seconds: dict[str, float] = {}
    seeds: dict[str, set] = {}
    for bench in run.get("benchmarks", []):
        info, stats = bench.get("extra_info") or {}, bench.get("stats") or {}
        if "model" not in info:
            continue
        model = info["model"]
        seconds[model] = seconds.get(model, 0.0) + stats.get("mean", 0.0) * stats.get("rounds", 0)
        seeds.setdefault(model, set()).add(info.get("seed"))
    return {model: total / len(seeds[model]) for model, total in seconds.items()}


def estimated_cost(profile, case) -> float:
    """FLOPs a (model, seed) case costs, roughly: its training run plus its timed step rounds.

    Training epochs of a profile with early stopping are counted as at most 20 (the
    original notebook's runs stopped after 16-24); inference cases are small beside these.
    """
    config = case.training.config
    epochs = min(config.max_epochs, 20) if config.patience is not None else config.max_epochs
    images = profile.subset[0] if profile.subset else 48_000
    step_rounds = 3 * profile.step_rounds * profile.step_target_flop  # train-step and both engine loops
    return training_flops(case.spec.build(), config.batch_size) * images * epochs + step_rounds
