"""Architectures compared across training seeds and the test sample: the test, its power, the seeds it needs.

The unit of replication is the seed: each seed of an architecture is a network, and a network's
correctness on the shared test images is ``c[s, i]`` (1 right, 0 wrong). The question is about the
architecture, over seeds *and* over the population of images the 10,000 test images sample, as in
Bouthillier et al., "Accounting for variance in machine learning benchmarks" (MLSys 2021). A
two-way random-effects model of each architecture's correctness,

    c[s, i] = mu + a[s] + b[i] + e[s, i]     (seed effect a, image effect b, their interaction e),

gives the variance of the difference of the two grand means, on the same n images, as

    Var(D) = var(a_A)/k_A + var(a_B)/k_B + var(b_A - b_B)/n + var(e_A)/(k_A n) + var(e_B)/(k_B n).

The per-seed accuracies' sample variance ``s2`` estimates ``var(a) + var(e)/n``, so the Welch part
``s2_A/k_A + s2_B/k_B`` already holds the interaction; what the seeds cannot show is the test-set
term ``var(b_A - b_B)/n``: how differently the two architectures find the images hard. It is
estimated from the seed-averaged correctness difference image by image, whose variance over the
images is ``var(b_A - b_B) + var(e_A)/k_A + var(e_B)/k_B``, less the interaction variances (the
two-way ANOVA residual mean square of each architecture's matrix) so that nothing is counted twice.
The estimate is clipped at zero, so adding it can only widen the interval. The difference is then
tested with a t statistic and Welch-Satterthwaite degrees of freedom, each seed variance with its
k - 1 degrees of freedom and the test-set term with n - 1 (Satterthwaite 1946; Welch 1947).

``studies/seed-test/seed_test_calibration.py`` measures the test's false-positive rate and power by simulation
(two nulls: identical architectures; equally accurate architectures that err on different images,
with a fresh test set per repeat), at k = 2, 3, 5 and 10 seeds, from the seed spread and the
per-image correctness of a committed run; ``reports/seed-test`` holds its tables. The degrees of
freedom take each seed variance at its median-unbiased value (``_median_unbiased``): plain
Welch-Satterthwaite rejected 6.6-7.2% of true nulls at alpha 0.05 with two seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class SeedVariance:
    """The pieces of the variance of one comparison, each as a variance of the difference of the grand means."""

    seed_a: float  # s2_A / k_A: the per-seed accuracies' variance (interaction included) over the seeds
    seed_b: float
    images: float  # var(b_A - b_B) / n: the test sample's term, its interaction removed, clipped at zero
    k_a: int
    k_b: int
    n: int

    @property
    def total(self) -> float:
        return self.seed_a + self.seed_b + self.images

    def df(self) -> float:
        """Welch-Satterthwaite degrees of freedom: each seed term with k - 1, the image term with n - 1, the seed
        terms taken at their median-unbiased values (``_median_unbiased``) so that a seed variance that came
        out small by chance does not also make the degrees of freedom large."""
        seed_a, seed_b = _median_unbiased(self.seed_a, self.k_a - 1), _median_unbiased(self.seed_b, self.k_b - 1)
        total = seed_a + seed_b + self.images
        pieces = seed_a**2 / (self.k_a - 1) + seed_b**2 / (self.k_b - 1) + self.images**2 / (self.n - 1)
        return total**2 / pieces if pieces > 0 else math.inf

    def at(self, k_a: int, k_b: int) -> SeedVariance:
        """The same architectures with ``k_a`` and ``k_b`` seeds: the seed terms scale, the image term does not."""
        return SeedVariance(self.seed_a * self.k_a / k_a, self.seed_b * self.k_b / k_b, self.images, k_a, k_b, self.n)


def _median_unbiased(variance: float, df: int) -> float:
    """A variance estimate with ``df`` degrees of freedom scaled to its median-unbiased value, s2 df / chi2_df(0.5).

    A sample variance of a few seeds is right-skewed: with two seeds it is below the true variance in 68%
    of samples. Welch-Satterthwaite degrees of freedom from such an estimate are largest exactly when
    the estimate (so the test's denominator) is too small, and the test rejects too often (simulated: 6.6-7.2%
    at alpha 0.05 with two seeds). Taken at the median-unbiased value in the degrees of freedom only, the
    rate is 4.4-5.5% at 2, 3 and 5 seeds (``reports/seed-test``).
    """
    return variance * df / float(stats.chi2.ppf(0.5, df))


@dataclass(frozen=True)
class SeedComparison:
    """Architecture A against B: the difference of mean test accuracies and its test."""

    difference: float  # mean over A's seeds - mean over B's seeds (a fraction)
    variance: SeedVariance
    p_value: float  # two-sided

    @property
    def se(self) -> float:
        return math.sqrt(self.variance.total)

    @property
    def df(self) -> float:
        return self.variance.df()


def _interaction(correct: np.ndarray) -> float:
    """The two-way residual mean square of a seeds x images 0/1 matrix: the seed-by-image interaction variance."""
    k, n = correct.shape
    if k < 2:
        return 0.0
    total = correct.sum()
    by_seed, by_image = correct.mean(axis=1), correct.mean(axis=0)
    residual = total - n * np.sum(by_seed**2) - k * np.sum(by_image**2) + k * n * correct.mean() ** 2
    return max(0.0, float(residual) / ((k - 1) * (n - 1)))


def seed_variance(correct_a: np.ndarray, correct_b: np.ndarray) -> SeedVariance:
    """The variance pieces of A's and B's seeds x images correctness matrices (the same images, in one order)."""
    correct_a, correct_b = np.asarray(correct_a, float), np.asarray(correct_b, float)
    (k_a, n), (k_b, _) = correct_a.shape, correct_b.shape
    if k_a < 2 or k_b < 2:
        raise ValueError(f"an architecture comparison needs two seeds of each, got {k_a} and {k_b}")
    acc_a, acc_b = correct_a.mean(axis=1), correct_b.mean(axis=1)
    per_image = correct_a.mean(axis=0) - correct_b.mean(axis=0)
    images = per_image.var(ddof=1) - _interaction(correct_a) / k_a - _interaction(correct_b) / k_b
    return SeedVariance(acc_a.var(ddof=1) / k_a, acc_b.var(ddof=1) / k_b, max(0.0, images) / n, k_a, k_b, n)


def architecture_test(correct_a: np.ndarray, correct_b: np.ndarray) -> SeedComparison:
    """A against B from their seeds' correctness on the same test images: difference, variance pieces, two-sided p."""
    variance = seed_variance(correct_a, correct_b)
    difference = float(np.mean(correct_a) - np.mean(correct_b))
    if variance.total <= 0:
        return SeedComparison(difference, variance, 1.0 if difference == 0 else 0.0)
    t = difference / math.sqrt(variance.total)
    return SeedComparison(difference, variance, float(2 * stats.t.sf(abs(t), variance.df())))


def detectable(variance: SeedVariance, alpha: float, power: float = 0.8) -> float:
    """The smallest difference (a fraction) a two-sided test at ``alpha`` detects with ``power`` at these seeds."""
    df = variance.df()
    return float((stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)) * math.sqrt(variance.total))


def seeds_needed(difference: float, variance: SeedVariance, alpha: float, power: float = 0.8, most: int = 1000):
    """Seeds per architecture for ``difference`` to be detectable, or ``None`` when no number of seeds will do
    (the test-set term alone is too large: a larger test set, not more seeds, would be needed)."""
    for k in range(2, most + 1):
        if detectable(variance.at(k, k), alpha, power) <= difference:
            return k
    return None


def rank_p(acc_a: np.ndarray, acc_b: np.ndarray) -> float:
    """Two-sided exact Mann-Whitney p of the seeds' accuracies: what 'every seed of A beat every seed of B' is worth
    without any model (3 x 3 seeds: 0.1 at best)."""
    return float(stats.mannwhitneyu(acc_a, acc_b, alternative="two-sided", method="exact").pvalue)


def accuracy_interval(correct: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): an architecture's test accuracy over seeds and the population of test images, from its
    seeds x images correctness (two seeds at least).

    The variance is the seeds' (their accuracies' sample variance over k, the interaction included) plus the
    test sample's (the variance over the images of the seed-averaged correctness, less the interaction, over n),
    with Welch-Satterthwaite degrees of freedom as in ``architecture_test``; the interval is taken on the
    log-odds scale and mapped back, so that it stays inside 0-100% whatever the seeds (a plain t interval on
    two seeds, one degree of freedom, reached past 100%).
    """
    correct = np.asarray(correct, float)
    k, n = correct.shape
    mean = float(correct.mean())
    seeds = correct.mean(axis=1).var(ddof=1) / k
    images = max(0.0, correct.mean(axis=0).var(ddof=1) - _interaction(correct) / k) / n
    variance = SeedVariance(seeds, 0.0, images, k, max(k, 2), n)
    if variance.total <= 0 or mean in (0.0, 1.0):
        return mean, mean, mean
    half = stats.t.ppf(0.5 + confidence / 2, variance.df()) * math.sqrt(variance.total) / (mean * (1 - mean))
    centre = math.log(mean / (1 - mean))
    return mean, 1 / (1 + math.exp(-(centre - half))), 1 / (1 + math.exp(-(centre + half)))
