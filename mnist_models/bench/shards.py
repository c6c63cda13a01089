"""Splitting the suite's (model, seed) cases into N shards of about equal cost, for N machines.

Every group of one (model, seed) stays in one shard, so its weights are trained once.
The split is deterministic: the same cases, costs and N give the same shards anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

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
