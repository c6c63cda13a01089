"""Tables and statistics from saved runs: pure functions, no drawing and no files."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from ...results.groups import GROUPS, summary_columns
from ...results.protocol import ACCURACY_TARGETS, target_key
from ...results.record import BenchmarkRecord
from ...results.runs import Run
from ...stats.seeds import accuracy_interval


@dataclass(frozen=True)
class Variant:
    """The records of one model in one run, all seeds."""

    label: str  # the model name, with the run name appended when a report holds several runs
    run: str
    model: str
    records: dict[str, list[BenchmarkRecord]]  # group -> its records (one per seed and variant)

    def seeds(self) -> list[BenchmarkRecord]:
        """One record per seed (any group's: they share the trained weights' outcome)."""
        by_seed: dict[int, BenchmarkRecord] = {}
        names = GROUPS.names()
        for group in [*names, *sorted(set(self.records) - set(names))]:
            for record in self.records.get(group, []):
                by_seed.setdefault(record.seed, record)
        return [by_seed[s] for s in sorted(by_seed)]


def short_name(name: str) -> str:
    """A run name with any 40-character commit id cut to 8 characters, for titles."""
    return re.sub(r"(?<![0-9a-f])([0-9a-f]{8})[0-9a-f]{32}(?![0-9a-f])", r"\1", name)


def moved_peak(run: Run) -> float:
    """How far a run saved before this version moved its peak up to a benchmark's rate (in use / measured; 1 when
    it did not): its fp32 fractions are put back against the measured peak by this factor."""
    info = run.machine.get("mnist_models", {})
    measured, in_use = info.get("matmul_peak_flops"), info.get("peak_flops_in_use")
    return in_use / measured if measured and in_use and in_use > measured else 1.0


def above_peak(run: Run) -> list[tuple[str, str, str, float]]:
    """(model, group, precision, fraction of the peak) of each benchmark above the measured peak of its precision."""
    scale = moved_peak(run)
    out = []
    for bench in run.benches:
        record = bench.record
        fraction = (record.peak_fraction or 0.0) * (scale if record.precision == "fp32" else 1.0)
        if fraction > 1:
            out.append((record.model, record.group, record.precision, fraction))
    return out


def variants(runs: list[Run]) -> list[Variant]:
    """Group every record by (run, model); every efficiency against the measured peak of its precision (a run
    that moved its peak after the fact gets its fractions put back, and the report says by how much any ran
    above it: ``sections.summary.run_notes``)."""
    several = len(runs) > 1
    out = []
    for run in runs:
        grouped: dict[str, dict[str, list[BenchmarkRecord]]] = defaultdict(lambda: defaultdict(list))
        scale = moved_peak(run)
        for bench in run.benches:
            record = bench.record
            if scale > 1 and record.peak_fraction and record.precision == "fp32":
                record = replace(
                    record, peak_fraction=record.peak_fraction * scale, peak_flops=record.peak_flops / scale
                )
            grouped[record.model][record.group].append(record)
        for model, records in grouped.items():
            label = f"{model} [{short_name(run.name)}]" if several else model
            out.append(Variant(label, run.name, model, dict(records)))
    return out


def _median(values: list[float | None]) -> float:
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else math.nan


def _accuracy_interval(records: list[BenchmarkRecord]) -> tuple[float, float, float, float]:
    """(mean, low, high, std over seeds): Wilson for one seed (these weights); for several, the architecture's
    interval over seeds and test images (``stats.seeds.accuracy_interval``), always inside 0-100%."""
    accs = np.array([r.outcome.test.accuracy for r in records])
    if len(accs) == 1:
        test = records[0].outcome.test
        return float(accs[0]), test.ci_low, test.ci_high, 0.0
    correct = np.array([r.outcome.test.predictions == r.outcome.test.labels for r in records], float)
    mean, low, high = accuracy_interval(correct)
    return mean, low, high, float(accs.std(ddof=1))


def _group_values(v: Variant, group: str, field: str) -> list:
    """``field`` of each of the variant's records in ``group`` that runs the group's default variant
    (a record from before the group had variants runs the default)."""
    spec = GROUPS.get(group) if group in GROUPS else None
    default = spec.variants.default if spec is not None and spec.variants else None
    return [r.value(field) for r in v.records.get(group, []) if (r.variant or default) == default]


def summary_table(items: list[Variant]) -> pd.DataFrame:
    """One row per variant: size, cost, accuracy with interval, each group's summary columns, efficiency."""
    rows = []
    columns = summary_columns()
    for v in items:
        seeds = v.seeds()
        first = seeds[0]
        acc, low, high, sd = _accuracy_interval(seeds)
        train_time = _median([r.outcome.train_time_s for r in seeds])
        rows.append(
            {
                "model": v.label,
                "family": first.family,
                "params": first.params,
                "flops_inference": first.flops_inference,
                "flops_train_step": first.flops_train_step,
                "seeds": len(seeds),
                "epochs": _median([r.outcome.epochs_run for r in seeds]),
                "train_time_s": train_time,
                "test_accuracy": acc,
                "ci_low": low,
                "ci_high": high,
                "accuracy_std": sd,
                "test_loss": float(np.mean([r.outcome.test.loss for r in seeds])),
                **{c.column: _median(_group_values(v, spec.name, c.field)) for spec, c in columns},
                **{f"time_to_{key}_s": time for key, time in _time_to_targets(seeds).items()},
                "floor": first.floor,
                "floor_passed": all(r.floor_passed for r in seeds),
                **floor_today(first),
            }
        )
    table = pd.DataFrame(rows)
    return table.sort_values("test_accuracy", ascending=False, ignore_index=True) if len(table) else table


def _time_to_targets(seeds: list[BenchmarkRecord]) -> dict[str, float]:
    """Per accuracy target, the median over seeds of the training time that first reached it on the
    validation split; a seed that never did counts as never (inf), as in AlgoPerf's time-to-result."""
    return {
        key: float(
            np.median([math.inf if t is None else t for t in (r.outcome.time_to_accuracy.get(key) for r in seeds)])
        )
        for key in map(target_key, ACCURACY_TARGETS)
    }


def time_to_target(items: list[Variant]) -> pd.DataFrame:
    """Models x accuracy targets (``_time_to_targets``)."""
    return pd.DataFrame.from_dict({v.label: _time_to_targets(v.seeds()) for v in items}, orient="index")


def floor_today(record: BenchmarkRecord) -> dict:
    """The floor the registry has today for the record's model, profile and dataset, and why, where known.

    A report may read a run made under other floors (``record.floor`` is the one in force then).
    Models this installation does not know (an entry point not installed here) have none.
    """
    try:
        from ...models.registry import get_spec  # importing the registry registers the built-ins (torch)

        spec = get_spec(record.model)
    except (ImportError, KeyError, ValueError):
        return {"floor_today": math.nan, "floor_reason": ""}
    floor = spec.floor(record.profile, record.dataset)
    return {"floor_today": math.nan if floor is None else floor, "floor_reason": spec.floor_reason(record.profile)}


def per_class_table(items: list[Variant], classes: list[str]) -> pd.DataFrame:
    """Variants x classes: per-class test accuracy, mean over seeds."""
    data = {v.label: np.mean([r.outcome.test.per_class_accuracy for r in v.seeds()], axis=0) for v in items}
    return pd.DataFrame.from_dict(data, orient="index", columns=classes)


def learning_curves(items: list[Variant]) -> pd.DataFrame:
    """Long table of per-epoch history, every seed of each variant."""
    rows = [
        {"model": v.label, "seed": r.seed, **asdict(epoch)}
        for v in items
        for r in v.seeds()
        for epoch in r.outcome.history
    ]
    return pd.DataFrame(rows)
