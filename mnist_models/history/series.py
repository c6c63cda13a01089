"""Saved runs as series: per (machine identity, model, benchmark, metric), points ordered by commit time."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..results import machine
from ..results.groups import measures_time
from ..results.record import RunError
from ..results.runs import Run, find_runs, load_found


@dataclass(frozen=True)
class Point:
    """One run's value of a series, and where it came from."""

    commit: str
    when: str  # commit time (author time when there is none), ISO 8601
    run: str
    value: float
    low: float | None = None  # A/B ratios: the 95% interval
    high: float | None = None
    samples: tuple[float, ...] = ()  # times: the rounds; accuracy: nothing (predictions below)
    predictions: Any = None  # accuracy: the test predictions and labels, for McNemar's test
    labels: Any = None
    failed: bool = False  # A/B: the gate's verdict on this comparison


@dataclass
class Series:
    """The history of one figure on one machine identity."""

    machine: str
    model: str
    benchmark: str  # group, with its variant: "latency", "latency (onnxruntime)", "engine (ours)"
    metric: str
    seed: int
    points: list[Point] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.machine} | {self.model} seed {self.seed} | {self.benchmark} | {self.metric}"

    def values(self) -> np.ndarray:
        return np.array([p.value for p in self.points], float)


def _when(run: Run) -> str:
    commit = run.commit or {}
    return str(commit.get("time") or commit.get("author_time") or run.datetime or "")


def load_history(ids: list[str], storage: str | Path, skip=None, include_interrupted: bool = False) -> list[Run]:
    """The runs to build a history from: the named ones, or every run in ``storage``; oldest commit first.

    A/B outputs (a folder's ``head.json``, ``base.json``) are read as runs like any other. A run found in storage
    that does not read (truncated, foreign, non-finite) is named to ``skip`` and left out; with ``skip=None``
    (``--strict``) it stops the history, named (exit 2), as does a file given by its path.
    """
    paths = find_runs(ids, storage) if ids else _every_run(Path(str(storage).removeprefix("file://")).expanduser())
    runs = load_found(paths, skip, tuple(ids), include_interrupted)
    return sorted(runs, key=lambda r: (_when(r), r.datetime, r.name))


def _every_run(storage: Path) -> list[Path]:
    if not storage.is_dir():
        raise RunError(f"{storage}: no such folder; give saved runs or --storage DIR")
    paths = sorted(p for p in storage.rglob("*.json") if not p.name.startswith("."))
    if not paths:
        raise RunError(f"{storage}: no saved runs there (*.json); run the suite with --benchmark-autosave first")
    return paths


def run_label(run: Run) -> str:
    """What a run is called on the page: its file's stem, or for an A/B output (every one a ``head.json``)
    its folder and side."""
    if _ab_side(run) and run.path is not None:
        return f"{run.path.parent.name}/{run.name}"
    return run.name


def _ab_side(run: Run) -> str | None:
    return (run.machine.get("mnist_models", {}).get("ab") or {}).get("side")


def _ab_result(run: Run) -> dict[str, dict]:
    """An A/B head run's verdicts, benchmark by benchmark (``ab.csv`` beside it), if it is one."""
    if run.path is None or _ab_side(run) != "head":
        return {}
    table = run.path.with_name("ab.csv")
    if not table.is_file():
        return {}
    with table.open() as fh:
        return {row["benchmark"]: row for row in csv.DictReader(fh)}


def build_series(runs: list[Run]) -> list[Series]:
    """Every series the runs hold; times only within one machine identity, so a series never mixes machines."""
    series: dict[tuple, Series] = {}

    def add(identity: str, record, benchmark: str, metric: str, point: Point) -> None:
        key = (identity, record.model, record.seed, benchmark, metric)
        if key not in series:
            series[key] = Series(identity, record.model, benchmark, metric, record.seed)
        series[key].points.append(point)

    for run in runs:
        identity = machine.identity_key(run.machine)
        commit, when = str((run.commit or {}).get("id", "?")), _when(run)
        seen = set()
        ab = _ab_result(run)
        for bench in run.benches:
            record = bench.record
            benchmark = f"{record.group} ({record.variant})" if record.variant else record.group
            base = {"commit": commit, "when": when, "run": run_label(run)}
            median = bench.stats.get("median")
            if median and measures_time(
                record.group
            ):  # an A/B side's blocks: a series of their own (not a suite's rounds)
                add(
                    identity,
                    record,
                    f"{benchmark} · A/B blocks" if _ab_side(run) else benchmark,
                    "time",
                    Point(**base, value=float(median), samples=tuple(record.round_times_s)),
                )
            row = ab.get(f"{record.group}/{bench.name.split('[', 1)[-1].rstrip(']')}")
            if row:
                add(identity, record, benchmark, "ab_ratio", Point(**base, value=float(row["ratio"]), low=float(row["ratio_low"]),
                                                                  high=float(row["ratio_high"]), failed=row["failed"] == "True"))  # fmt: skip
            if (record.model, record.seed) in seen:
                continue
            seen.add((record.model, record.seed))
            test = record.outcome.test
            # the weights' figures, once per (model, seed); per machine too: the same seed trains to slightly
            # different weights on another CPU kind or torch build
            add(
                identity,
                record,
                "weights",
                "accuracy",
                Point(**base, value=float(test.accuracy), predictions=test.predictions, labels=test.labels),
            )
            add(identity, record, "weights", "params", Point(**base, value=float(record.params)))
            add(identity, record, "weights", "flops", Point(**base, value=float(record.flops_inference)))  # fmt: skip
    return [s for s in series.values() if len(s.points) >= 1]


def to_rows(series: list[Series]) -> list[dict]:
    """Every point of every series, flat (``history.csv``)."""
    return [
        {
            "machine": s.machine, "model": s.model, "seed": s.seed, "benchmark": s.benchmark, "metric": s.metric,
            "commit": p.commit, "when": p.when, "run": p.run, "value": p.value,
            "low": "" if p.low is None else p.low, "high": "" if p.high is None else p.high,
        }
        for s in series
        for p in s.points
    ]  # fmt: skip
