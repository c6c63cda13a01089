"""Comparing a run with a stored baseline benchmark by benchmark, and the gate's rules (plugin and CLI alike).

What holds across two sessions: accuracy, parameters and FLOPs do not depend on the machine,
so an accuracy rule gates on them (a drop beyond the threshold and significant by McNemar's
test on the shared test images). Times do: a time rule is refused unless both runs share a
machine identity (CPU model and ISA flags, device, threads, torch build), and even then it
needs a Holm-corrected Mann-Whitney p below 0.05 as well as the threshold; time is gated
paired, on one machine, by ``mnist-models ab``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..results import machine
from ..results.groups import GROUPS, gated_columns, measures_time
from ..results.record import RunError, benchmark_key
from ..results.runs import Run
from ..stats.multiple import holm
from ..stats.paired import mcnemar_p

TIME_STATS = ("min", "max", "mean", "median")
ALPHA = 0.05  # a drop gates only when its test (McNemar for accuracy, Holm-corrected Mann-Whitney for time) agrees


def compare_runs(base: Run, current: Run) -> pd.DataFrame:
    """Per benchmark: time medians with % change and Mann-Whitney p; accuracy change with McNemar p."""
    old = {benchmark_key(b.record): b for b in base.benches}
    new = {benchmark_key(b.record): b for b in current.benches}
    rows = []
    for key in sorted(set(old) | set(new)):
        model, group, seed, variant = key
        row: dict = {"model": model, "benchmark": f"{group} ({variant})" if variant else group, "group": group,
                     "seed": seed}  # fmt: skip
        if key not in old or key not in new:
            row["status"] = "added" if key in new else "removed"
            rows.append(row)
            continue
        a, b = old[key], new[key]
        row["status"] = "both"
        for stat in TIME_STATS:
            row[f"base_{stat}_s"], row[f"current_{stat}_s"] = a.stats.get(stat), b.stats.get(stat)
        ta, tb = row["base_median_s"], row["current_median_s"]
        row["time_change_pct"] = (tb / ta - 1) * 100 if ta and tb else math.nan
        times_a, times_b = a.record.round_times_s, b.record.round_times_s
        row["time_p_value"] = (
            float(stats.mannwhitneyu(times_a, times_b, alternative="two-sided").pvalue)
            if len(times_a) >= 3 and len(times_b) >= 3
            else math.nan
        )
        acc_a, acc_b = a.record.outcome.test, b.record.outcome.test
        row.update(
            base_accuracy=acc_a.accuracy,
            current_accuracy=acc_b.accuracy,
            accuracy_change_pp=(acc_b.accuracy - acc_a.accuracy) * 100,
        )
        same_images = np.array_equal(acc_a.labels, acc_b.labels)
        row["accuracy_p_value"] = (
            mcnemar_p(acc_a.predictions, acc_b.predictions, acc_a.labels) if same_images else math.nan
        )
        for columns in gated_columns().values():  # what a stored run gates directly (peak memory)
            for spec, column in columns:
                if spec.name == group:
                    row[f"base_{column.column}"] = a.record.value(column.field)
                    row[f"current_{column.column}"] = b.record.value(column.field)
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class GateRule:
    """``accuracy:<pp>pp``, ``time:<stat>:<pct>%[:group,group]`` (only for two runs of one machine), or
    ``<kind>:<pct>%`` for what a group's summary columns gate against a stored run (``memory:20%``)."""

    kind: str
    threshold: float
    stat: str = "median"
    groups: tuple[str, ...] = ()
    text: str = ""

    @classmethod
    def parse(cls, text: str, option: str = "--fail-on") -> GateRule:
        """Parse one rule; a ``ValueError`` names ``option`` (the CLI's or the plugin's) and the valid forms."""
        time_rule = re.fullmatch(r"time:(min|max|mean|median):(\d+(?:\.\d+)?)%(?::([\w,-]+))?", text)
        if time_rule:
            groups = tuple(g for g in (time_rule[3] or "").split(",") if g)
            unknown = set(groups) - set(GROUPS.names())
            if unknown:
                raise ValueError(
                    f"{option} {text!r}: unknown group(s) {sorted(unknown)}; groups are {', '.join(GROUPS.names())}"
                )
            return cls("time", _positive(float(time_rule[2]), text, option, "time:median:15%"), time_rule[1], groups,
                       text)  # fmt: skip
        acc_rule = re.fullmatch(r"accuracy:(\d+(?:\.\d+)?)pp", text)
        if acc_rule:
            return cls("accuracy", _positive(float(acc_rule[1]), text, option, "accuracy:0.3pp"), text=text)
        kinds = gated_columns()
        gated = re.fullmatch(r"([\w-]+):(\d+(?:\.\d+)?)%", text)
        if gated and gated[1] in kinds:
            return cls(gated[1], _positive(float(gated[2]), text, option, f"{gated[1]}:20%"), text=text)
        extra = "".join(f", {kind}:20%" for kind in kinds)
        raise ValueError(
            f"{option} {text!r}: expected accuracy:0.3pp{extra} (gate time with `mnist-models ab`; a "
            "time:median:15% rule applies only to two runs of one machine)"
        )


def _positive(value: float, text: str, option: str, example: str) -> float:
    """A rule's threshold, above 0: at 0 any change, however small, would fail (as ``ab --threshold`` refuses)."""
    if not value > 0:
        raise ValueError(f"{option} {text!r}: a threshold must be above 0, e.g. {example}")
    return value


def _accuracy_failures(both: pd.DataFrame, rule: GateRule) -> list[str]:
    """One line per model and seed whose accuracy dropped beyond the threshold, significantly."""
    failures, seen = [], set()
    for _, row in both.iterrows():
        key = (row["model"], row["seed"])  # accuracy is the weights': one line per model and seed
        if key in seen:
            continue
        seen.add(key)
        p_value = row["accuracy_p_value"]
        significant = math.isnan(p_value) or p_value < ALPHA  # NaN: different test images, the threshold decides
        if -row["accuracy_change_pp"] > rule.threshold and significant:
            failures.append(
                f"{row['model']} (seed {row['seed']}): test accuracy {row['base_accuracy']:.2%} -> "
                f"{row['current_accuracy']:.2%} ({row['accuracy_change_pp']:+.2f} pp, McNemar p="
                f"{p_value:.3g}) exceeds {rule.text}"
            )
    return failures


def _time_failures(both: pd.DataFrame, rule: GateRule) -> list[str]:
    """Benchmarks slower beyond the threshold with a Holm-corrected Mann-Whitney p below ``ALPHA``."""
    # unless groups are named, a probe's wall time (the memory groups') is left out: it would only widen Holm's family
    rows = both[both["group"].isin(rule.groups)] if rule.groups else both[both["group"].map(measures_time)]
    rows = rows[rows[f"base_{rule.stat}_s"].notna() & rows[f"current_{rule.stat}_s"].notna()]
    if rows.empty:
        return []
    p_values = rows["time_p_value"].fillna(1.0).to_numpy()
    failures = []
    for (_, row), p in zip(rows.iterrows(), holm(p_values), strict=True):
        change = (row[f"current_{rule.stat}_s"] / row[f"base_{rule.stat}_s"] - 1) * 100
        if change > rule.threshold and p < ALPHA:
            failures.append(
                f"{row['model']} [{row['benchmark']}, seed {row['seed']}]: {rule.stat} time {change:+.1f}% "
                f"(Mann-Whitney p={row['time_p_value']:.3g}, Holm p={p:.3g}) exceeds {rule.text}"
            )
    return failures


def _gated_rows(both: pd.DataFrame, rule: GateRule):
    """Each gated column of ``rule`` with the benchmarks that have its figure in both runs."""
    for spec, column in gated_columns().get(rule.kind, []):
        base, current = f"base_{column.column}", f"current_{column.column}"
        if base in both and current in both:
            rows = both[both["group"] == spec.name]
            yield column, base, current, rows[rows[base].notna() & rows[current].notna()]


def _gated_failures(both: pd.DataFrame, rule: GateRule) -> list[str]:
    """Benchmarks whose gated figure (a peak memory) grew beyond the threshold and beyond its resolution."""
    failures = []
    for column, base, current, rows in _gated_rows(both, rule):
        for _, row in rows.iterrows():
            a, b = float(row[base]), float(row[current])
            if b - a > column.resolution and b > a * (1 + rule.threshold / 100):
                failures.append(
                    f"{row['model']} [{row['benchmark']}, seed {row['seed']}]: {column.label} {a:,.3g} -> {b:,.3g} "
                    f"({(b / a - 1) * 100 if a else math.inf:+.1f}%, resolution {column.resolution:g}) exceeds {rule.text}"
                )
    return failures


def gate(comparison: pd.DataFrame, rules: list[GateRule], base: Run, current: Run) -> list[str]:
    """Every violation of ``rules`` as a readable line (empty: the gate passes).

    A time rule between runs of different machine identities raises ``RunError``: their time
    differences measure the machines, not the code.
    """
    if any(rule.kind == "time" for rule in rules) and not same_machine(base, current):
        a, b = machine.identity(base.machine), machine.identity(current.machine)
        differ = ", ".join(f"{k}: {a[k]} vs {b[k]}" for k in a if a[k] != b[k])
        raise RunError(
            f"a time rule compares {current.name} with {base.name}, which ran on different machines ({differ}); "
            "across machines a time difference is not evidence of a code change. Gate time with "
            "`mnist-models ab --base <ref>` (both versions in alternation on one machine), and gate accuracy here"
        )
    both = comparison[comparison["status"] == "both"] if "status" in comparison else comparison.iloc[0:0]
    for rule in rules:
        if rule.kind not in gated_columns():
            continue
        a, b = machine.identity(base.machine), machine.identity(current.machine)
        if differ := [f"{k}: {a[k]} vs {b[k]}" for k in ("device", "torch") if a[k] != b[k]]:
            raise RunError(
                f"{rule.text} compares {current.name} with {base.name}, measured on another device or torch build "
                f"({', '.join(differ)}), whose allocators differ; compare {rule.kind} between runs of one device and build"
            )
        if not any(len(rows) for *_, rows in _gated_rows(both, rule)):
            flags = sorted({f"--mnist-{s.left_out_by.replace('_', '-')}" for s, _ in gated_columns()[rule.kind]
                            if s.left_out_by})  # fmt: skip
            raise RunError(
                f"{rule.text} compares nothing: no benchmark has a {rule.kind} figure in both {base.name} and "
                f"{current.name}. Make both runs with the {rule.kind} groups"
                + (f" (without {', '.join(flags)})" if flags else "")
            )
    if both.empty:
        return []
    failures = []
    for rule in rules:
        check = {"accuracy": _accuracy_failures, "time": _time_failures}.get(rule.kind, _gated_failures)
        failures += check(both, rule)
    return failures


UNPAIRED_NOTE = (
    "The baseline and this run were not measured side by side: they come from different sessions, "
    "{machines}. On shared VMs identical code moves 10-140% between sessions and about 2x between "
    "CPUs of one kind, so their time differences are not evidence of a code change: gate time with "
    "`mnist-models ab` (both versions in alternation on one machine); accuracy, parameters and FLOPs "
    "do not depend on the machine and are gated here."
)


def same_machine(base: Run, current: Run) -> bool:
    """Whether the two runs share a machine identity (CPU model and ISA, device, threads, torch build)."""
    return machine.identity(base.machine) == machine.identity(current.machine)


def machines_table(base: Run, current: Run) -> pd.DataFrame:
    """The two runs' machines, fact by fact, side by side."""
    a, b = machine.facts(base.machine, base.datetime), machine.facts(current.machine, current.datetime)
    return pd.DataFrame(
        {"fact": list(a), f"baseline {base.name}": list(a.values()), f"this run {current.name}": list(b.values())}
    )


def membership_notes(comparison: pd.DataFrame, base: Run, current: Run) -> list[str]:
    """Models and benchmarks in only one of the two runs: listed, never gated."""
    old_models = {b.record.model for b in base.benches}
    new_models = {b.record.model for b in current.benches}
    added, removed = sorted(new_models - old_models), sorted(old_models - new_models)
    notes = []
    partial = comparison[comparison["status"] != "both"]
    partial = partial[partial["model"].isin(old_models & new_models)]
    if len(partial):
        first = partial.iloc[0]
        notes.append(
            f"{len(partial)} benchmark(s) of models in both runs are in only one of them (e.g. "
            f"{first['model']} {first['benchmark']}: {first['status']}); not gated."
        )
    if added:
        notes.append(f"Added since the baseline (not gated): {', '.join(added)}.")
    if removed:
        notes.append(f"Removed since the baseline (not gated): {', '.join(removed)}.")
    return notes
