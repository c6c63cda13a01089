"""Change points in one series, each with its commit, the step's size and interval, and whether it regresses.

Times (and A/B ratios) are compared as logs, so a step is a ratio. Candidates come from PELT
(``ruptures``: the exact optimal segmentation under a penalty, Killick et al. 2012) on the logs,
with the penalty scaled by the series' own noise (a robust estimate from its successive
differences, so a step does not inflate it). Each candidate is then tested: Welch's t-test of
the logs on either side (up to the neighbouring change points), Holm-corrected across the
series' candidates, and kept only when it is significant at ``alpha`` and its size is beyond
``threshold``. Accuracy series are the weights' and are compared by McNemar's test between
consecutive runs on the shared test images (runs of one seed on one machine give bit-identical
weights unless the code changed them).

Why ruptures: a maintained library of the standard algorithms (PELT, binary segmentation) with
numpy and scipy as its only dependencies. Apache Otava and MongoDB's signal-processing-algorithms
implement E-Divisive with their own significance tests; Otava brings an application's
dependencies (a CLI, database and cloud clients) and the MongoDB package had no release since
2024. The significance test here is ours, and ``studies/history/history_power.py`` measures the whole
detector (false alarms, power, where the change lands) on series with this project's own noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import ruptures
from scipy import stats

from ..stats.multiple import holm
from ..stats.paired import mcnemar_p
from .series import Series

PENALTY = 4.0  # x noise variance x log(n): measured with studies/history/history_power.py (reports/history/power.md)
MIN_SEGMENT = 3  # points on each side of a time step
ALPHA = 0.01  # per series, after Holm across its candidate steps
THRESHOLD = 0.10  # a time step smaller than this is not reported (the A/B gate's default)


@dataclass(frozen=True)
class Change:
    """A step between point ``index - 1`` and point ``index`` of a series."""

    index: int
    before: str  # the last commit of the old level
    after: str  # the first commit of the new one
    ratio: float  # new level / old (times); new - old in points (accuracy)
    low: float
    high: float
    p_value: float
    regression: bool


def noise(logs: np.ndarray) -> float:
    """The noise of a series' logs: the median absolute successive difference, scaled to a standard deviation
    (robust to steps: a step is one large difference among many small ones)."""
    if len(logs) < 3:
        return 0.0
    return float(np.median(np.abs(np.diff(logs))) / (math.sqrt(2) * 0.6745))


def _candidates(logs: np.ndarray, penalty: float) -> list[int]:
    sigma = noise(logs)
    if len(logs) < 2 * MIN_SEGMENT or sigma == 0:
        return [i for i in range(1, len(logs)) if logs[i] != logs[i - 1]] if sigma == 0 else []
    breaks = ruptures.Pelt(model="l2", min_size=MIN_SEGMENT, jump=1).fit(logs.reshape(-1, 1))
    return breaks.predict(pen=penalty * sigma**2 * math.log(len(logs)))[:-1]


def time_changes(
    series: Series, threshold: float = THRESHOLD, alpha: float = ALPHA, penalty: float = PENALTY
) -> list[Change]:
    """Steps in a time (or A/B ratio) series, each tested and beyond ``threshold``; newest first is not implied."""
    values = series.values()
    if len(values) < 2 * MIN_SEGMENT or not (values > 0).all():
        return []
    logs = np.log(values)
    cuts = _candidates(logs, penalty)
    bounds = [0, *cuts, len(logs)]
    tested = []
    for k, cut in enumerate(cuts):
        left, right = logs[bounds[k] : cut], logs[cut : bounds[k + 2]]
        if len(left) < 2 or len(right) < 2:
            continue
        test = stats.ttest_ind(right, left, equal_var=False)
        diff = float(right.mean() - left.mean())
        se = math.sqrt(left.var(ddof=1) / len(left) + right.var(ddof=1) / len(right))
        df = float(getattr(test, "df", len(left) + len(right) - 2))
        half = float(stats.t.ppf(0.975, df)) * se if se > 0 else 0.0
        tested.append((cut, diff, half, 1.0 if math.isnan(test.pvalue) else float(test.pvalue)))
    adjusted = holm([t[3] for t in tested])
    points = series.points
    changes = []
    for (cut, diff, half, _), p in zip(tested, adjusted, strict=True):
        ratio = math.exp(diff)
        if p < alpha and abs(ratio - 1) > threshold:
            changes.append(Change(cut, points[cut - 1].commit, points[cut].commit, ratio, math.exp(diff - half),
                                  math.exp(diff + half), float(p), ratio > 1))  # fmt: skip
    return changes


def accuracy_changes(series: Series, alpha: float = 0.05) -> list[Change]:
    """Steps in an accuracy series: consecutive runs whose predictions differ significantly (McNemar),
    Holm-corrected across the series' steps; a drop is a regression."""
    tested = []
    points = series.points
    for i in range(1, len(points)):
        a, b = points[i - 1], points[i]
        if a.value == b.value or a.labels is None or len(a.labels) != len(b.labels) or (a.labels != b.labels).any():
            continue
        tested.append((i, (b.value - a.value) * 100, mcnemar_p(a.predictions, b.predictions, a.labels)))
    adjusted = holm([t[2] for t in tested])
    return [
        Change(i, points[i - 1].commit, points[i].commit, diff, diff, diff, float(p), diff < 0)
        for (i, diff, _), p in zip(tested, adjusted, strict=True)
        if p < alpha
    ]


def newest_regression(series: Series, threshold: float = THRESHOLD, alpha: float = ALPHA) -> Change | None:
    """Whether the newest point opens a regression step: slower than the level since the last change point
    beyond ``threshold``, and outside that level's one-sided prediction interval at ``alpha``."""
    values = series.values()
    if series.metric not in ("time", "ab_ratio") or len(values) < MIN_SEGMENT + 1 or not (values > 0).all():
        return None
    logs = np.log(values)
    earlier = time_changes(Series(series.machine, series.model, series.benchmark, series.metric, series.seed,
                                  series.points[:-1]), threshold, alpha)  # fmt: skip
    start = max((c.index for c in earlier), default=0)
    level = logs[start:-1]
    if len(level) < MIN_SEGMENT:
        return None
    sd = max(level.std(ddof=1), noise(logs[:-1]), 1e-9)
    t = (logs[-1] - level.mean()) / (sd * math.sqrt(1 + 1 / len(level)))
    p = float(stats.t.sf(t, len(level) - 1))
    ratio = math.exp(logs[-1] - level.mean())
    if ratio > 1 + threshold and p < alpha:
        points = series.points
        return Change(len(points) - 1, points[-2].commit, points[-1].commit, ratio, ratio, ratio, p, True)
    return None
