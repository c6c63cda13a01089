"""Tables of the groups that set variants of the same work side by side: our loop against the notebook's,
levers against the unchanged work, runtimes against eager PyTorch, restored weights against the last epoch's.

Ratios between benchmarks are computed here, from the saved rates, and nowhere else. A table finds its
records by the groups' specs (the record field their variants are told apart by), never by a group's name.
"""

from __future__ import annotations

import math

import pandas as pd

from ...results.groups import GROUPS, GroupSpec
from ...results.record import AGREEMENT_TOLERANCE
from ...stats.paired import mcnemar_p
from .compute import Variant, _median

RUNTIME_FIELDS = ("agreement", "disagreements", "max_logit_diff", "runtime_accuracy", "conversion_time_s",
                  "conversion_warm_time_s", "artifact_bytes", "peak_rss_bytes")  # fmt: skip


def _varying(field: str) -> list[GroupSpec]:
    """The groups whose benchmarks are told apart by the record field ``field``, in the groups' order."""
    return [s for s in GROUPS.specs() if s.variants is not None and s.variants.field == field]


def _records(v: Variant, field: str) -> list:
    return [r for s in _varying(field) for r in v.records.get(s.name, [])]


def engine_table(items: list[Variant]) -> pd.DataFrame:
    """Per variant: notebook-loop and our training images/s (median over seeds) and their ratio."""
    rows = []
    for v in items:
        records = _records(v, "engine_loop")
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
    """Per variant and lever: images/s (median over seeds) and its ratio to its baseline's (the unchanged work).

    A ratio below 1 means the suite's default setting pays; levers in the order the run has them.
    """
    rows = []
    for v in items:
        records = _records(v, "lever")
        names = list(dict.fromkeys(r.lever for r in records))
        rates = {name: _median([r.images_per_s for r in records if r.lever == name]) for name in names}
        baselines = {r.lever: r.lever_baseline for r in records}
        for name in names:
            baseline = baselines[name]
            if name == baseline or math.isnan(rates[name]) or math.isnan(rates.get(baseline, math.nan)):
                continue
            compile_s = _median([r.compile_time_s for r in records if r.lever == name])
            rows.append(
                {
                    "model": v.label,
                    "lever": name,
                    "group": baseline.removeprefix("default-"),
                    "img_s": rates[name],
                    "baseline_img_s": rates[baseline],
                    "ratio": rates[name] / rates[baseline],
                    "compile_time_s": None if math.isnan(compile_s) else compile_s,
                }
            )
    return pd.DataFrame(rows)


def lever_matrix(levers: pd.DataFrame) -> pd.DataFrame:
    """``lever_table`` as models x levers of ratios, levers in the order the table has them."""
    table = levers.pivot(index="model", columns="lever", values="ratio")
    return table[[name for name in dict.fromkeys(levers["lever"]) if name in table.columns]]


def runtime_table(items: list[Variant]) -> pd.DataFrame:
    """Per variant and runtime: latency p50/p99 and throughput (medians over seeds), their speedups over the
    same model's eager figures, agreement with eager and what the conversion cost. Empty unless some
    inference benchmark ran on a runtime other than eager."""
    groups, rows = _varying("runtime"), []
    for v in items:
        records = [r for s in groups for r in v.records.get(s.name, [])]
        for runtime in dict.fromkeys(r.runtime or "eager" for r in records):
            mine = {s.name: [r for r in v.records.get(s.name, []) if (r.runtime or "eager") == runtime] for s in groups}
            every = [r for s in groups for r in mine[s.name]]
            row = {"model": v.label, "runtime": runtime}
            row.update({c.column: _median([r.value(c.field) for r in mine[s.name]])
                        for s in groups for c in s.summary if c.by_runtime})  # fmt: skip
            row.update(_agreement(every))
            first = mine[groups[0].name]  # the conversion's figures: the first such group's (batch 1), else any
            row.update({f: _median([getattr(r, f) for r in first or every]) for f in RUNTIME_FIELDS[4:]})
            row.update(_paired(first or every))
            rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty or set(table["runtime"]) == {"eager"}:
        return pd.DataFrame()
    eager = table[table["runtime"] == "eager"].set_index("model")
    table["latency_speedup"] = table["model"].map(eager["latency_p50_ms"]) / table["latency_p50_ms"]
    table["throughput_speedup"] = table["throughput_img_s"] / table["model"].map(eager["throughput_img_s"])
    return table


def _agreement(records: list) -> dict:
    """The worst agreement with eager over ``records``, and the runtime's accuracy."""
    return {
        "agreement": min((r.agreement for r in records if r.agreement is not None), default=math.nan),
        "disagreements": max((r.disagreements for r in records if r.disagreements is not None), default=math.nan),
        "max_logit_diff": max((r.max_logit_diff for r in records if r.max_logit_diff is not None), default=math.nan),
        "runtime_accuracy": _median([r.runtime_accuracy for r in records]),
    }


def _paired(records: list) -> dict:
    """The runtime as its spec declared it (agreement floor, the runtime it transforms, how it quantized) and, from
    one record (the first seed's), McNemar's discordant counts against eager fp32 with that record's accuracy and
    test images: the counts of two seeds' weights are not one test's."""
    counted = sorted((r for r in records if r.fp32_only_correct is not None), key=lambda r: r.seed)
    one = counted[0] if counted else None
    paired = dict.fromkeys(("fp32_only_correct", "runtime_only_correct", "paired_accuracy", "test_images"))
    if one is not None:
        paired.update(fp32_only_correct=one.fp32_only_correct, runtime_only_correct=one.runtime_only_correct,
                      paired_accuracy=one.runtime_accuracy, test_images=one.outcome.test.total)  # fmt: skip
    return {
        "agreement_floor": min((r.agreement_needed for r in records), default=AGREEMENT_TOLERANCE),
        "runtime_baseline": next((r.runtime_baseline for r in records if r.runtime_baseline), None),
        "quantization": next((r.quantization for r in records if r.quantization), None),
        **paired,
    }


def best_runtimes(runtimes: pd.DataFrame) -> pd.DataFrame:
    """Per model, the runtime with the lowest batch-1 latency p50 among those that run the trained weights as they
    are (no quantization: its accuracy is another model's, shown in the quantized table) and keep eager's
    predictions (top-1 agreement at ``AGREEMENT_TOLERANCE``)."""
    unquantized = runtimes["quantization"].isna() if "quantization" in runtimes else True
    agreeing = runtimes[unquantized & (runtimes["agreement"].isna() | (runtimes["agreement"] >= AGREEMENT_TOLERANCE))]
    agreeing = agreeing.dropna(subset=["latency_p50_ms"])
    best = agreeing.loc[agreeing.groupby("model")["latency_p50_ms"].idxmin()]
    return best[["model", "runtime", "latency_p50_ms"]].rename(
        columns={"runtime": "best_runtime", "latency_p50_ms": "best_latency_p50_ms"}
    )
