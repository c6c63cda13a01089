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
    return mcnemar_counts_p(int(np.sum(a & ~b)), int(np.sum(~a & b)))


def mcnemar_counts_p(only_a: int, only_b: int) -> float:
    """McNemar's two-sided p from the discordant counts (items only ``a`` gets right, items only ``b`` does): the
    exact binomial test below 25 of them, else the chi-square with continuity correction; 1 without any."""
    discordant = only_a + only_b
    if discordant == 0:
        return 1.0
    return float(mcnemar([[0, only_a], [only_b, 0]], exact=discordant < 25, correction=True).pvalue)


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


def clustered_parts(logs: np.ndarray, process: np.ndarray, trim: float = TRIM) -> tuple[np.ndarray, ...]:
    """Per row of ``logs`` (shape ``(..., n)``, pairs in the order measured) whose pairs ran in the worker pairs
    ``process`` (shape ``(n,)``, one label per pair): (trimmed mean, its Tukey-McLaughlin variance as if the pairs
    were independent, the between-process excess per worker pair, the number of worker pairs).

    The excess is ``k`` times the cluster-robust (CR1) variance of the trimmed mean less the per-pair one, both on
    the winsorized logs, so that a wild pair is clipped before it weighs on either: about 0 when the pairs are
    independent, about a worker pair's offset variance when each process carries a persistent offset; NaN with
    one worker pair, where it cannot be told from the mean (Kalibera & Jones 2013's two-level model of
    benchmark noise: executions, then iterations within each). ``trimmed_test`` is the one-row special case of the
    first two."""
    x = np.asarray(logs, float)
    labels = np.unique(process, return_inverse=True)[1]
    n, k = x.shape[-1], int(labels.max()) + 1
    ordered = np.sort(x, axis=-1)
    g = math.floor(trim * n)
    center = ordered[..., g : n - g].mean(axis=-1)
    winsor = np.clip(x, ordered[..., [g]], ordered[..., [n - g - 1]])
    scale = ((1 - 2 * trim) * n) ** 2
    deviations = winsor - winsor.mean(axis=-1, keepdims=True)
    var_pairs = (deviations**2).sum(axis=-1) * n / (n - 1) / scale
    if k < 2:
        return center, var_pairs, np.full_like(center, np.nan), k
    sums = np.stack([deviations[..., labels == c].sum(axis=-1) for c in range(k)], axis=-1)
    var_clustered = k / (k - 1) * (sums**2).sum(axis=-1) / scale
    return center, var_pairs, k * (var_clustered - var_pairs), k
