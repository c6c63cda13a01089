"""The session's resolved configuration, the one place training settings are resolved, and shard costs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..results.record import case_id
from ..training.distributed import World
from .profiles import Profile
from .shards import assign_shards

if TYPE_CHECKING:
    import torch
    from torch import nn

    from ..models.registry import ModelSpec
    from ..results.protocol import TrainConfig


@dataclass(frozen=True)
class TrainSettings:
    """A resolved ``TrainConfig`` and, for every value that differs from the protocol's default, its source."""

    config: TrainConfig
    sources: Mapping[str, str]

    def record(self) -> dict[str, dict[str, Any]]:
        """The non-default values and where each came from, for the record's ``settings``."""
        values = self.config.to_dict()
        return {name: {"value": values[name], "source": source} for name, source in self.sources.items()}


def resolve_training(
    profile: Profile,
    spec: ModelSpec,
    seed: int,
    *,
    precision: str | None = None,
    compile: bool = False,
    group: tuple[str, Mapping[str, Any]] | None = None,
    lever: Any = None,
) -> TrainSettings:
    """The training settings of ``spec`` for one benchmark: the only function that makes a ``TrainConfig``.

    In order, each layer overriding the ones before: the protocol's defaults, the architecture's
    own (``register_model(train=...)``), the profile (epochs, early stopping), the session's
    options (``--mnist-precision``, ``--mnist-compile``), the group's (``group``: its name and
    overrides; the train-step work runs a constant learning rate) and a lever's (``lever.train``).
    """
    from ..results.protocol import TrainConfig

    layers: list[tuple[str, Mapping[str, Any]]] = [("architecture", spec.train)]
    epochs = profile.max_epochs or spec.profile(profile.name).get("epochs")
    from_profile: dict[str, Any] = {} if epochs is None else {"max_epochs": int(epochs)}
    if not profile.early_stopping:
        from_profile["patience"] = None
    layers.append((f"profile {profile.name}", from_profile))
    options: dict[str, Any] = {} if precision is None else {"precision": precision}
    if compile:
        options["compile"] = True
    layers.append(("options", options))
    if group is not None:
        layers.append((f"group {group[0]}", group[1]))
    if lever is not None:
        layers.append((f"lever {lever.name}", lever.train))
    config, sources = TrainConfig(seed=seed), {}
    for source, overrides in layers:
        config = config.updated(overrides)
        sources.update(dict.fromkeys(overrides, source))
    defaults = TrainConfig().to_dict()
    values = config.to_dict()
    return TrainSettings(config, {k: s for k, s in sources.items() if values[k] != defaults[k]})


@dataclass(frozen=True)
class SuiteConfig:
    """Everything a session's settings decided, resolved and validated (see ``bench.session.resolve``)."""

    profile: Profile
    specs: tuple[ModelSpec, ...]
    seeds: tuple[int, ...]
    device: torch.device
    dataset: str
    data_dir: Path | None
    cache_dir: Path
    threads: int
    skip_mirrors: bool = False
    precision: str | None = None  # --mnist-precision: autocast for every model (None: each spec's own, else fp32)
    compile: bool = False  # --mnist-compile: torch.compile for training and timed eager inference
    runtimes: tuple[str, ...] = ("eager",)  # --mnist-runtimes: what runs the inference groups
    rounds: float = 1.0  # --mnist-rounds: scale on the profile's timed rounds
    levers: bool = False  # --mnist-levers: the levers group runs too
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
            cases, lambda case: costs[case[0].display_name], count, key=lambda c: case_id(c[0].display_name, c[1])
        )[index - 1]

    def case(self, name: str) -> tuple[ModelSpec, int]:
        """The case named ``case_id(model, seed)``."""
        for spec, seed in self.cases:
            if case_id(spec.display_name, seed) == name:
                return spec, seed
        raise KeyError(f"no case {name!r} in this session")

    def fresh_model(self, spec: ModelSpec, seed: int) -> nn.Module:
        """A newly built ``spec`` with the seed's initial weights, on the session's device."""
        import torch

        torch.manual_seed(seed)
        return spec.build().to(self.device)

    def training(
        self, spec: ModelSpec, seed: int, group: tuple[str, Mapping[str, Any]] | None = None, lever: Any = None
    ) -> TrainSettings:
        """``resolve_training`` with this session's profile and options."""
        return resolve_training(
            self.profile, spec, seed, precision=self.precision, compile=self.compile, group=group, lever=lever
        )

    def train_config(self, spec: ModelSpec, seed: int) -> TrainConfig:
        """The settings (spec, seed) trains with in this session."""
        return self.training(spec, seed).config


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
    from ..models.facts import training_flops

    config = resolve_training(profile, spec, 0).config
    epochs = min(config.max_epochs, 20) if config.patience is not None else config.max_epochs
    images = profile.subset[0] if profile.subset else 48_000
    step_rounds = 3 * profile.step_rounds * profile.step_target_flop  # train-step and both engine loops
    return training_flops(spec.build(), config.batch_size) * images * epochs + step_rounds
