"""Architectures compared across training seeds: each seed a network, the test set a sample of images.

``architecture_test`` compares two architectures from several seeds each: a Welch t-test on the per-seed test
accuracies whose variance adds the finite test set's share (the seed-averaged correctness of the two, image by
image, on the shared images), after Bouthillier et al., "Accounting for variance in machine learning
benchmarks" (MLSys 2021); ``prob_outperform`` is their P(A > B).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats
from statsmodels.stats.power import TTestIndPower


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
