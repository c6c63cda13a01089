"""A session resolved: its ``SuitePlan``, each case a value (``Case``) with its training resolved once (``TrainPlan``).

``resolve_training`` is the one place a ``TrainConfig`` is made: once per case, when the plan's
cases are made; groups and levers that change a setting layer their change on the case's
``TrainPlan`` (``with_layer``), so every record says where each value came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ..parse import SeedPlan
from ..results.protocol import PROTOCOL, TrainConfig
from ..results.record import case_id
from ..training.distributed import World
from .profiles import Profile
from .settings import SuiteSettings
from .shards import shard_of

if TYPE_CHECKING:
    from torch import nn

    from ..models.registry import ModelSpec


@dataclass(frozen=True)
class TrainPlan:
    """A resolved ``TrainConfig`` and, for every value that differs from the protocol's default, its source."""

    config: TrainConfig
    sources: Mapping[str, str]

    def record(self) -> dict[str, dict[str, Any]]:
        """The non-default values and where each came from, for the record's ``settings``."""
        values = self.config.to_dict()
        return {name: {"value": values[name], "source": source} for name, source in self.sources.items()}

    def with_layer(self, source: str, overrides: Mapping[str, Any]) -> TrainPlan:
        """This plan with ``overrides`` from ``source`` on top (a group's or a lever's change)."""
        config = self.config.updated(overrides)
        defaults, values = PROTOCOL.to_dict(), config.to_dict()
        sources = {**self.sources, **dict.fromkeys(overrides, source)}
        return TrainPlan(config, {k: s for k, s in sources.items() if values[k] != defaults[k]})


def resolve_training(
    profile: Profile, spec: ModelSpec, seed: int, *, precision: str | None = None, compile: bool = False
) -> TrainPlan:
    """The training settings of ``spec`` with ``seed`` in a session: the only function that makes a ``TrainConfig``.

    In order, each layer overriding the ones before: the protocol's defaults, the architecture's
    own (``register_model(train=...)``), the profile (epochs, early stopping) and the session's
    options (``--mnist-precision``, ``--mnist-compile``).
    """
    epochs = profile.max_epochs or spec.profile(profile.name).epochs
    from_profile: dict[str, Any] = {} if epochs is None else {"max_epochs": int(epochs)}
    if not profile.early_stopping:
        from_profile["patience"] = None
    options: dict[str, Any] = {} if precision is None else {"precision": precision}
    if compile:
        options["compile"] = True
    plan = TrainPlan(TrainConfig(seed=seed), {})
    for source, overrides in (("architecture", spec.train), (f"profile {profile.name}", from_profile),
                              ("options", options)):  # fmt: skip
        plan = plan.with_layer(source, overrides)
    return plan


@dataclass(frozen=True)
class Case:
    """One (architecture, seed) of a session, with the training settings it trains with."""

    spec: ModelSpec
    seed: int
    training: TrainPlan

    @property
    def model(self) -> str:
        return self.spec.display_name

    @property
    def id(self) -> str:
        """How the case is named in test ids, A/B, shards and reports: ``mlp_64-seed0``."""
        return case_id(self.model, self.seed)

    def __repr__(self) -> str:
        return f"Case({self.id})"


@dataclass(frozen=True)
class SuitePlan:
    """Everything a session's settings decided, resolved and validated (see ``bench.session.resolve``): the
    settings themselves, as they were asked for, and what resolving them found (models, seeds, device, threads,
    folders, the process group). A setting used as it is asked for is read from ``settings``, never copied."""

    profile: Profile
    specs: tuple[ModelSpec, ...]
    seeds: tuple[int, ...]  # every seed a case may train with (with ``seed_plan``, up to its cap)
    device: torch.device
    data_dir: Path | None
    cache_dir: Path
    threads: int
    settings: SuiteSettings = field(default_factory=SuiteSettings)  # what the session was asked for
    runtimes: tuple[str, ...] = ("eager",)  # --mnist-runtimes: what runs the inference groups, eager first
    world: World = field(default_factory=World)  # torchrun: this process's rank among the data-parallel processes
    measured_seconds: Mapping[str, float] = field(default_factory=dict)  # --mnist-shard-times: model -> s per seed

    @property
    def dataset(self) -> str:
        return self.settings.dataset

    @property
    def skip_mirrors(self) -> bool:
        return self.settings.skip_mirrors

    @property
    def precision(self) -> str | None:
        """--mnist-precision: autocast for every model (None: each spec's own, else fp32)."""
        return self.settings.precision

    @property
    def compile(self) -> bool:
        """--mnist-compile: torch.compile for training and timed eager inference."""
        return self.settings.compile

    @property
    def rounds(self) -> float:
        """--mnist-rounds: scale on the profile's timed rounds."""
        return self.settings.rounds

    @property
    def levers(self) -> bool:
        """--mnist-levers: the levers group runs too."""
        return self.settings.levers

    @property
    def shard(self) -> tuple[int, int] | None:
        """--mnist-shard K/N: this session runs shard K of N."""
        return self.settings.shard

    @property
    def slowdown(self) -> float:
        """--mnist-slowdown: injected extra work per timed call, as a fraction."""
        return self.settings.slowdown

    @property
    def seed_plan(self) -> SeedPlan | None:
        """--mnist-seeds auto:N: seeds added while verdicts are open."""
        return self.settings.seeds if isinstance(self.settings.seeds, SeedPlan) else None

    @cached_property
    def cases(self) -> tuple[Case, ...]:
        """The (model, seed) cases of this session, each with its training resolved: all, or this shard's share."""
        every = tuple(
            Case(spec, seed, resolve_training(self.profile, spec, seed, precision=self.precision, compile=self.compile))
            for spec in self.specs
            for seed in self.seeds
        )
        if self.shard is None:
            return every
        return shard_of(every, self.profile, self.measured_seconds, *self.shard)

    @cached_property
    def _by_id(self) -> dict[str, Case]:
        return {case.id: case for case in self.cases}

    def case(self, name: str) -> Case:
        """The case named ``name`` (its ``id``)."""
        try:
            return self._by_id[name]
        except KeyError:
            raise KeyError(f"no case {name!r} in this session") from None

    def fresh_model(self, case: Case) -> nn.Module:
        """A newly built model of ``case`` with its seed's initial weights, on the session's device: the one place
        the suite seeds a model's weights (training seeds its batch order and dropout from the same seed)."""
        torch.manual_seed(case.seed)
        return case.spec.build().to(self.device)

    def with_seeds(self, seeds: tuple[int, ...]) -> SuitePlan:
        return replace(self, seeds=seeds)
