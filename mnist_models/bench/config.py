"""The session's configuration, resolved from the command line, and the shard costs it splits cases by."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..training.distributed import World
from .profiles import Profile
from .shards import assign_shards

if TYPE_CHECKING:
    import torch
    from torch import nn

    from ..models.registry import ModelSpec
    from ..training.config import TrainConfig


@dataclass(frozen=True)
class SuiteConfig:
    """Everything the command line decided, resolved and validated."""

    profile: Profile
    specs: tuple[ModelSpec, ...]
    seeds: tuple[int, ...]
    device: torch.device
    dataset: str
    data_dir: Path | None
    cache_dir: Path
    threads: int
    offline: bool = False
    precision: str | None = None  # --mnist-precision: autocast for every model (None: each spec's own, else fp32)
    compile: bool = False  # --mnist-compile: torch.compile for training and timed inference
    shard: tuple[int, int] | None = None  # --mnist-shard K/N: this session runs shard K of N
    world: World = field(default_factory=World)  # torchrun: this process's rank among the data-parallel processes
    measured_seconds: Mapping[str, float] = field(default_factory=dict)  # --mnist-shard-times: model -> s per seed
    slowdown: float = 0.0  # --mnist-slowdown: injected extra work per timed call, as a fraction

    @cached_property
    def cases(self) -> list[tuple[ModelSpec, int]]:
        """The (model, seed) cases of this session: all of them, or this shard's share."""
        cases = [(spec, seed) for spec in self.specs for seed in self.seeds]
        if self.shard is None:
            return cases
        costs = shard_costs(self.profile, self.specs, self.measured_seconds)
        index, count = self.shard
        return assign_shards(
            cases, lambda case: costs[case[0].display_name], count, key=lambda c: f"{c[0].display_name}-{c[1]}"
        )[index - 1]

    def fresh_model(self, spec: ModelSpec, seed: int) -> nn.Module:
        """A newly built ``spec`` with the seed's initial weights, on the session's device."""
        import torch

        torch.manual_seed(seed)
        return spec.build().to(self.device)

    def train_config(self, spec: ModelSpec, seed: int) -> TrainConfig:
        """The profile's settings for (spec, seed), with ``--mnist-precision`` and ``--mnist-compile`` applied."""
        config = self.profile.train_config(spec, seed)
        if self.precision is not None:
            config = config.updated({"precision": self.precision})
        return config.updated({"compile": config.compile or self.compile})


def shard_costs(profile: Profile, specs: Sequence[ModelSpec], measured: Mapping[str, float]) -> dict[str, float]:
    """Each model's cost per seed in seconds: measured in a previous run where it has one, else its
    estimated FLOPs converted at the median seconds per FLOP of the measured models (FLOPs alone
    without any measurement: only the proportions matter)."""
    flops = {spec.display_name: estimated_cost(profile, spec) for spec in specs}
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


def estimated_cost(profile: Profile, spec: ModelSpec) -> float:
    """FLOPs a (model, seed) case costs, roughly: its training run plus its timed step rounds.

    Training epochs of a profile with early stopping are counted as at most 20 (the
    original notebook's runs stopped after 16-24); inference cases are small beside these.
    """
    config = profile.train_config(spec, 0)
    epochs = min(config.max_epochs, 20) if config.patience is not None else config.max_epochs
    images = profile.subset[0] if profile.subset else 48_000
    step_rounds = 3 * profile.step_rounds * profile.step_target_flop  # train-step and both engine loops
    from ..models.facts import training_flops

    return training_flops(spec.build(), config.batch_size) * images * epochs + step_rounds
