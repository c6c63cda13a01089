"""Tables and statistics from saved runs: pure functions, no drawing and no files."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar

from ..bench.groups import GROUPS
from ..bench.record import BenchmarkRecord
from ..training.config import ACCURACY_TARGETS, target_key
from ..training.result import EpochRecord
from .runs import Run


@dataclass(frozen=True)
class Variant:
    """The records of one model in one run, all seeds."""

    label: str  # the model name, with the run name appended when a report holds several runs
    run: str
    model: str
    records: dict[str, list[BenchmarkRecord]]  # case -> one record per seed

    def seeds(self) -> list[BenchmarkRecord]:
        """One record per seed (any case: they share the trained weights' outcome)."""
        by_seed: dict[int, BenchmarkRecord] = {}
        for case in [*GROUPS, *sorted(set(self.records) - set(GROUPS))]:
            for record in self.records.get(case, []):
                by_seed.setdefault(record.seed, record)
        return [by_seed[s] for s in sorted(by_seed)]


def short_name(name: str) -> str:
    """A run name with any 40-character commit id cut to 8 characters, for titles."""
    return re.sub(r"(?<![0-9a-f])([0-9a-f]{8})[0-9a-f]{32}(?![0-9a-f])", r"\1", name)


def variants(runs: list[Run]) -> list[Variant]:
    """Group every record by (run, model)."""
    several = len(runs) > 1
    out = []
    for run in runs:
        grouped: dict[str, dict[str, list[BenchmarkRecord]]] = defaultdict(lambda: defaultdict(list))
        for bench in run.benches:
            grouped[bench.record.model][bench.record.case].append(bench.record)
        for model, records in grouped.items():
            label = f"{model} [{short_name(run.name)}]" if several else model
            out.append(Variant(label, run.name, model, dict(records)))
    return out


def _median(values: list[float | None]) -> float:
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else math.nan


def _accuracy_interval(records: list[BenchmarkRecord]) -> tuple[float, float, float, float]:
    """(mean, low, high, std over seeds): Wilson for one seed, a t interval over seeds for several."""
    accs = np.array([r.outcome.test.accuracy for r in records])
    if len(accs) == 1:
        test = records[0].outcome.test
        return float(accs[0]), test.ci_low, test.ci_high, 0.0
    mean, sd = float(accs.mean()), float(accs.std(ddof=1))
    half = float(stats.t.ppf(0.975, len(accs) - 1) * sd / math.sqrt(len(accs)))
    return mean, mean - half, mean + half, sd


def summary_table(items: list[Variant]) -> pd.DataFrame:
    """One row per variant: size, cost, accuracy with interval, speed and efficiency."""
    rows = []
    for v in items:
        seeds = v.seeds()
        first = seeds[0]
        acc, low, high, sd = _accuracy_interval(seeds)
        train_time = _median([r.outcome.train_time_s for r in seeds])
        latency = v.records.get("latency", [])
        rows.append(
            {
                "model": v.label,
                "family": first.family,
                "params": first.params,
                "flops_inference": first.flops_inference,
                "flops_train_step": first.flops_train_step,
                "seeds": len(seeds),
                "epochs": _median([r.outcome.epochs_run for r in seeds]),
                "train_time_s": train_time,
                "test_accuracy": acc,
                "ci_low": low,
                "ci_high": high,
                "accuracy_std": sd,
                "test_loss": float(np.mean([r.outcome.test.loss for r in seeds])),
                "latency_p50_ms": _median([r.latency_p50_ms for r in latency]),
                "latency_p99_ms": _median([r.latency_p99_ms for r in latency]),
                "throughput_img_s": _median([r.images_per_s for r in v.records.get("throughput", [])]),
                "train_step_img_s": _median([r.images_per_s for r in v.records.get("train-step", [])]),
                "train_step_peak_fraction": _median([r.peak_fraction for r in v.records.get("train-step", [])]),
                "throughput_peak_fraction": _median([r.peak_fraction for r in v.records.get("throughput", [])]),
                **{
                    f"time_to_{key}_s": _median([r.outcome.time_to_accuracy.get(key) for r in seeds])
                    for key in map(target_key, ACCURACY_TARGETS)
                },
                "acc_per_mparam": acc / (first.params / 1e6),
                "acc_per_train_s": acc / train_time if train_time and train_time > 0 else math.nan,
                "floor": first.floor,
                "floor_passed": all(r.floor_passed for r in seeds),
            }
        )
    table = pd.DataFrame(rows)
    return table.sort_values("test_accuracy", ascending=False, ignore_index=True) if len(table) else table


def per_class_table(items: list[Variant], classes: list[str]) -> pd.DataFrame:
    """Variants x classes: per-class test accuracy, mean over seeds."""
    data = {v.label: np.mean([r.outcome.test.per_class_accuracy for r in v.seeds()], axis=0) for v in items}
    return pd.DataFrame.from_dict(data, orient="index", columns=classes)


def engine_table(items: list[Variant]) -> pd.DataFrame:
    """Per variant: notebook-loop and our training images/s (median over seeds) and their ratio."""
    rows = []
    for v in items:
        records = v.records.get("engine", [])
        rates = {
            loop: _median([r.images_per_s for r in records if r.engine_loop == loop]) for loop in ("notebook", "ours")
        }
        if not records or math.isnan(rates["notebook"]) or math.isnan(rates["ours"]):
            continue
        first = records[0]
        rows.append(
            {
                "model": v.label,
                "family": first.family,
                "notebook_img_s": rates["notebook"],
                "ours_img_s": rates["ours"],
                "speedup": rates["ours"] / rates["notebook"],
                "ours_peak_fraction": _median([r.peak_fraction for r in records if r.engine_loop == "ours"]),
            }
        )
    return pd.DataFrame(rows)


def restore_table(items: list[Variant]) -> pd.DataFrame:
    """Per variant and seed: the restored best epoch's test accuracy against the last epoch's.

    The original notebook reported its last epoch's weights (its restore was a shallow copy);
    McNemar's test on the shared test images says whether restoring changed anything real.
    Empty when no record restored an earlier epoch's weights.
    """
    rows = []
    for v in items:
        for record in v.seeds():
            outcome = record.outcome
            if not outcome.config.restore_best or outcome.config.patience is None:
                continue  # no early stopping: fixed epochs, nothing to compare with the notebook's protocol
            best, last = outcome.test, outcome.last_epoch_scores
            p_value = mcnemar_p(best.predictions, last.predictions, best.labels)
            rows.append(
                {
                    "model": v.label,
                    "seed": record.seed,
                    "epochs_run": outcome.epochs_run,
                    "best_epoch": outcome.best_epoch,
                    **{f"best_{k}": getattr(best, k) for k in ("accuracy", "ci_low", "ci_high")},
                    **{f"last_{k}": getattr(last, k) for k in ("accuracy", "ci_low", "ci_high")},
                    "best_minus_last_pp": (best.accuracy - last.accuracy) * 100,
                    "mcnemar_p": p_value,
                    "train_time_s": outcome.train_time_s,
                }
            )
    return pd.DataFrame(rows)


def lever_table(items: list[Variant]) -> pd.DataFrame:
    """Per variant and lever: images/s (median over seeds) and its ratio to the unchanged case's.

    A ratio below 1 means the suite's default setting pays; see ``mnist_models.bench.levers``.
    """
    from ..bench.levers import LEVER_NAMES, get_lever

    rows = []
    for v in items:
        records = v.records.get("levers", [])
        rates = {name: _median([r.images_per_s for r in records if r.lever == name]) for name in LEVER_NAMES}
        for name in LEVER_NAMES:
            lever = get_lever(name)
            if name == lever.baseline or math.isnan(rates[name]) or math.isnan(rates[lever.baseline]):
                continue
            compile_s = _median([r.compile_time_s for r in records if r.lever == name])
            rows.append(
                {
                    "model": v.label,
                    "lever": name,
                    "case": lever.case,
                    "img_s": rates[name],
                    "baseline_img_s": rates[lever.baseline],
                    "ratio": rates[name] / rates[lever.baseline],
                    "compile_time_s": None if math.isnan(compile_s) else compile_s,
                }
            )
    return pd.DataFrame(rows)


def lever_matrix(levers: pd.DataFrame) -> pd.DataFrame:
    """``lever_table`` as models x levers of ratios, levers in their defined order."""
    from ..bench.levers import LEVER_NAMES

    table = levers.pivot(index="model", columns="lever", values="ratio")
    return table[[name for name in LEVER_NAMES if name in table.columns]]


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


def _predictions(v: Variant) -> tuple[np.ndarray, np.ndarray]:
    test = v.seeds()[0].outcome.test  # the first seed: McNemar compares one trained model with another
    return test.predictions, test.labels


def mcnemar_matrix(items: list[Variant]) -> pd.DataFrame:
    """Pairwise McNemar p-values between variants evaluated on the same test images."""
    labels = [v.label for v in items]
    matrix = pd.DataFrame(np.nan, index=labels, columns=labels)
    preds = {v.label: _predictions(v) for v in items}
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            (pa, ya), (pb, yb) = preds[a], preds[b]
            if len(ya) == len(yb) and np.array_equal(ya, yb):
                matrix.loc[a, b] = matrix.loc[b, a] = mcnemar_p(pa, pb, ya)
    return matrix


def learning_curves(items: list[Variant]) -> pd.DataFrame:
    """Long table of per-epoch history (first seed of each variant)."""
    rows = []
    for v in items:
        for epoch in v.seeds()[0].outcome.history:
            rows.append({"model": v.label, **asdict(epoch)})
    return pd.DataFrame(rows)


def epochs_to_convergence(history: Sequence[EpochRecord], tolerance: float = 0.005) -> int:
    """First epoch whose validation accuracy is within ``tolerance`` of the best (the notebook's definition)."""
    best = max(h.val_acc for h in history)
    return next(h.epoch for h in history if h.val_acc >= best - tolerance)


def insights(summary: pd.DataFrame, per_class: pd.DataFrame, items: list[Variant], significance: pd.DataFrame) -> dict:
    """The report's findings, computed from the tables (the HTML and Markdown render this dict)."""
    if summary.empty:
        return {}
    best = summary.iloc[0]
    out: dict = {
        "best_model": best["model"],
        "best_accuracy": float(best["test_accuracy"]),
        "most_parameter_efficient": summary.loc[summary["acc_per_mparam"].idxmax(), "model"],
        "hardest_class": str(per_class.mean(axis=0).idxmin()),
        "hardest_class_accuracy": float(per_class.mean(axis=0).min()),
        "easiest_class": str(per_class.mean(axis=0).idxmax()),
        "easiest_class_accuracy": float(per_class.mean(axis=0).max()),
        "hardest_class_per_model": {m: str(row.idxmin()) for m, row in per_class.iterrows()},
        "easiest_class_per_model": {m: str(row.idxmax()) for m, row in per_class.iterrows()},
        "family_mean_accuracy": {f: float(g.mean()) for f, g in summary.groupby("family")["test_accuracy"]},
        "epochs_to_convergence": {
            v.label: epochs_to_convergence(v.seeds()[0].outcome.history) for v in items if v.seeds()[0].outcome.history
        },
    }
    if summary["acc_per_train_s"].notna().any():
        out["most_time_efficient"] = summary.loc[summary["acc_per_train_s"].idxmax(), "model"]
    if best["model"] in significance.index:
        p_values = significance.loc[best["model"]].drop(best["model"]).dropna()
        out["not_significantly_worse_than_best"] = {m: float(p) for m, p in p_values.items() if p >= 0.05}
    return out
