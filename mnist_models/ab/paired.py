"""Pair-by-pair comparison of two sides' block times, and a gate with its false alarms controlled.

Each pair holds one block of the base and one of the head, run back to back in a random
order, so drift and noisy neighbours hit both alike. Per benchmark the statistic is the log
of head/base block medians; the slowdown is their geometric mean with a t interval, and the
one-sided p-value (H0: no slowdown) comes from a t-test on the logs. A benchmark fails only
when its Holm-adjusted p-value is below alpha (the chance that any of the suite's benchmarks
raises a false alarm is then at most alpha) and its slowdown is beyond the threshold.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from ..report.stats import holm


def compare_pairs(base: dict[str, list[float]], head: dict[str, list[float]], threshold: float, alpha: float = 0.05):
    """One row per benchmark: pairs, slowdown (head/base) with its 95% interval, p, Holm p, verdict.

    ``base`` and ``head`` map a benchmark to its block medians, pair by pair (same length).
    """
    rows = []
    for bench in base:
        a, b = np.asarray(base[bench], float), np.asarray(head[bench], float)
        logs = np.log(b / a)
        n = len(logs)
        mean = float(logs.mean())
        half = float(stats.t.ppf(0.975, n - 1) * logs.std(ddof=1) / math.sqrt(n)) if n > 1 else math.inf
        p_value = float(stats.ttest_1samp(logs, 0.0, alternative="greater").pvalue) if n > 1 else 1.0
        rows.append(
            {
                "benchmark": bench,
                "pairs": n,
                "ratio": math.exp(mean),
                "ratio_low": math.exp(mean - half),
                "ratio_high": math.exp(mean + half),
                "head_faster_pairs": int((logs < 0).sum()),
                "p_value": 1.0 if math.isnan(p_value) else p_value,  # NaN: every pair identical
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["holm_p"] = holm(table["p_value"])
    table["failed"] = (table["holm_p"] < alpha) & (table["ratio"] > 1 + threshold)
    return table


def failures(table: pd.DataFrame, threshold: float, alpha: float) -> list[str]:
    """A readable line per failing benchmark, with its interval (empty: the gate passes)."""
    if table.empty:
        return []
    return [
        f"{row.benchmark}: {row.ratio - 1:+.1%} slower (95% interval {row.ratio_low - 1:+.1%} to {row.ratio_high - 1:+.1%}, "
        f"{row.pairs} pairs, Holm p={row.holm_p:.2g}) exceeds +{threshold:.0%} at alpha {alpha}"
        for row in table.itertuples()
        if row.failed
    ]


def markdown(table: pd.DataFrame, title: str, pairs: int, threshold: float, alpha: float, slowdown: float) -> list[str]:
    """``ab.md``: how the comparison was made, then one row per benchmark."""
    injected = f"; INJECTED slowdown on the head: +{slowdown:.0%}" if slowdown else ""
    return [
        f"# A/B: {title}",
        "",
        f"{pairs} pairs of interleaved blocks per benchmark; slowdown = head/base block medians (geometric mean, "
        f"95% t interval); a benchmark fails when its Holm-adjusted p < {alpha} and it is more than "
        f"{threshold:.0%} slower{injected}",
        "",
        "| benchmark | slowdown | 95% interval | head faster in | Holm p | verdict |",
        "|---|---:|---|---:|---:|---|",
        *(
            f"| {r.benchmark} | {r.ratio - 1:+.1%} | {r.ratio_low - 1:+.1%} to {r.ratio_high - 1:+.1%} | "
            f"{r.head_faster_pairs}/{r.pairs} | {r.holm_p:.2g} | {'FAILED' if r.failed else 'ok'} |"
            for r in table.itertuples()
        ),
    ]
