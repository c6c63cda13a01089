"""Which accuracy differences are real: every pair tested, one family, what each test could have detected.

With one seed per model two models are two trained networks, compared by McNemar's test on the shared
test images: a statement about these weights. With several seeds per model the comparison is of
architectures, across the seeds and the test sample (``stats.seeds.architecture_test``, calibrated by
``studies/seed-test/seed_test_calibration.py``). Either way the family is every pair of models in the report,
Holm-corrected (Holm 1979): it is chosen before looking at the data, so a verdict about the model that
came out best is as valid as any other. The set of models that could be the most accurate is those
that no other model is significantly above; each comparison states the smallest difference it could
have detected with 80% power at the family's level, so "not established" says how large a difference
could have hidden. How often each model ranks first comes from a bootstrap over seeds and test images.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from ...stats.multiple import holm
from ...stats.paired import mcnemar_p
from ...stats.seeds import architecture_test, detectable, rank_p
from .compute import Variant

ALPHA = 0.05
POWER = 0.8
BOOTSTRAP = 1000  # resamples for the rank of each model
FAMILY = "every pair of models, Holm-corrected"


@dataclass(frozen=True)
class Significance:
    """Pairwise comparisons of the variants, most accurate first."""

    level: str  # "weights" (one seed each: McNemar) or "architectures" (several seeds each)
    raw: pd.DataFrame  # models x models, the pairs' p-values
    adjusted: pd.DataFrame  # Holm-adjusted over the family (every pair)
    pairs: pd.DataFrame  # one row per pair: a, b, difference (pp), p, Holm p, detectable difference (pp), ...
    seeds: int  # the fewest seeds any variant has
    first: dict  # model -> the share of bootstrap resamples in which it is the most accurate

    @property
    def family(self) -> str:
        return f"{FAMILY} ({len(self.pairs)} pairs)"

    @property
    def level_alpha(self) -> float:
        """The Bonferroni bound of the family's Holm levels: the level a detectable difference is stated at."""
        return ALPHA / max(len(self.pairs), 1)


def correct(v: Variant) -> np.ndarray:
    """Seeds x test images: 1 where that seed's network got the image right."""
    return np.array([r.outcome.test.predictions == r.outcome.test.labels for r in v.seeds()], float)


def _shared_images(va: Variant, vb: Variant) -> bool:
    ta, tb = va.seeds()[0].outcome.test, vb.seeds()[0].outcome.test
    return len(ta.labels) == len(tb.labels) and bool(np.array_equal(ta.labels, tb.labels))


def _weights_row(va: Variant, vb: Variant, alpha: float) -> dict:
    ta, tb = va.seeds()[0].outcome.test, vb.seeds()[0].outcome.test
    discordant = float(np.mean((ta.predictions == ta.labels) != (tb.predictions == tb.labels)))
    # McNemar's test detects a difference of about (z_a/2 + z_power) sqrt(discordant share / n) (Connor 1987)
    mdd = (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(POWER)) * math.sqrt(discordant / len(ta.labels))
    return {"p_value": mcnemar_p(ta.predictions, tb.predictions, ta.labels), "mdd_pp": mdd * 100}


def _architectures_row(va: Variant, vb: Variant, alpha: float) -> dict:
    comparison = architecture_test(correct(va), correct(vb))
    acc_a = [r.outcome.test.accuracy for r in va.seeds()]
    acc_b = [r.outcome.test.accuracy for r in vb.seeds()]
    return {
        "p_value": comparison.p_value,
        "mdd_pp": detectable(comparison.variance, alpha, POWER) * 100,
        "se_pp": comparison.se * 100,
        "df": comparison.df,
        "test_set_sd_pp": math.sqrt(comparison.variance.images) * 100,
        "rank_p": rank_p(np.array(acc_a), np.array(acc_b)),
    }


def significance(items: list[Variant], order: Sequence[str], seed: int = 0) -> Significance:
    """Every pair of variants on the same test images, in ``order`` (the summary's: most accurate first)."""
    by_label = {v.label: v for v in items}
    labels = [label for label in order if label in by_label]
    seeds = min((len(v.seeds()) for v in items), default=0)
    level = "architectures" if seeds >= 2 else "weights"
    pairs_of = [(a, b) for a, b in combinations(labels, 2) if _shared_images(by_label[a], by_label[b])]
    alpha = ALPHA / max(len(pairs_of), 1)
    row_of = _weights_row if level == "weights" else _architectures_row
    rows = []
    for a, b in pairs_of:
        va, vb = by_label[a], by_label[b]
        difference = (np.mean([r.outcome.test.accuracy for r in va.seeds()]) -
                      np.mean([r.outcome.test.accuracy for r in vb.seeds()])) * 100  # fmt: skip
        rows.append({"a": a, "b": b, "difference_pp": difference, **row_of(va, vb, alpha)})
    pairs = pd.DataFrame(rows, columns=["a", "b", "difference_pp", "p_value", "mdd_pp"] if not rows else None)
    pairs["holm_p"] = holm(pairs["p_value"]) if len(pairs) else []
    raw = pd.DataFrame(np.nan, index=labels, columns=labels)
    adjusted = raw.copy()
    for row in pairs.itertuples():
        raw.loc[row.a, row.b] = raw.loc[row.b, row.a] = row.p_value
        adjusted.loc[row.a, row.b] = adjusted.loc[row.b, row.a] = row.holm_p
    first = rank_first([by_label[m] for m in labels], level, seed) if len(labels) > 1 else {}
    return Significance(level, raw, adjusted, pairs, seeds, first)


def below_another(sig: Significance) -> dict[str, str]:
    """Model -> the model significantly above it (the first found): those cannot be the most accurate."""
    out: dict[str, str] = {}
    for row in sig.pairs.itertuples():
        if row.holm_p < ALPHA:
            loser, winner = (row.b, row.a) if row.difference_pp > 0 else (row.a, row.b)
            out.setdefault(loser, winner)
    return out


def could_be_best(sig: Significance) -> list[str]:
    """The models no other model is significantly above: with 95% confidence the most accurate is among them."""
    below = below_another(sig)
    return [m for m in sig.raw.index if m not in below]


def against_best(sig: Significance) -> pd.DataFrame:
    """The pairs with the most accurate model, oriented best - other, in the summary's order."""
    if sig.raw.empty:
        return sig.pairs.iloc[:0]
    best = sig.raw.index[0]
    rows = sig.pairs[(sig.pairs["a"] == best) | (sig.pairs["b"] == best)].copy()
    flip = rows["b"] == best
    rows.loc[flip, ["a", "b"]] = rows.loc[flip, ["b", "a"]].to_numpy()
    rows.loc[flip, "difference_pp"] = -rows.loc[flip, "difference_pp"]
    order = {m: i for i, m in enumerate(sig.raw.index)}
    return rows.sort_values("b", key=lambda s: s.map(order)).rename(columns={"b": "model"})


def rank_first(items: list[Variant], level: str, seed: int = 0) -> dict[str, float]:
    """How often each model is the most accurate when the seeds (architectures) and the test images are drawn
    again: a bootstrap over both levels (images only, for one seed per model)."""
    rng = np.random.default_rng(seed)
    matrices = [correct(v) for v in items]
    n = matrices[0].shape[1]
    wins = np.zeros(len(items))
    weights = rng.multinomial(n, np.full(n, 1 / n), size=BOOTSTRAP).T / n  # images x resamples
    per_seed = [m @ weights for m in matrices]  # each model: seeds x resamples, accuracy on resampled images
    for draw in range(BOOTSTRAP):
        means = []
        for scores in per_seed:
            chosen = rng.integers(0, len(scores), len(scores)) if level == "architectures" else [0]
            means.append(scores[chosen, draw].mean())
        wins[int(np.argmax(means))] += 1
    return {v.label: float(w / BOOTSTRAP) for v, w in zip(items, wins, strict=True)}
