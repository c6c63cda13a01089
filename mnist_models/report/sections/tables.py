"""The report's other tables formatted for people: comparisons, budgets, time to target, engine, levers,
restored weights, runtimes (cells as strings; the CSV files keep the raw numbers)."""

from __future__ import annotations

import math

import pandas as pd

from ..tables.budgets import COSTS, cost_text, rate_text
from ..tables.groups import best_runtimes, lever_matrix
from ..tables.significance import ALPHA, against_best, below_another
from ..tables.verdicts import Insights
from .text import _num, _p, _percent


def display_comparison(comparison: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in comparison.iterrows():
        if r["status"] != "both":
            rows.append({"model": r["model"], "benchmark": r["benchmark"], "seed": r["seed"], "status": r["status"]})
            continue
        rows.append(
            {
                "model": r["model"],
                "benchmark": r["benchmark"],
                "seed": r["seed"],
                "status": "both",
                "base median": _num(r["base_median_s"] * 1e3, ".3f", " ms"),
                "current median": _num(r["current_median_s"] * 1e3, ".3f", " ms"),
                "time change": _num(r["time_change_pct"], "+.1f", "%"),
                "Mann-Whitney p": _num(r["time_p_value"], ".3g"),
                "accuracy change": _num(r["accuracy_change_pp"], "+.2f", " pp"),
                "McNemar p": _num(r["accuracy_p_value"], ".3g"),
            }
        )
    return pd.DataFrame(rows).fillna("")


def display_significance(sig, summary: pd.DataFrame) -> pd.DataFrame:
    """Each model against the most accurate one: difference, p, Holm p over the family (every pair), the difference
    it could have detected, how often it ranks first, and the verdict."""
    pairs = against_best(sig)
    if summary.empty or pairs.empty:
        return pd.DataFrame()
    best = summary.iloc[0]["model"]
    below = below_another(sig)
    rows = []
    for pair in pairs.itertuples():
        accuracy = summary.loc[summary["model"] == pair.model, "test_accuracy"].iloc[0]
        if pair.model in below:
            verdict = "significantly below" + (f" {below[pair.model]}" if below[pair.model] != best else "")
        else:
            verdict = f"not established (a gap under {pair.mdd_pp:.2f} pp could hide)"
        row = {
            "model": pair.model,
            "test acc": f"{accuracy:.2%}",
            f"below {best}": _num(pair.difference_pp, ".2f", " pp"),
            "p": _p(pair.p_value),
            "Holm p (all pairs)": _p(pair.holm_p),
            "detectable (80%)": _num(pair.mdd_pp, ".2f", " pp"),
            "ranks first": f"{sig.first.get(pair.model, 0):.0%}",
            "verdict": verdict,
        }
        rows.append(row)
    return pd.DataFrame(rows)


HOW = "#how-to-read-this"  # every column of the answer links to what it means


def _interval_cell(column: str, point: dict) -> str:
    if point["low"] == point["high"]:
        return "exact" if COSTS[column][3] is None else "one seed"
    if COSTS[column][1]:  # a rate
        return f"{rate_text(point['low'])}–{rate_text(point['high'])} img/s"
    low, high = cost_text(column, point["low"]), cost_text(column, point["high"])
    return f"{low.split(' ')[0]}–{high}"


def display_answer(found: Insights | None) -> pd.DataFrame:
    """The answer first: the most accurate model (or the tied set), then for each cost the point-estimate Pareto
    front as budget -> pick, each step's accuracy gain and its verdict, and what the run cannot tell apart."""
    if found is None:
        return pd.DataFrame()
    names = ("cost", "budget", "pick", "test acc (95% CI)", "gain", "Holm p", "detectable", "verdict", "cost CI",
             "not told apart from")  # fmt: skip
    best = found.best_model
    low, high = found.best_interval
    rows = [[
        "accuracy", "any", best, _accuracy(found.best_accuracy, low, high), "–", "–", "–",
        found.best_verdict, "–", ", ".join(found.tied_with_best) or "–",
    ]]  # fmt: skip
    for column, front in found.pareto.items():
        what, higher, _, _ = COSTS[column]
        for point in front:
            p = point["gain_holm_p"]
            first = point["gain_over"] is None
            verdict = (
                "cheapest"
                if first
                else "not tested"
                if p is None
                else "significant"
                if p < ALPHA
                else "not established"
            )
            rows.append([
                f"latency, {point['runtime']}" if point.get("runtime") else what,
                f"{'≥' if higher else '≤'} {cost_text(column, point['value'])}", point["model"],
                _accuracy(point["accuracy"], point["ci_low"], point["ci_high"]),
                "–" if first else f"{point['gain_pp']:+.2f} pp", "–" if p is None else _p(p),
                "–" if point.get("gain_detectable_pp") is None else f"{point['gain_detectable_pp']:.2f} pp", verdict,
                _interval_cell(column, point), ", ".join(point["apart"]) or "–",
            ])  # fmt: skip
    return pd.DataFrame(rows, columns=[f"[{n}]({HOW})" for n in names])


def _accuracy(value: float, low: float | None, high: float | None) -> str:
    return f"{value:.2%}" if low is None or high is None else f"{value:.2%} ({low * 100:.2f}–{high * 100:.2f})"


def display_time_to_target(ttt: pd.DataFrame) -> pd.DataFrame:
    """Models x targets: training seconds to reach each validation accuracy (median over seeds)."""
    out = ttt.map(lambda t: "never" if not math.isfinite(t) else f"{t:.1f} s")
    out.columns = [f"to {float(k):.0%} val" for k in ttt.columns]
    return out.rename_axis("model").reset_index()


def display_levers(levers: pd.DataFrame) -> pd.DataFrame:
    """Models x levers, each cell the variant's images/s over the unchanged case's."""
    matrix = lever_matrix(levers).map(lambda v: _num(v, ".2f", "×") if pd.notna(v) else "")
    return matrix.rename_axis(columns=None).reset_index()


def display_restore(restore: pd.DataFrame) -> pd.DataFrame:
    """Restored best epoch against the last epoch, per model and seed."""

    def acc(r, which: str) -> str:
        return f"{r[f'{which}_accuracy']:.2%} ({r[f'{which}_ci_low']:.2%}–{r[f'{which}_ci_high']:.2%})"

    return pd.DataFrame(
        [
            {
                "model": r["model"],
                "seed": r["seed"],
                "epochs run": r["epochs_run"],
                "best epoch": r["best_epoch"],
                "best weights (restored)": acc(r, "best"),
                "last epoch's weights": acc(r, "last"),
                "best − last": _num(r["best_minus_last_pp"], "+.2f", " pp"),
                "McNemar p": _num(r["mcnemar_p"], ".3g"),
                "train s": _num(r["train_time_s"], ".1f"),
            }
            for _, r in restore.iterrows()
        ]
    )


def display_engine(engine: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": engine["model"],
            "notebook loop img/s": engine["notebook_img_s"].map(lambda v: _num(v, ",.0f")),
            "our engine img/s": engine["ours_img_s"].map(lambda v: _num(v, ",.0f")),
            "speedup": engine["speedup"].map(lambda v: _num(v, ".2f", "×")),
            "our % of matmul peak": engine["ours_peak_fraction"].map(_percent),
        }
    )


def display_runtimes_by_model(runtimes: pd.DataFrame) -> pd.DataFrame:
    """One row per model: eager's latency and throughput, then each runtime's, with its ratio to eager's and its
    top-1 agreement with eager (the long table, per model and runtime, is ``display_runtimes``)."""
    names = [r for r in dict.fromkeys(runtimes["runtime"]) if r != "eager"]
    fastest = best_runtimes(runtimes).set_index("model")["best_runtime"]
    rows = []
    for model, mine in runtimes.groupby("model", sort=False):
        by = mine.set_index("runtime")
        row = {"model": model, "fastest at batch 1": fastest.get(model, "–")}
        if "eager" in by.index:
            row["eager p50 ms"] = _num(by.loc["eager", "latency_p50_ms"], ".3f")
            row["eager img/s"] = _num(by.loc["eager", "throughput_img_s"], ",.0f")
        for name in names:
            if name not in by.index:
                row.update({f"{name}: latency": "–", f"{name}: throughput": "–", f"{name}: agreement": "–"})
                continue
            r = by.loc[name]
            row[f"{name}: latency"] = _num(r["latency_speedup"], ".2f", "×")
            row[f"{name}: throughput"] = _num(r["throughput_speedup"], ".2f", "×")
            row[f"{name}: agreement"] = "–" if pd.isna(r["agreement"]) else f"{r['agreement']:.2%}"
        rows.append(row)
    return pd.DataFrame(rows)


def display_runtimes(runtimes: pd.DataFrame) -> pd.DataFrame:
    """Model x runtime: latency p50/p99, throughput, speedups over eager, agreement, conversion cost."""

    def agreement(r) -> str:
        if pd.isna(r.agreement):
            return "–"
        return f"{r.agreement:.2%}" + (f" ({int(r.disagreements)} differ)" if r.disagreements else "")

    return pd.DataFrame(
        [
            {
                "model": r.model,
                "runtime": r.runtime,
                "p50 / p99 ms": f"{_num(r.latency_p50_ms, '.3f')} / {_num(r.latency_p99_ms, '.3f')}",
                "latency vs eager": _num(r.latency_speedup, ".2f", "×"),
                "img/s": _num(r.throughput_img_s, ",.0f"),
                "throughput vs eager": _num(r.throughput_speedup, ".2f", "×"),
                "top-1 agreement": agreement(r),
                "max abs Δ logit": _num(r.max_logit_diff, ".2g"),
                "conversion s (cold / warm)": f"{_num(r.conversion_time_s, '.2f')} / {_num(r.conversion_warm_time_s, '.2f')}",
                "artifact": _num(r.artifact_bytes / 1e6, ".2f", " MB"),
                **_memory_cell(r),
            }
            for r in runtimes.itertuples()
        ]
    )


def _memory_cell(r) -> dict[str, str]:
    """The memory group's peaks of one runtime, where the run has them (docs/memory.md)."""
    one, many = getattr(r, "latency_peak_mib", None), getattr(r, "throughput_peak_mib", None)
    if (one is None or pd.isna(one)) and (many is None or pd.isna(many)):
        return {}
    return {"peak MiB (batch 1 / batched)": f"{_num(one, '.2f')} / {_num(many, '.2f')}"}


def display_quantized(quantized: pd.DataFrame) -> pd.DataFrame:
    """Per quantized model (``tables.quantized.quantized_table``): accuracy against fp32, McNemar's and Holm's p,
    the verdict, agreement, and the speed and size ratios over eager and over the fp32 runtime it was made from."""
    several = quantized["runtime"].nunique() > 1
    baselines = set(quantized["baseline"].dropna())
    against = f"vs {baselines.pop() if len(baselines) == 1 else 'fp32 runtime'}: latency / throughput / size"

    def ratios(*values) -> str:
        return " / ".join(_num(v, ".2f", "×") for v in values)

    return pd.DataFrame(
        [
            {
                "model": r.model,
                **({"runtime": r.runtime} if several else {}),
                "quantized as": r.quantization,
                "accuracy fp32 → quantized": f"{r.fp32_accuracy:.2%} → {r.quantized_accuracy:.2%}",
                "Δ pp": f"{r.delta_pp:+.2f}",
                "McNemar p (Holm)": f"{_p(r.mcnemar_p)} ({_p(r.holm_p)})",
                "verdict": r.verdict,
                "agreement": f"{r.agreement:.2%}",
                "vs eager: latency / throughput": ratios(r.latency_vs_eager, r.throughput_vs_eager),
                against: "–"
                if pd.isna(r.baseline)
                else ratios(r.latency_vs_baseline, r.throughput_vs_baseline, r.artifact_ratio),
            }
            for r in quantized.itertuples()
        ]
    )
