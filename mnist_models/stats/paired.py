"""Paired comparisons: two classifiers on the same test images (McNemar), and paired log ratios whose noise is
heavy-tailed (a trimmed mean with its Tukey-McLaughlin standard error, Yuen's one-sample test)."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar

TRIM = 0.2  # the share of pairs left out at each tail of the log ratios


def mcnemar_p(pred_a: np.ndarray, pred_b: np.ndarray, labels: np.ndarray) -> float:
    """McNemar's test on paired correctness; exact binomial when the discordant count is small."""
    a, b = pred_a == labels, pred_b == labels
    table = [[int(np.sum(a & b)), int(np.sum(a & ~b))], [int(np.sum(~a & b)), int(np.sum(~a & ~b))]]
    discordant = table[0][1] + table[1][0]
    if discordant == 0:
        return 1.0
    return float(mcnemar(table, exact=discordant < 25, correction=True).pvalue)


def trimmed_test(logs: np.ndarray, trim: float = TRIM) -> tuple[float, float, float]:
    """(trimmed mean of ``logs``, half-width of its 95% t interval, one-sided p of H0: no increase).

    The same numbers as ``scipy.stats.trim_mean`` and ``scipy.stats.mstats.trimmed_stde`` (a test checks it), in
    numpy: the sequential gate computes them after every pair of every benchmark, and the masked arrays of
    ``mstats`` cost 30 times as much.
    """
    x = np.sort(np.asarray(logs, float))
    n = len(x)
    if n < 2:
        return float(x.mean()) if n else 0.0, math.inf, 1.0
    g = math.floor(trim * n)
    center = float(x[g : n - g].mean())
    se = float(np.clip(x, x[g], x[n - g - 1]).std(ddof=1) / ((1 - 2 * trim) * math.sqrt(n)))  # Tukey-McLaughlin
    df = n - 2 * g - 1
    if not se > 0:  # every pair identical (or the kept ones are)
        return center, 0.0, 0.0 if center > 0 else 1.0
    return center, float(stats.t.ppf(0.975, df) * se), float(stats.t.sf(center / se, df))
