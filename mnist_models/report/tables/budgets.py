"""What to pick for a budget: for each cost, the point-estimate Pareto front, each pick with what the run cannot
tell apart from it.

The front is the one the Pareto figure draws (``stats.pareto.pareto_front`` on the point estimates): a model
is on it when no other model is at least as cheap and at least as accurate, one of the two strictly. So a pick
is the most accurate model within its own cost, and never less accurate than a model cheaper than it.

What the front cannot say is which of two close models is really cheaper or more accurate. A time measured in
one process is not the code's speed (the same code's batch-1 latency moved up to 2.7x between fresh
processes), so each time cost carries an interval: the spread between processes of a committed study
(``reference.py``) for latency and throughput, between seeds for the training time where a run has several.
Beside each pick the answer names the models it cannot be told apart from: their cost intervals overlap the
pick's and their accuracy is not significantly different (Holm over every pair, ``significance``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ...results.groups import summary_columns
from ...stats.pareto import pareto_front
from .compute import Variant
from .reference import process_spread
from .significance import ALPHA, Significance

# column -> (what it is, whether more is better, how a budget reads, the spread that applies)
BUILT_IN = {
    "latency_p50_ms": ("latency, eager", False, "{:.3g} ms", "latency"),  # batch 1, p50
    "best_latency_p50_ms": ("latency, fastest runtime", False, "{:.3g} ms", "latency"),  # the one that agrees
    "throughput_img_s": ("throughput", True, "{:,.0f} img/s", "throughput"),  # batched
    "train_time_s": ("training time", False, "{:.3g} s", "seeds"),
    "params": ("parameters", False, "{:,.0f}", None),
    "flops_inference": ("FLOPs per image", False, "{:,.0f}", None),
}


class Costs(Mapping):
    """The answer's costs: the built-in ones, then each group's summary columns that declare a ``Cost`` (read at
    each use: a group registered later counts), as ``(what, higher, budget, spread)``; a group cost's spread is its
    resolution (a number)."""

    def _all(self) -> dict[str, tuple]:
        declared = {c.column: (c.cost.what, c.cost.higher, c.cost.budget, c.resolution)
                    for _, c in summary_columns() if c.cost is not None}  # fmt: skip
        return {**BUILT_IN, **declared}

    def __getitem__(self, column: str) -> tuple:
        return self._all()[column]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


COSTS = Costs()


def cost_unit(column: str) -> str:
    """The unit of a group's declared cost for a figure's axis ("" for the built-in costs and unknown columns)."""
    return next((c.cost.unit for _, c in summary_columns() if c.column == column and c.cost), "")


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
    if isinstance(spread, float) and spread > 0:  # a group's cost measured to a resolution
        return max(value - spread, 0.0), value + spread
    return value, value


def front_mask(table: pd.DataFrame, column: str) -> np.ndarray:
    """The point-estimate Pareto front of test accuracy against ``column`` (the figure's and the answer's)."""
    x = table[column].to_numpy(float)
    return pareto_front(-x if COSTS[column][1] else x, table["test_accuracy"].to_numpy(float))


def holm_p(sig: Significance | None, a: str, b: str) -> float | None:
    """The Holm-adjusted p of ``a`` against ``b`` (every pair of the report); None: the two were never compared."""
    if sig is None or a not in sig.adjusted.index or b not in sig.adjusted.columns:
        return None
    p = sig.adjusted.loc[a, b]
    return None if pd.isna(p) else float(p)


def detectable_pp(sig: Significance | None, a: str, b: str) -> float | None:
    """The smallest difference the test of ``a`` against ``b`` could have detected (80% power, the family's level)."""
    if sig is None or not len(sig.pairs):
        return None
    pair = sig.pairs[((sig.pairs["a"] == a) & (sig.pairs["b"] == b)) | ((sig.pairs["a"] == b) & (sig.pairs["b"] == a))]
    return float(pair["mdd_pp"].iloc[0]) if len(pair) else None


def separated(sig: Significance | None, a: str, b: str) -> bool:
    """Whether ``a`` and ``b``'s accuracies differ significantly (never compared: not separated)."""
    p = holm_p(sig, a, b)
    return p is not None and p < ALPHA


def fronts(summary: pd.DataFrame, items: list[Variant], sig: Significance | None = None) -> dict[str, list[dict]]:
    """For each cost the runs measured, its front cheapest first. Each pick: its cost with the cost's interval,
    its accuracy with its interval, its gain over the cheaper pick before it (with the Holm p of that pair), and
    ``apart``: the models the run cannot tell apart from it (cost intervals overlap, accuracy not separated)."""
    by_label = {v.label: v for v in items}
    out = {}
    for column, (_, higher, _, _) in COSTS.items():
        if column not in summary or not summary[column].notna().any():
            continue
        table = summary.dropna(subset=[column]).reset_index(drop=True)
        intervals = [cost_interval(column, row, by_label) for _, row in table.iterrows()]
        picks = table[front_mask(table, column)]
        picks = picks.sort_values(["test_accuracy"], ascending=False, kind="stable")
        picks = picks.sort_values(column, ascending=not higher, kind="stable")
        front, previous = [], None
        for i, row in picks.iterrows():
            model, low, high = row["model"], *intervals[i]
            if previous is not None and (previous["value"], previous["accuracy"]) == (
                float(row[column]),
                float(row["test_accuracy"]),
            ):
                continue  # the same point as the pick before it (its twin): named beside it, not a step
            apart = [
                other
                for j, other in enumerate(table["model"])
                if other != model and _overlap(intervals[j], (low, high)) and not separated(sig, model, other)
            ]
            front.append({
                "model": model, "value": float(row[column]), "low": low, "high": high,
                "accuracy": float(row["test_accuracy"]), "ci_low": float(row["ci_low"]), "ci_high": float(row["ci_high"]),
                "gain_over": None if previous is None else previous["model"],
                "gain_pp": None if previous is None else (float(row["test_accuracy"]) - previous["accuracy"]) * 100,
                "gain_holm_p": None if previous is None else holm_p(sig, model, previous["model"]),
                "gain_detectable_pp": None if previous is None else detectable_pp(sig, model, previous["model"]),
                "apart": apart,
                "runtime": row.get("best_runtime") if column == "best_latency_p50_ms" else None,
            })  # fmt: skip
            previous = front[-1]
        out[column] = front
    return out


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def significant(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant figures, never in scientific notation: 0.00501, 0.253, 1,590."""
    if not math.isfinite(value) or value == 0:
        return f"{value:g}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{round(value, decimals):,.{decimals}f}"


def cost_text(column: str, value: float) -> str:
    """A cost as a reader reads it: "0.253 ms", "1,590 s", "23,481 img/s", "29,178"."""
    unit = COSTS[column][2]
    return unit.format(value) if "," in unit else unit.replace("{:.3g}", "{}").format(significant(value))


def rate_text(value: float) -> str:
    """A rate, short: in thousands from 10,000 on (the interval column stays narrow)."""
    return f"{value / 1e3:,.0f}k" if value >= 1e4 else f"{value:,.0f}"
