"""Statistics the report's verdicts rest on: pure functions of arrays, no tables, no drawing.

- McNemar's test compares two trained networks on the same test images (their weights).
- ``architecture_test`` compares two architectures from several seeds each: a Welch t-test
  on the per-seed test accuracies whose variance adds the finite test set's share (the
  seed-averaged correctness of the two, image by image, on the shared images), after
  Bouthillier et al., "Accounting for variance in machine learning benchmarks" (MLSys 2021):
  a claim about an architecture must hold across the sources of variance, of which the seed
  (initial weights, batch order, dropout) and the test sample are the two a run can measure;
  ``prob_outperform`` is their P(A > B).
- Holm's step-down correction across every comparison a table or figure shows.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.power import TTestIndPower


def pareto_front(cost: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Boolean mask of points no other point beats (lower or equal cost and higher or equal score, one strictly)."""
    cost, score = np.asarray(cost, float), np.asarray(score, float)
    mask = np.ones(len(cost), bool)
    for i in range(len(cost)):
        better = (cost <= cost[i]) & (score >= score[i]) & ((cost < cost[i]) | (score > score[i]))
        mask[i] = not better.any()
    return mask


def mcnemar_p(pred_a: np.ndarray, pred_b: np.ndarray, labels: np.ndarray) -> float:
    """McNemar's test on paired correctness; exact binomial when the discordant count is small."""
    a, b = pred_a == labels, pred_b == labels
    table = [[int(np.sum(a & b)), int(np.sum(a & ~b))], [int(np.sum(~a & b)), int(np.sum(~a & ~b))]]
    discordant = table[0][1] + table[1][0]
    if discordant == 0:
        return 1.0
    return float(mcnemar(table, exact=discordant < 25, correction=True).pvalue)


def holm(p_values: list[float] | np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values (the family-wise error rate stays at the level used); NaN counts as 1.

    The same numbers as ``statsmodels.stats.multitest.multipletests(p, method="holm")[1]`` (a test
    checks it), computed here because that function runs ``gc.collect()`` on every call: 50-200 ms in
    a process that holds torch, for each of the dozens of families a report or a history tests.
    """
    p = np.nan_to_num(np.asarray(p_values, float), nan=1.0)
    if p.size == 0:
        return p
    order = np.argsort(p)
    stepped = np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1))
    out = np.empty_like(p)
    out[order] = np.minimum(stepped, 1.0)
    return out


def architecture_test(
    acc_a: np.ndarray, acc_b: np.ndarray, correct_a: np.ndarray, correct_b: np.ndarray
) -> tuple[float, float, float, float]:
    """(difference of mean accuracies, its standard error, degrees of freedom, two-sided p).

    ``acc_*``: one test accuracy per seed; ``correct_*``: seeds x images, 1 where that seed's
    network got the (shared) test image right. The variance is the seeds' (Welch) plus the test
    sample's: the variance over images of the seed-averaged correctness difference, over n.
    """
    acc_a, acc_b = np.asarray(acc_a, float), np.asarray(acc_b, float)
    ka, kb = len(acc_a), len(acc_b)
    diff = float(acc_a.mean() - acc_b.mean())
    va = acc_a.var(ddof=1) / ka if ka > 1 else 0.0
    vb = acc_b.var(ddof=1) / kb if kb > 1 else 0.0
    per_image = np.asarray(correct_a, float).mean(axis=0) - np.asarray(correct_b, float).mean(axis=0)
    vt = float(per_image.var(ddof=1) / len(per_image)) if len(per_image) > 1 else 0.0
    se = math.sqrt(va + vb + vt)
    if se == 0:
        return diff, 0.0, math.inf, 1.0 if diff == 0 else 0.0
    pieces = (va**2 / (ka - 1) if ka > 1 else 0.0) + (vb**2 / (kb - 1) if kb > 1 else 0.0)
    df = (va + vb + vt) ** 2 / pieces if pieces > 0 else math.inf
    p_value = (
        float(2 * stats.t.sf(abs(diff) / se, df)) if math.isfinite(df) else float(2 * stats.norm.sf(abs(diff) / se))
    )
    return diff, se, df, p_value


def prob_outperform(acc_a: np.ndarray, acc_b: np.ndarray) -> float:
    """P(A > B): the share of (seed of A, seed of B) pairs in which A is more accurate, ties counting half."""
    a, b = np.asarray(acc_a, float)[:, None], np.asarray(acc_b, float)[None, :]
    return float(((a > b) + 0.5 * (a == b)).mean())


def seeds_needed(difference: float, seed_sd: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Seeds per architecture for a two-sided two-sample t-test to detect ``difference`` with ``power``
    at the seed spread ``seed_sd`` (both in the same units, e.g. accuracy points)."""
    if seed_sd <= 0:
        return 2
    effect = difference / seed_sd
    k = TTestIndPower().solve_power(effect_size=effect, alpha=alpha, power=power, alternative="two-sided")
    return max(2, math.ceil(float(k)))
