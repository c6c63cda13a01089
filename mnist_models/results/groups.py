"""The suite's benchmark groups as specs: one entry per group, the whole truth about it, read by every part.

A group is what a benchmark measures (training, optimiser steps, batch-1 inference...). Its
spec says how the plugin makes its cases (its variants), how A/B times it, which record fields
its runner fills (a runner filling another is an error), which key tells its variants apart,
which summary columns and report sections it feeds; the plugin's test functions, the A/B
worker's benchmarks, the record's variant, the report's tables and sections and the command
lines' choices are all derived from ``GROUPS``. Adding a group is one ``register_group(GroupSpec(...))``
and its runner (``mnist_models.bench.runners.register_runner``); a package adds both through the entry
point group ``mnist_models.groups`` (a module whose import registers them), loaded on the registry's
first use. The built-in groups come in that way too, each from its own folder (``mnist_models.groups``).
Pure data: nothing here imports torch, nor anything above this package.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..installed import load_entry_points


@dataclass(frozen=True)
class Cost:
    """A summary column that is also a cost of the report's answer and Pareto figure (what to pick for a budget)."""

    what: str  # how the answer names it ("peak memory, batch 1")
    budget: str = "{:.3g}"  # how a budget reads, a format with its unit ("{:.3g} MiB")
    unit: str = ""  # the figure's axis unit
    higher: bool = False  # more is better (a rate)


@dataclass(frozen=True)
class SummaryColumn:
    """A column of the report's summary table fed by one group: the median over seeds of a record field."""

    column: str  # the column's name in summary.csv
    field: str  # the record field (or ``metrics`` key) it summarises
    label: str  # its header for people
    fmt: str = ",.0f"  # how to show a value ("percent": a fraction as a percentage)
    key: bool = False  # one of the few columns shown first
    by_runtime: bool = False  # also a column of the runtimes table, per runtime (a group whose variant is the runtime)
    order: int = 100  # where the column sits among the groups' columns of summary.csv
    cost: Cost | None = None  # a cost of the answer and the Pareto figure, too
    gate: str | None = None  # the rule kind that gates it against a stored run (``memory:20%``)
    resolution: float = 0.0  # what two measurements of one benchmark may differ by, in the column's unit: a cost's
    # interval is ± this, and a gate rule passes a change no larger


@dataclass(frozen=True)
class Variants:
    """A group's own parameter: each value is a benchmark of its own (``test_engine[mlp_64-seed0-ours]``).

    ``values`` is a tuple, or the name of the session plan's attribute that lists them (``"runtimes"``:
    the runtimes a session was asked for). A value equal to ``default`` is left out of the
    benchmark's name, so that adding an axis keeps the names of what existed before it.
    """

    field: str  # the record field that holds the value: the key that tells the group's benchmarks apart
    values: tuple[str, ...] | str
    default: str | None = None

    def resolve(self, plan: Any) -> tuple[str, ...]:
        return tuple(self.values) if isinstance(self.values, tuple) else tuple(getattr(plan, self.values))


@dataclass(frozen=True)
class GroupSpec:
    """One benchmark group."""

    name: str  # the pytest-benchmark group in saved runs, e.g. "train-step"
    description: str  # what is timed, one line
    rounds: str | int = 1  # a Profile field naming the rounds ("latency_rounds"), or a count
    warmup_rounds: int = 1
    timed: bool = False  # rounds of one call: A/B can time it and time rules gate it
    measures_time: bool = True  # its benchmark's time is the model's (False: a probe's wall time, which time rules
    # and the history leave out)
    ab_blocks: int = (
        1  # blocks per side in each A/B pair, their median the pair's figure: more where blocks are noisier
    )
    trains: bool = False  # the group trains the weights (the others read them)
    option: str | None = None  # the session setting (a flag, e.g. "levers") that adds the group; None: always in it
    left_out_by: str | None = None  # the session setting (a flag, e.g. "no_memory") that leaves the group out
    variants: Variants | None = None
    fields: tuple[str, ...] = ()  # record fields its runner fills, beyond the rates every timed call gives
    summary: tuple[SummaryColumn, ...] = ()
    sections: tuple[str, ...] = ()  # report sections it feeds: run only when the runs hold its benchmarks
    order: int = 100  # sessions run groups in this order: training first

    @property
    def test_name(self) -> str:
        """The name of the group's test function: ``test_train_step`` for ``train-step``."""
        return "test_" + self.name.replace("-", "_")

    def param(self, case: str, variant: str | None = None) -> str:
        """The benchmark's test-id parameter: the case (``case_id``), then the variant unless it is the default."""
        shown = variant is not None and (self.variants is None or variant != self.variants.default)
        return f"{case}-{variant}" if shown else case

    def benchmark_name(self, case: str, variant: str | None = None) -> str:
        """The benchmark's name in saved runs, as pytest names it: ``test_latency[mlp_64-seed0]``."""
        return f"{self.test_name}[{self.param(case, variant)}]"

    def variant_values(self, plan: Any) -> tuple[str | None, ...]:
        """The variants a session runs (``(None,)`` for a group without any)."""
        return self.variants.resolve(plan) if self.variants else (None,)

    def rounds_for(self, profile: Any, scale: float = 1.0) -> int:
        """Rounds of one benchmark under ``profile``: the profile's count times ``scale`` (``--mnist-rounds``),
        at least one; a fixed count stays as it is."""
        if isinstance(self.rounds, int):
            return self.rounds
        return max(1, round(getattr(profile, self.rounds) * scale))


ENTRY_POINT_GROUP = "mnist_models.groups"  # installed packages contribute benchmark groups here


class GroupRegistry:
    """Group specs by name, in the order sessions run them; installed packages' groups loaded on first use."""

    def __init__(self) -> None:
        self._specs: dict[str, GroupSpec] = {}
        self._installed = False

    def _load_installed(self) -> None:
        if self._installed:
            return
        self._installed = True
        load_entry_points(ENTRY_POINT_GROUP)
        if not self._specs:  # the built-in groups come in through the entry points too
            raise ValueError(
                f"no benchmark group is registered: the entry points of {ENTRY_POINT_GROUP} are missing "
                "(reinstall mnist-models: pip install -e .)"
            )

    def add(self, spec: GroupSpec) -> GroupSpec:
        existing = self._specs.get(spec.name)
        if existing is not None and existing != spec:
            raise ValueError(f"benchmark group {spec.name!r} is registered already; give the new one another name")
        self._specs[spec.name] = spec
        return spec

    def remove(self, name: str) -> None:
        self._specs.pop(name, None)

    def get(self, name: str) -> GroupSpec:
        self._load_installed()
        if name not in self._specs:
            raise KeyError(f"unknown benchmark group {name!r}; groups are {', '.join(self.names())}")
        return self._specs[name]

    def __contains__(self, name: object) -> bool:
        self._load_installed()
        return name in self._specs

    def specs(self) -> list[GroupSpec]:
        self._load_installed()
        return sorted(self._specs.values(), key=lambda s: s.order)

    def names(self, timed: bool | None = None) -> list[str]:
        return [s.name for s in self.specs() if timed is None or s.timed == timed]

    def by_test_name(self) -> Mapping[str, GroupSpec]:
        return {s.test_name: s for s in self.specs()}


GROUPS = GroupRegistry()


def register_group(spec: GroupSpec) -> GroupSpec:
    """Add a benchmark group; its cases appear in every session that collects the suite's cases."""
    return GROUPS.add(spec)


def variant_fields() -> tuple[str, ...]:
    """Every record field that holds a group's variant, in the groups' order."""
    return tuple(dict.fromkeys(s.variants.field for s in GROUPS.specs() if s.variants))


def measures_time(group: str) -> bool:
    """Whether ``group``'s benchmark times are the model's (``GroupSpec.measures_time``); a group this installation
    does not know (a plugin's) is taken to be timed."""
    return group not in GROUPS or GROUPS.get(group).measures_time


def gated_columns() -> dict[str, list[tuple[GroupSpec, SummaryColumn]]]:
    """Per gate rule kind (``memory``), the summary columns it gates, with their groups."""
    out: dict[str, list[tuple[GroupSpec, SummaryColumn]]] = {}
    for spec, column in summary_columns():
        if column.gate:
            out.setdefault(column.gate, []).append((spec, column))
    return out


def summary_columns(specs: Sequence[GroupSpec] | None = None) -> list[tuple[GroupSpec, SummaryColumn]]:
    """Every group's summary columns, in their order in summary.csv."""
    columns = [(spec, column) for spec in (specs or GROUPS.specs()) for column in spec.summary]
    return sorted(columns, key=lambda pair: pair[1].order)
