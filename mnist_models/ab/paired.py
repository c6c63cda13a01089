"""Pair-by-pair comparison of two sides' block times, and a gate with its false alarms controlled.

Each pair holds one block of the base and one of the head, run back to back in a random
order, so drift and noisy neighbours hit both alike. Per benchmark the statistic is the log
of head/base block medians, pair by pair. Their noise is heavy-tailed: most pairs agree within
a few percent, and now and then a noisy neighbour lands on one block of a pair only (measured,
identical code, 256 batch-1 latency pairs: the middle half within −2% to +1%, one in six off by
more than 20%). So the slowdown is the 20%-trimmed mean of the logs (each tail's 20% left
out), with its Tukey-McLaughlin standard error (winsorized), a t interval and a one-sided test
on it (Yuen's test for one sample; H0: no slowdown): a mean and a t-test would let one wild pair
swamp fifteen calm ones. A benchmark fails only when its Holm-adjusted p-value is below alpha
(the chance that any of the suite's benchmarks raises a false alarm is then at most alpha) and
its slowdown is beyond the threshold. ``scripts/gate_power.py`` measures the result.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..stats.multiple import holm
from ..stats.paired import trimmed_test


def compare_pairs(base: dict[str, list[float]], head: dict[str, list[float]], threshold: float, alpha: float = 0.05):
    """One row per benchmark: pairs, slowdown (head/base) with its 95% interval, p, Holm p, verdict.

    ``base`` and ``head`` map a benchmark to its block medians, pair by pair (same length).
    """
    rows = []
    for bench in base:
        a, b = np.asarray(base[bench], float), np.asarray(head[bench], float)
        center, half, p_value = trimmed_test(np.log(b / a))
        rows.append(
            {
                "benchmark": bench,
                "pairs": len(a),
                "ratio": math.exp(center),
                "ratio_low": math.exp(center - half),
                "ratio_high": math.exp(center + half),
                "head_faster_pairs": int((b < a).sum()),
                "p_value": p_value,
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["holm_p"] = holm(table["p_value"])
    table["failed"] = (table["holm_p"] < alpha) & (table["ratio"] > 1 + threshold)
    return table


def pairs_table(medians: dict[str, dict[str, list[float]]]) -> pd.DataFrame:
    """``pairs.csv``: every pair's block median per side (seconds), the evidence behind each row of ``ab.csv``."""
    return pd.DataFrame(
        [
            {"benchmark": bench, "pair": k + 1, "base_s": base, "head_s": head, "log_ratio": math.log(head / base)}
            for bench in medians["base"]
            for k, (base, head) in enumerate(zip(medians["base"][bench], medians["head"][bench], strict=True))
        ]
    )


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
        f"{pairs} pairs of interleaved blocks per benchmark; slowdown = head/base block medians (20%-trimmed mean of "
        f"the pairs' logs, 95% Tukey-McLaughlin t interval); a benchmark fails when its Holm-adjusted p < {alpha} and it is more than "
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
