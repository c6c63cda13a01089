"""Rendering computed tables and insights as Markdown and a self-contained HTML page (strings only)."""

from __future__ import annotations

import math

import pandas as pd

from ..training.config import ACCURACY_TARGETS, target_key
from .compute import lever_matrix

SUMMARY_COLUMNS = {
    "model": "model",
    "family": "family",
    "params": "params",
    "flops_inference": "FLOPs/img",
    "epochs": "epochs",
    "train_time_s": "train s",
    "accuracy": "test acc (95% CI)",
    "test_loss": "test loss",
    "latency_p50_ms": "p50 ms",
    "latency_p99_ms": "p99 ms",
    "throughput_img_s": "img/s",
    "time_to_acc": "train s to " + "/".join(f"{t:.0%}".rstrip("%") for t in ACCURACY_TARGETS) + "% val",
    "acc_per_mparam": "acc/Mparam",
    "acc_per_train_s": "acc/train s",
    "train_step_img_s": "train img/s",
    "peak": "% peak (train/infer)",
    "floor": "floor",
}


def _num(value, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return format(value, fmt)


def _percent(fraction) -> str:
    text = _num(fraction * 100 if fraction is not None else None, ".0f")
    return text if text == "–" else f"{text}%"


def display_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary table formatted for people (the CSV keeps raw numbers)."""
    rows = []
    for _, r in summary.iterrows():
        acc = f"{r.test_accuracy:.2%} ({r.ci_low:.2%}–{r.ci_high:.2%})"
        if r.seeds > 1:
            acc += f" ±{r.accuracy_std:.2%} sd, {r.seeds} seeds"
        floor = "–" if r.floor is None or pd.isna(r.floor) else f"{r.floor:.2%} {'✓' if r.floor_passed else '✗ FAILED'}"
        rows.append(
            {
                "model": r.model,
                "family": r.family,
                "params": f"{r.params:,}",
                "flops_inference": f"{r.flops_inference:,}",
                "epochs": _num(r.epochs, ".0f"),
                "train_time_s": _num(r.train_time_s, ".1f"),
                "accuracy": acc,
                "test_loss": _num(r.test_loss, ".4f"),
                "latency_p50_ms": _num(r.latency_p50_ms, ".3f"),
                "latency_p99_ms": _num(r.latency_p99_ms, ".3f"),
                "throughput_img_s": _num(r.throughput_img_s, ",.0f"),
                "time_to_acc": " / ".join(_num(r[f"time_to_{k}_s"], ".1f") for k in map(target_key, ACCURACY_TARGETS)),
                "acc_per_mparam": _num(r.acc_per_mparam, ".3g"),
                "acc_per_train_s": _num(r.acc_per_train_s, ".3g"),
                "train_step_img_s": _num(r.train_step_img_s, ",.0f"),
                "peak": f"{_percent(r.train_step_peak_fraction)} / {_percent(r.throughput_peak_fraction)}",
                "floor": floor,
            }
        )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS)).rename(columns=SUMMARY_COLUMNS)


# The columns people look for first, and the raw summary column each one sorts by.
KEY_COLUMNS = {
    "model": "model",
    "test acc (95% CI)": "test_accuracy",
    "train s": "train_time_s",
    "p50 ms": "latency_p50_ms",
    "img/s": "throughput_img_s",
    "params": "params",
    "floor": "floor",
}


def key_summary(table: pd.DataFrame) -> pd.DataFrame:
    """The display summary cut to ``KEY_COLUMNS``: a table that reads at a glance."""
    return table[list(KEY_COLUMNS)]


def display_comparison(comparison: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in comparison.iterrows():
        if r["status"] != "both":
            rows.append({"model": r["model"], "case": r["case"], "seed": r["seed"], "status": r["status"]})
            continue
        rows.append(
            {
                "model": r["model"],
                "case": r["case"],
                "seed": r["seed"],
                "status": "both",
                "base median": _num(r["base_median_s"] * 1e3, ".3f") + " ms",
                "current median": _num(r["current_median_s"] * 1e3, ".3f") + " ms",
                "time change": _num(r["time_change_pct"], "+.1f") + "%",
                "Mann-Whitney p": _num(r["time_p_value"], ".3g"),
                "accuracy change": _num(r["accuracy_change_pp"], "+.2f") + " pp",
                "McNemar p": _num(r["accuracy_p_value"], ".3g"),
            }
        )
    return pd.DataFrame(rows).fillna("")


def insight_lines(found: dict, classes_word: str = "class") -> list[str]:
    """Insights as sentences, in a fixed order."""
    if not found:
        return []
    lines = [
        f"Best model: **{found['best_model']}** with {found['best_accuracy']:.2%} test accuracy.",
        f"Most parameter-efficient (accuracy per million parameters): **{found['most_parameter_efficient']}**.",
    ]
    if "most_time_efficient" in found:
        lines.append(f"Most time-efficient (accuracy per training second): **{found['most_time_efficient']}**.")
    lines.append(
        f"Hardest {classes_word} across models: **{found['hardest_class']}** ({found['hardest_class_accuracy']:.2%} mean); "
        f"easiest: **{found['easiest_class']}** ({found['easiest_class_accuracy']:.2%})."
    )
    families = found["family_mean_accuracy"]
    if "cnn" in families and "mlp" in families:
        lines.append(f"CNN vs MLP mean test accuracy: {families['cnn']:.2%} vs {families['mlp']:.2%}.")
    lines.append(
        "Per model, hardest / easiest "
        + classes_word
        + ": "
        + "; ".join(
            f"{m}: {found['hardest_class_per_model'][m]} / {found['easiest_class_per_model'][m]}"
            for m in found["hardest_class_per_model"]
        )
        + "."
    )
    if found.get("epochs_to_convergence"):
        lines.append(
            "Epochs to convergence (first epoch within 0.5 pp of the best validation accuracy): "
            + ", ".join(f"{m}: {e}" for m, e in found["epochs_to_convergence"].items())
            + "."
        )
    speedups = found.get("engine_speedup")
    if speedups:
        low, high = min(speedups.values()), max(speedups.values())
        lines.append(
            f"Our training loop runs {low:.2f}×–{high:.2f}× the notebook-style loop's images/s at the same batch size."
        )
    close = found.get("not_significantly_worse_than_best")
    if close:
        lines.append(
            f"Not significantly different from {found['best_model']} (McNemar p ≥ 0.05): "
            + ", ".join(f"{m} (p={p:.2f})" for m, p in close.items())
            + "; their ranking is not established by this run."
        )
    elif close is not None:
        lines.append(f"Every other model is significantly less accurate than {found['best_model']} (McNemar p < 0.05).")
    return lines


def display_levers(levers: pd.DataFrame) -> pd.DataFrame:
    """Models x levers, each cell the variant's images/s over the unchanged case's."""
    matrix = lever_matrix(levers).map(lambda v: _num(v, ".2f") + "×" if pd.notna(v) else "")
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
                "best − last": _num(r["best_minus_last_pp"], "+.2f") + " pp",
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
            "speedup": engine["speedup"].map(lambda v: _num(v, ".2f") + "×"),
            "our % of matmul peak": engine["ours_peak_fraction"].map(_percent),
        }
    )


def markdown(
    title: str,
    context: str,
    table: pd.DataFrame,
    lines: list[str],
    notes: list[str],
    comparison: pd.DataFrame | None = None,
    gate: list[str] | None = None,
    extra: list[tuple[str, pd.DataFrame]] = (),
) -> str:
    """``summary.md``: fits a CI job summary."""
    parts = [f"# {title}", "", context, ""]
    if gate is not None:
        parts += ["## Regression gate", ""]
        parts += [f"- ❌ {g}" for g in gate] if gate else ["✅ within thresholds"]
        parts.append("")
    parts += ["## Summary", "", key_summary(table).to_markdown(index=False), ""]
    parts += ["<details><summary>All columns</summary>", "", table.to_markdown(index=False), "", "</details>", ""]
    if lines:
        parts += ["## Insights", ""] + [f"- {line}" for line in lines] + [""]
    for heading, frame in extra:
        parts += [f"## {heading}", "", frame.to_markdown(index=False), ""]
    if comparison is not None and not comparison.empty:
        parts += ["## Against the baseline", "", comparison.to_markdown(index=False), ""]
    if notes:
        parts += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(parts)
