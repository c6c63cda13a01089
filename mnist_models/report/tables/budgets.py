"""What to pick for a budget: for each cost, the models no other model beats, with the cost's own uncertainty.

A time measured in one process is not the code's speed: the same code's batch-1 latency differed up to
2.7x between fresh processes on one machine. Each time cost therefore carries an interval: the spread
between processes measured by a committed study (``reference.py``) for latency and throughput, and the
spread between seeds for the training time where a run has several. A model is off a budget's front
only when another is more accurate *and* cheaper beyond both intervals; front models whose cost
intervals overlap are named together, since the run cannot say which of them is cheaper.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from .compute import Variant
from .reference import process_spread

# column -> (what it is, whether more is better, how a budget reads, the spread that applies)
COSTS = {
    "latency_p50_ms": ("batch-1 latency p50", False, "{:.3g} ms", "latency"),
    "best_latency_p50_ms": ("batch-1 latency p50 on the fastest agreeing runtime", False, "{:.3g} ms", "latency"),
    "throughput_img_s": ("batched throughput", True, "{:,.0f} img/s", "throughput"),
    "train_time_s": ("training time", False, "{:.3g} s", "seeds"),
    "params": ("parameters", False, "{:,.0f} parameters", None),
    "flops_inference": ("FLOPs per image", False, "{:,.0f} FLOPs", None),
}
Z = stats.norm.ppf(0.975)


def cost_interval(column: str, row: pd.Series, items: dict[str, Variant]) -> tuple[float, float]:
    """The 95% interval of one model's cost: between processes (times of one process), between seeds (training
    time), none (parameters, FLOPs: exact)."""
    value, spread = float(row[column]), COSTS[column][3]
    if spread in ("latency", "throughput"):
        sd = process_spread(spread, row["model"].split(" [")[0])
        return value * math.exp(-Z * sd), value * math.exp(Z * sd)
    if spread == "seeds":
        times = [r.outcome.train_time_s for r in items[row["model"]].seeds()] if row["model"] in items else []
        if len(times) < 2:
            return value, value
        logs = np.log(times)
        half = stats.t.ppf(0.975, len(logs) - 1) * logs.std(ddof=1) / math.sqrt(len(logs))
        return value * math.exp(-half), value * math.exp(half)
    return value, value


def pareto_sets(summary: pd.DataFrame, items: list[Variant]) -> dict[str, list[dict]]:
    """For each cost, the front cheapest first: each entry a model, its cost and interval, its accuracy, and the
    other front models whose cost interval overlaps its own (``with``)."""
    by_label = {v.label: v for v in items}
    out = {}
    for column, (_, higher, _, _) in COSTS.items():
        if column not in summary or not summary[column].notna().any():
            continue
        table = summary.dropna(subset=[column])
        rows = []
        for _, row in table.iterrows():
            low, high = cost_interval(column, row, by_label)
            # as a cost to keep low: throughput's interval turned upside down
            rows.append({"model": row["model"], "value": float(row[column]), "low": low, "high": high,
                         "accuracy": float(row["test_accuracy"]),
                         "cost": (-high, -low) if higher else (low, high)})  # fmt: skip
        front = [r for r in rows if not any(_beats(o, r) for o in rows if o is not r)]
        front.sort(key=lambda r: (-r["value"] if higher else r["value"], -r["accuracy"]))
        for r in front:
            r["with"] = [o["model"] for o in front if o is not r and _overlap(o["cost"], r["cost"])]
        out[column] = [{k: v for k, v in r.items() if k != "cost"} for r in front]
    return out


def _beats(other: dict, model: dict) -> bool:
    """``other`` is more accurate (or as accurate) and cheaper beyond both intervals."""
    cheaper = other["cost"][1] < model["cost"][0]
    return cheaper and other["accuracy"] >= model["accuracy"]


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def budget_lines(sets: dict[str, list[dict]]) -> list[str]:
    """Each front as a sentence: for a budget of X, the most accurate model within it, and who it cannot be told
    apart from on that cost."""
    lines = []
    for column, front in sets.items():
        what, higher, unit, _ = COSTS[column]
        bound = "at least" if higher else "up to"
        steps = []
        for p in front:
            step = f"{bound} {unit.format(p['value'])}: **{p['model']}** ({p['accuracy']:.2%})"
            if p.get("with"):
                step += f", cost not told apart from {', '.join(p['with'])}"
            steps.append(step)
        lines.append(f"Most accurate for a {what} budget — {'; '.join(steps)}.")
    return lines
