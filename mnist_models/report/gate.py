"""Comparing two runs case by case, and the regression gate's rules: one module for the plugin and the CLI."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..bench.groups import GROUPS
from .compute import mcnemar_p
from .runs import Run

TIME_STATS = ("min", "max", "mean", "median")
ACCURACY_ALPHA = 0.05  # an accuracy drop gates only when McNemar's test finds it significant at this level


def compare_runs(base: Run, current: Run) -> pd.DataFrame:
    """Per (model, case): time medians with % change and Mann-Whitney p; accuracy change with McNemar p."""

    def index(run: Run) -> dict[tuple[str, str], tuple]:
        return {
            (b.record.model, b.record.case, b.record.seed, b.record.engine_loop or b.record.lever or ""): b
            for b in run.benches
        }

    old, new = index(base), index(current)
    rows = []
    for key in sorted(set(old) | set(new)):
        model, case, seed, loop = key
        row: dict = {"model": model, "case": f"{case} ({loop})" if loop else case, "group": case, "seed": seed}
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
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class GateRule:
    """``time:<stat>:<pct>%[:group,group]`` or ``accuracy:<pp>pp``."""

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
            unknown = set(groups) - set(GROUPS)
            if unknown:
                raise ValueError(
                    f"{option} {text!r}: unknown group(s) {sorted(unknown)}; groups are {', '.join(GROUPS)}"
                )
            return cls("time", float(time_rule[2]), time_rule[1], groups, text)
        acc_rule = re.fullmatch(r"accuracy:(\d+(?:\.\d+)?)pp", text)
        if acc_rule:
            return cls("accuracy", float(acc_rule[1]), text=text)
        raise ValueError(
            f"{option} {text!r}: expected time:median:15% (optionally :train-step,latency) or accuracy:0.3pp"
        )


def gate(comparison: pd.DataFrame, rules: list[GateRule]) -> list[str]:
    """Every violation of ``rules`` in ``comparison`` as a readable line (empty: the gate passes)."""
    if comparison.empty or "status" not in comparison:
        return []
    both = comparison[comparison["status"] == "both"]
    failures = []
    for rule in rules:
        if rule.kind == "accuracy":
            # accuracy is a property of the weights: one line per model and seed, from its train case or any case
            seen = set()
            for _, row in both.iterrows():
                key = (row["model"], row["seed"])
                if key in seen:
                    continue
                seen.add(key)
                # a drop fails when it is beyond the threshold and real: McNemar on the shared test images
                # (without paired predictions, e.g. different test sets, the threshold alone decides)
                p_value = row["accuracy_p_value"]
                significant = math.isnan(p_value) or p_value < ACCURACY_ALPHA  # NaN: no paired test
                if -row["accuracy_change_pp"] > rule.threshold and significant:
                    failures.append(
                        f"{row['model']} (seed {row['seed']}): test accuracy {row['base_accuracy']:.2%} -> "
                        f"{row['current_accuracy']:.2%} ({row['accuracy_change_pp']:+.2f} pp, McNemar p="
                        f"{row['accuracy_p_value']:.3g}) exceeds {rule.text}"
                    )
            continue
        for _, row in both.iterrows():
            if rule.groups and row["group"] not in rule.groups:
                continue
            base_time, current_time = row[f"base_{rule.stat}_s"], row[f"current_{rule.stat}_s"]
            if not base_time or not current_time:
                continue
            change = (current_time / base_time - 1) * 100
            if change > rule.threshold:
                failures.append(
                    f"{row['model']} [{row['case']}, seed {row['seed']}]: {rule.stat} time {change:+.1f}% "
                    f"(Mann-Whitney p={row['time_p_value']:.3g}) exceeds {rule.text}"
                )
    return failures


ISA_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16")
UNPAIRED_NOTE = (
    "The baseline and this run were not measured side by side: they come from different sessions, "
    "{machines}. On shared VMs identical code moves 10-140% between sessions and about 2x between "
    "CPUs of one kind, so their time differences are not evidence of a code change: gate time with "
    "`mnist-models ab` (both versions in alternation on one machine); accuracy, parameters and FLOPs "
    "do not depend on the machine and are gated here."
)


def machine_facts(run: Run) -> dict[str, str]:
    """What decides a run's speed, from its saved machine info, for showing two runs side by side."""
    info = run.machine or {}
    cpu, ours = info.get("cpu") or {}, info.get("mnist_models") or {}
    peak = ours.get("matmul_peak_flops")
    return {
        "CPU": str(cpu.get("brand_raw") or info.get("processor") or "?"),
        "ISA": " ".join(f for f in ISA_FLAGS if f in (cpu.get("flags") or [])) or "?",
        "measured fp32 matmul peak": f"{peak / 1e9:.0f} GFLOP/s" if peak else "?",
        "device": str(ours.get("device_name") or ours.get("device") or "?"),
        "threads": str(ours.get("threads", "?")),
        "torch": str(ours.get("torch", "?")),
        "run at": str(run.datetime or "?")[:19],
    }


def machines_table(base: Run, current: Run) -> pd.DataFrame:
    """The two runs' machines, fact by fact, side by side."""
    a, b = machine_facts(base), machine_facts(current)
    return pd.DataFrame(
        {"fact": list(a), f"baseline {base.name}": list(a.values()), f"this run {current.name}": list(b.values())}
    )
