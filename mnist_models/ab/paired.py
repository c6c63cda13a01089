"""Pair-by-pair comparison of two sides' block times, and a gate with its false alarms controlled.

Each pair holds one block of the base and one of the head, run back to back in a random
order, so drift and noisy neighbours hit both alike. Per case the statistic is the log of
head/base block medians; the slowdown is their geometric mean with a t interval, and the
one-sided p-value (H0: no slowdown) comes from a t-test on the logs. A case fails only when
its Holm-adjusted p-value is below alpha (the chance that any of the suite's cases raises
a false alarm is then at most alpha) and its slowdown is beyond the threshold.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests


def compare_pairs(base: dict[str, list[float]], head: dict[str, list[float]], threshold: float, alpha: float = 0.05):
    """One row per case: pairs, slowdown (head/base) with its 95% interval, p, Holm p, verdict.

    ``base`` and ``head`` map a case to its block medians, pair by pair (same length).
    """
    rows = []
    for case in base:
        a, b = np.asarray(base[case], float), np.asarray(head[case], float)
        logs = np.log(b / a)
        n = len(logs)
        mean = float(logs.mean())
        half = float(stats.t.ppf(0.975, n - 1) * logs.std(ddof=1) / math.sqrt(n)) if n > 1 else math.inf
        p_value = float(stats.ttest_1samp(logs, 0.0, alternative="greater").pvalue) if n > 1 else 1.0
        rows.append(
            {
                "case": case,
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
    table["holm_p"] = multipletests(table["p_value"], alpha=alpha, method="holm")[1]
    table["failed"] = (table["holm_p"] < alpha) & (table["ratio"] > 1 + threshold)
    return table


def failures(table: pd.DataFrame, threshold: float, alpha: float) -> list[str]:
    """A readable line per failing case, with its interval (empty: the gate passes)."""
    if table.empty:
        return []
    return [
        f"{row.case}: {row.ratio - 1:+.1%} slower (95% interval {row.ratio_low - 1:+.1%} to {row.ratio_high - 1:+.1%}, "
        f"{row.pairs} pairs, Holm p={row.holm_p:.2g}) exceeds +{threshold:.0%} at alpha {alpha}"
        for row in table.itertuples()
        if row.failed
    ]
