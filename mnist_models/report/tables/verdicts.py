"""The report's findings, computed from the tables: the verdicts, what a claim of a given size needs, time to
target, convergence. The significance tests are ``significance``'s; the budgets ``budgets``'."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from ...results.outcome import EpochRecord
from ...stats.seeds import SeedVariance, seeds_needed
from .budgets import fronts
from .compute import Variant
from .reference import seed_spread
from .significance import POWER, Significance, against_best, below_another, could_be_best

CLAIMS_PP = (0.1, 0.2, 0.5)  # claim sizes whose seeds are stated


def seeds_for_claims(sig: Significance, items: list[Variant], profile: str) -> dict | None:
    """How many seeds an architecture claim of a given size needs, with the same test as the verdicts: the seed
    variance pooled over the models and the typical pair's test-set term (measured in this run, or taken from
    a committed run named in ``source`` when this run has one seed per model), at the family's level."""
    if sig.level == "architectures":
        variances = [np.var([r.outcome.test.accuracy for r in v.seeds()], ddof=1) for v in items]
        seed_variance, n = float(np.mean(variances)), len(items[0].seeds()[0].outcome.test.labels)
        image_variance = float(np.median(sig.pairs["test_set_sd_pp"] / 100) ** 2) if len(sig.pairs) else 0.0
        source = "measured in this run (seed variance pooled over the models, the median pair's test-set term)"
    else:
        known = seed_spread(profile)
        if known is None:
            return None
        seed_variance, image_variance, n = known["seed_variance"], known["image_variance"], known["n"]
        source = f"measured in the committed run {known['source']} ({known['seeds']} seeds of each model)"
    pairs = max(len(items) * (len(items) - 1) // 2, 1)
    variance = SeedVariance(seed_variance / 2, seed_variance / 2, image_variance, 2, 2, n)
    needed = {f"{d:.1f}": seeds_needed(d / 100, variance, 0.05 / pairs, POWER) for d in CLAIMS_PP}
    return {
        "seed_sd_pp": math.sqrt(seed_variance) * 100,
        "test_set_sd_pp": math.sqrt(image_variance) * 100,
        "source": source,
        "pairs": pairs,
        "seeds": needed,
    }


# --- Time to target -------------------------------------------------------------------------------


def performance_profile(ttt: pd.DataFrame, taus: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """AlgoPerf's performance profiles from ``time_to_target``: per model, the share of targets it reached
    within tau x the fastest model's time; and per target, the share of models that did."""
    reached = ttt.loc[:, np.isfinite(ttt).any()]  # targets no model reached say nothing of speed
    if reached.empty:
        return pd.DataFrame(index=taus), pd.DataFrame(index=taus)
    ratios = reached / reached.min(axis=0)
    by_model = pd.DataFrame({m: [(ratios.loc[m] <= t).mean() for t in taus] for m in ratios.index}, index=taus)
    by_target = pd.DataFrame({k: [(ratios[k] <= t).mean() for t in taus] for k in ratios.columns}, index=taus)
    return by_model, by_target


def epochs_to_convergence(history: Sequence[EpochRecord], tolerance: float = 0.005) -> int:
    """First epoch whose validation accuracy is within ``tolerance`` of the best (the notebook's definition)."""
    best = max(h.val_acc for h in history)
    return next(h.epoch for h in history if h.val_acc >= best - tolerance)


@dataclass(frozen=True)
class Insights:
    """The report's findings from its tables, read by the answer, the verdicts and the insights; ``to_json`` is
    their part of ``insights.json`` (the sections add their own findings beside them)."""

    best_model: str
    best_accuracy: float
    best_interval: list[float]
    best_verdict: str  # "most accurate" or "tied for most accurate"
    tied_with_best: list[str]
    scope: str  # what every claim holds under: profile, dataset, seeds, what is compared
    comparisons_of: str  # "weights" or "architectures"
    seeds_per_model: int
    family: str
    could_be_best: list[str]
    below_another: dict[str, str]
    rank_first: dict[str, float]
    against_best: dict[str, dict]
    pareto: dict[str, list[dict]]  # cost column -> its picks, cheapest first
    hardest_class: str
    hardest_class_accuracy: float
    easiest_class: str
    easiest_class_accuracy: float
    hardest_class_per_model: dict[str, str]
    easiest_class_per_model: dict[str, str]
    family_mean_accuracy: dict[str, float]
    epochs_to_convergence: dict[str, float]
    seeds_for_an_architecture_claim: dict | None = None  # None: no run to take the seeds' spread from

    def to_json(self) -> dict:
        """The findings as ``insights.json`` holds them (a claim's seeds only where there is one)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if out["seeds_for_an_architecture_claim"] is None:
            del out["seeds_for_an_architecture_claim"]
        return out

    @classmethod
    def from_json(cls, found: Mapping) -> Insights | None:
        """The findings back from ``insights.json`` (or a report's merged findings); ``None`` where there are none."""
        if not found or "best_model" not in found:
            return None
        return cls(**{f.name: found[f.name] for f in fields(cls) if f.name in found})


def insights(
    summary: pd.DataFrame, per_class: pd.DataFrame, items: list[Variant], sig: Significance, profile: str
) -> Insights | None:  # fmt: skip
    """The report's findings, computed from the tables (the HTML and Markdown render them); ``None`` for none."""
    if summary.empty:
        return None
    best = summary.iloc[0]
    tied = [m for m in could_be_best(sig) if m != best["model"]]
    mean = per_class.mean(axis=0)
    return Insights(
        best_model=best["model"],
        best_accuracy=float(best["test_accuracy"]),
        best_interval=[float(best["ci_low"]), float(best["ci_high"])],
        best_verdict="tied for most accurate" if tied else "most accurate",
        tied_with_best=tied,
        scope=scope(summary, items, sig, profile),
        comparisons_of=sig.level,
        seeds_per_model=sig.seeds,
        family=sig.family,
        could_be_best=could_be_best(sig),
        below_another=below_another(sig),
        rank_first=sig.first,
        against_best=_against_best(sig),
        pareto=fronts(summary, items, sig),
        hardest_class=str(mean.idxmin()),
        hardest_class_accuracy=float(mean.min()),
        easiest_class=str(mean.idxmax()),
        easiest_class_accuracy=float(mean.max()),
        hardest_class_per_model={m: str(row.idxmin()) for m, row in per_class.iterrows()},
        easiest_class_per_model={m: str(row.idxmax()) for m, row in per_class.iterrows()},
        family_mean_accuracy={f: float(g.mean()) for f, g in summary.groupby("family")["test_accuracy"]},
        epochs_to_convergence={
            v.label: float(np.median([epochs_to_convergence(r.outcome.history) for r in v.seeds()]))
            for v in items
            if v.seeds()[0].outcome.history
        },
        seeds_for_an_architecture_claim=seeds_for_claims(sig, items, profile),
    )


def scope(summary: pd.DataFrame, items: list[Variant], sig: Significance, profile: str) -> str:
    """What every claim of the report holds under: the profile (its training budget), the dataset, the seeds and
    whether the comparisons are of trained weights or of architectures."""
    dataset = items[0].seeds()[0].dataset if items else "?"
    low, high = (int(summary["seeds"].min()), int(summary["seeds"].max())) if len(summary) else (0, 0)
    seeds = f"{low}" if low == high else f"{low}–{high}"
    what = "architectures" if sig.level == "architectures" else "these trained weights"
    return f"{profile} profile, {dataset}, {seeds} seed{'s' if high != 1 else ''} per model ({what})"


def _against_best(sig: Significance) -> dict[str, dict]:
    """Each model against the most accurate one: its difference, Holm p over the family, what it could detect."""
    return {
        row.model: {
            "below_pp": float(row.difference_pp),
            "holm_p": float(row.holm_p),
            "detectable_pp": float(row.mdd_pp),
        }
        for row in against_best(sig).itertuples()
    }
