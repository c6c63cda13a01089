"""The report's verdicts: which differences are real, what to pick for a budget, computed from the tables.

Every verdict says what it compares. With one seed per model, two models are two trained
networks, compared by McNemar's test on the shared test images: a statement about these
weights. With several seeds per model, the comparison is of architectures, across seeds and
the test sample (``stats.architecture_test``). Either way the p-values are Holm-corrected
across all the pairs a table or figure shows, and the answer is named: the set of models not
significantly below the most accurate one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from ...results.outcome import EpochRecord
from ...results.protocol import ACCURACY_TARGETS, target_key
from ...stats.multiple import holm
from ...stats.paired import mcnemar_p
from ...stats.pareto import pareto_front
from ...stats.seeds import architecture_test, prob_outperform, seeds_needed
from .compute import Variant

ALPHA = 0.05
# Seed-to-seed spread of test accuracy (points), pooled over the models, where a run has one seed per
# model and cannot measure its own: quick, 12 models x 3 seeds (docs/floors.md, 2-core CPU): 0.18;
# full, the 10 notebook models x 3 seeds (reports/full): 0.18.
REFERENCE_SEED_SD_PP = {"quick": 0.18, "full": 0.18}


@dataclass(frozen=True)
class Significance:
    """Pairwise comparisons of the variants, most accurate first."""

    level: str  # "weights" (one seed each: McNemar) or "architectures" (several seeds each)
    raw: pd.DataFrame  # models x models, the pairs' p-values
    adjusted: pd.DataFrame  # Holm-adjusted across every pair
    pairs: pd.DataFrame  # one row per pair: a, b, difference (pp), p, Holm p (+ P(A>B) for architectures)
    seeds: int  # the fewest seeds any variant has
    vs_best: pd.DataFrame  # the pairs with the most accurate model, Holm-adjusted among themselves (holm_vs_best)


def _correct(v: Variant) -> np.ndarray:
    """Seeds x test images: 1 where that seed's network got the image right."""
    return np.array([r.outcome.test.predictions == r.outcome.test.labels for r in v.seeds()], float)


def significance(items: list[Variant], order: Sequence[str]) -> Significance:
    """Every pair of variants on the same test images, in ``order`` (the summary's: most accurate first)."""
    by_label = {v.label: v for v in items}
    labels = [label for label in order if label in by_label]
    seeds = min((len(v.seeds()) for v in items), default=0)
    level = "architectures" if seeds >= 2 else "weights"
    rows = []
    for a, b in combinations(labels, 2):
        va, vb = by_label[a], by_label[b]
        ta, tb = va.seeds()[0].outcome.test, vb.seeds()[0].outcome.test
        if len(ta.labels) != len(tb.labels) or not np.array_equal(ta.labels, tb.labels):
            continue  # different test images: no paired comparison
        acc_a = np.array([r.outcome.test.accuracy for r in va.seeds()])
        acc_b = np.array([r.outcome.test.accuracy for r in vb.seeds()])
        row = {"a": a, "b": b, "difference_pp": (acc_a.mean() - acc_b.mean()) * 100}
        if level == "weights":
            row["p_value"] = mcnemar_p(ta.predictions, tb.predictions, ta.labels)
        else:
            _, se, df, p = architecture_test(acc_a, acc_b, _correct(va), _correct(vb))
            row.update(se_pp=se * 100, df=df, p_value=p, p_a_beats_b=prob_outperform(acc_a, acc_b))
        rows.append(row)
    pairs = pd.DataFrame(rows, columns=["a", "b", "difference_pp", "p_value"] if not rows else None)
    pairs["holm_p"] = holm(pairs["p_value"]) if len(pairs) else []
    raw = pd.DataFrame(np.nan, index=labels, columns=labels)
    adjusted = raw.copy()
    for row in pairs.itertuples():
        raw.loc[row.a, row.b] = raw.loc[row.b, row.a] = row.p_value
        adjusted.loc[row.a, row.b] = adjusted.loc[row.b, row.a] = row.holm_p
    # "which models are tied with the best?" is its own family of questions, one per other model
    vs_best = pairs[(pairs["a"] == labels[0]) | (pairs["b"] == labels[0])].copy() if labels else pairs.iloc[:0].copy()
    vs_best["holm_vs_best"] = holm(vs_best["p_value"]) if len(vs_best) else []
    return Significance(level, raw, adjusted, pairs, seeds, vs_best)


def tied_with_best(sig: Significance) -> dict[str, float]:
    """The models not significantly below the most accurate one, Holm-corrected over the comparisons with it
    (one per other model): model -> Holm p."""
    if sig.adjusted.empty:
        return {}
    best = sig.adjusted.index[0]
    other = np.where(sig.vs_best["a"] == best, sig.vs_best["b"], sig.vs_best["a"])
    return {m: float(p) for m, p in zip(other, sig.vs_best["holm_vs_best"], strict=True) if p >= ALPHA}


def seeds_for_claims(sig: Significance, items: list[Variant], profile: str) -> dict | None:
    """How many seeds an architecture claim of a given size needs, at the seed spread measured (or known)."""
    if sig.level == "architectures":
        spreads = [np.std([r.outcome.test.accuracy for r in v.seeds()], ddof=1) * 100 for v in items]  # points
        sd, source = float(np.sqrt(np.mean(np.square(spreads)))), "measured in this run (pooled over the models)"
    elif profile in REFERENCE_SEED_SD_PP:
        sd, source = REFERENCE_SEED_SD_PP[profile], f"measured for the {profile} profile, three seeds of each model,"
    else:
        return None
    return {"seed_sd_pp": sd, "source": source, "seeds": {f"{d:.1f}": seeds_needed(d, sd) for d in (0.1, 0.2, 0.5)}}


# --- What to pick for a budget ----------------------------------------------------------------------

# column -> (what it is, whether more is better, how a budget reads)
COSTS = {
    "latency_p50_ms": ("batch-1 latency p50", False, "{:.3g} ms"),
    "best_latency_p50_ms": ("batch-1 latency p50 on the fastest agreeing runtime", False, "{:.3g} ms"),
    "throughput_img_s": ("batched throughput", True, "{:,.0f} img/s"),
    "train_time_s": ("training time", False, "{:.3g} s"),
    "params": ("parameters", False, "{:,.0f} parameters"),
    "flops_inference": ("FLOPs per image", False, "{:,.0f} FLOPs"),
}


def pareto_sets(summary: pd.DataFrame) -> dict[str, list[dict]]:
    """For each cost, the models on the accuracy-vs-cost front, cheapest first: no other model is both
    cheaper (or faster) and more accurate. Each one is the most accurate choice within its budget."""
    out = {}
    for column, (_, higher, _) in COSTS.items():
        if column not in summary or not summary[column].notna().any():
            continue
        table = summary.dropna(subset=[column])
        cost = -table[column] if higher else table[column]
        front = table[pareto_front(cost.to_numpy(), table["test_accuracy"].to_numpy())]
        front = front.sort_values(column, ascending=not higher)
        out[column] = [
            {"model": r.model, "value": float(r[column]), "accuracy": float(r.test_accuracy)}
            for _, r in front.iterrows()
        ]
    return out


def budget_lines(sets: dict[str, list[dict]]) -> list[str]:
    """Each Pareto set as a sentence: for a budget of X, the most accurate model is Y."""
    lines = []
    for column, front in sets.items():
        what, higher, unit = COSTS[column]
        bound = "at least" if higher else "up to"
        steps = "; ".join(f"{bound} {unit.format(p['value'])}: **{p['model']}** ({p['accuracy']:.2%})" for p in front)
        lines.append(f"Most accurate for a {what} budget — {steps}.")
    return lines


# --- Time to target -------------------------------------------------------------------------------


def time_to_target(items: list[Variant]) -> pd.DataFrame:
    """Models x accuracy targets: the median over seeds of the training time at which validation accuracy
    first reached the target (AlgoPerf's time-to-result); a seed that never did counts as never (inf)."""
    rows = {}
    for v in items:
        cells = {}
        for key in map(target_key, ACCURACY_TARGETS):
            times = [r.outcome.time_to_accuracy.get(key) for r in v.seeds()]
            cells[key] = float(np.median([math.inf if t is None else t for t in times]))
        rows[v.label] = cells
    return pd.DataFrame.from_dict(rows, orient="index")


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


def insights(
    summary: pd.DataFrame, per_class: pd.DataFrame, items: list[Variant], sig: Significance, profile: str
) -> dict:
    """The report's findings, computed from the tables (the HTML and Markdown render this dict)."""
    if summary.empty:
        return {}
    best = summary.iloc[0]
    out: dict = {
        "best_model": best["model"],
        "best_accuracy": float(best["test_accuracy"]),
        "comparisons_of": sig.level,
        "seeds_per_model": sig.seeds,
        "tied_with_best": tied_with_best(sig),
        "pareto": pareto_sets(summary),
        "hardest_class": str(per_class.mean(axis=0).idxmin()),
        "hardest_class_accuracy": float(per_class.mean(axis=0).min()),
        "easiest_class": str(per_class.mean(axis=0).idxmax()),
        "easiest_class_accuracy": float(per_class.mean(axis=0).max()),
        "hardest_class_per_model": {m: str(row.idxmin()) for m, row in per_class.iterrows()},
        "easiest_class_per_model": {m: str(row.idxmax()) for m, row in per_class.iterrows()},
        "family_mean_accuracy": {f: float(g.mean()) for f, g in summary.groupby("family")["test_accuracy"]},
        "epochs_to_convergence": {
            v.label: float(np.median([epochs_to_convergence(r.outcome.history) for r in v.seeds()]))
            for v in items
            if v.seeds()[0].outcome.history
        },
    }
    claims = seeds_for_claims(sig, items, profile)
    if claims is not None:
        out["seeds_for_an_architecture_claim"] = claims
    return out
