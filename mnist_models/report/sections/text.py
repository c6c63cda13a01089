"""Formatting computed tables and insights for people: cells as strings, sentences; no Markdown or HTML."""

from __future__ import annotations

import math

import pandas as pd

from ...results.groups import summary_columns
from ...results.protocol import ACCURACY_TARGETS, target_key
from ..tables.budgets import budget_lines

TIME_TO_ACCURACY = "train s to " + "/".join(f"{t:.0%}".rstrip("%") for t in ACCURACY_TARGETS) + "% val"
# the summary's own columns (display name -> the raw column it sorts by), before and after the groups'
CORE_COLUMNS = {"model": "model", "family": "family", "params": "params", "FLOPs/img": "flops_inference",
                "epochs": "epochs", "train s": "train_time_s", "test acc (95% CI)": "test_accuracy",
                "test loss": "test_loss"}  # fmt: skip
TAIL_COLUMNS = {TIME_TO_ACCURACY: None, "floor": "floor"}
KEY_CORE = ("model", "test acc (95% CI)", "train s")  # shown first, then the groups' key columns, then these:
KEY_TAIL = ("params", "floor")


def _num(value, fmt: str, unit: str = "") -> str:
    """``value`` formatted, with its ``unit``; "–" alone when there is none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if fmt == "percent":
        return _percent(value)
    return format(value, fmt) + unit


def _seconds(value) -> str:
    return "never" if isinstance(value, float) and math.isinf(value) else _num(value, ".1f")


def _percent(fraction) -> str:
    text = _num(fraction * 100 if fraction is not None else None, ".0f")
    return text if text == "–" else f"{text}%"


def _floor(r) -> str:
    """The floor in force when the run was made and its verdict, and today's where it differs."""
    if r.floor is None or pd.isna(r.floor):
        return "–"
    text = f"{r.floor:.2%} {'✓' if r.floor_passed else '✗ FAILED'}"
    today = r.get("floor_today")
    if today is not None and not pd.isna(today) and abs(today - r.floor) > 1e-9:
        text += f" (today {today:.2%} {'✓' if r.test_accuracy >= today else '✗'})"
    return text


def display_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary table formatted for people (the CSV keeps raw numbers): every column."""
    groups = summary_columns()
    rows = []
    for _, r in summary.iterrows():
        acc = f"{r.test_accuracy:.2%} ({r.ci_low:.2%}–{r.ci_high:.2%})"
        if r.seeds > 1:
            acc += f" ±{r.accuracy_std:.2%} sd, {r.seeds} seeds"
        row = {
            "model": r.model,
            "family": r.family,
            "params": f"{r.params:,}",
            "FLOPs/img": f"{r.flops_inference:,}",
            "epochs": _num(r.epochs, ".0f"),
            "train s": _num(r.train_time_s, ".1f"),
            "test acc (95% CI)": acc,
            "test loss": _num(r.test_loss, ".4f"),
        }
        row.update({c.label: _num(r[c.column], c.fmt) for _, c in groups})
        row[TIME_TO_ACCURACY] = " / ".join(_seconds(r[f"time_to_{k}_s"]) for k in map(target_key, ACCURACY_TARGETS))
        row["floor"] = _floor(r)
        rows.append(row)
    columns = [*CORE_COLUMNS, *(c.label for _, c in groups), *TAIL_COLUMNS]
    return pd.DataFrame(rows, columns=columns)


def key_columns() -> dict[str, str]:
    """The columns people look for first (display name -> the raw summary column each one sorts by)."""
    groups = {c.label: c.column for _, c in summary_columns() if c.key}
    everything = {**CORE_COLUMNS, **groups, **TAIL_COLUMNS}
    return {name: everything[name] for name in (*KEY_CORE, *groups, *KEY_TAIL)}


def key_summary(table: pd.DataFrame) -> pd.DataFrame:
    """The display summary cut to its key columns: a table that reads at a glance."""
    return table[list(key_columns())]


def sort_keys(table: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """For each displayed key column, the raw numbers a page sorts it by (text columns sort as shown)."""
    return pd.DataFrame({name: summary[raw] for name, raw in key_columns().items() if raw in summary})


def _p(value: float) -> str:
    return "<0.001" if value < 0.001 else f"{value:.3f}" if value < 0.01 else f"{value:.2f}"


def comparison_line(found: dict, pairs: int) -> str:
    """What the significance tests compare, in which family, and what a claim would need."""
    family = f"in one family, {found.get('family', f'{pairs} pairs')}" if pairs else "no pairs to compare"
    if found.get("comparisons_of") == "architectures":
        line = (
            f"Comparisons of **architectures** over {found['seeds_per_model']} seeds each: a t-test on the difference "
            "of mean test accuracies whose variance holds the seeds' spread and the test set's own term (after "
            f"Bouthillier et al., 2021; calibrated by simulation, reports/seed-test), {family}."
        )
    else:
        line = (
            "Comparisons between **these trained weights** (one seed per model): McNemar's test on the shared test "
            f"images, {family}. They say which networks differ, not which architecture is better."
        )
    claims = found.get("seeds_for_an_architecture_claim")
    if claims:
        line += " " + claims_sentence(claims)
    return line


def claims_sentence(claims: dict) -> str:
    """How many seeds a claim of each size takes, or that no number of seeds will do on this test set."""
    seeds = claims["seeds"]

    def takes(size: str) -> str:
        return (
            f"{seeds[size]} seeds of each"
            if seeds[size]
            else "more seeds than any run (the test-set term alone is too large)"
        )

    return (
        f"At the seed-to-seed spread {claims['source']} of {claims['seed_sd_pp']:.2f} points and a test-set term of "
        f"{claims['test_set_sd_pp']:.2f} points, telling two architectures apart by 0.5 points takes {takes('0.5')}, "
        f"by 0.2 points {takes('0.2')}, by 0.1 points {takes('0.1')} (80% power, α 0.05 over {claims['pairs']} pairs)."
    )


def verdict_lines(found: dict, pairs: int) -> list[str]:
    """Which models could be the most accurate, and for the others whether the run could have told."""
    if not pairs:
        return []
    best, possible = found["best_model"], found.get("could_be_best", [])
    against = found.get("against_best", {})
    tied = [m for m in possible if m != best]
    if not tied:
        return [f"Every other model is significantly less accurate than another (Holm p < 0.05): **{best}** alone "
                "can be the most accurate."]  # fmt: skip
    detail = ", ".join(
        f"**{m}** ({against[m]['below_pp']:+.2f} pp, Holm p={_p(against[m]['holm_p'])}, detectable "
        f"{against[m]['detectable_pp']:.2f} pp)"
        if m in against
        else f"**{m}**"
        for m in tied
    )
    return [
        f"Could be the most accurate (no other model significantly above it; the set holds the most accurate with "
        f"95% confidence): **{best}** and {detail}. Below {best} by less than the detectable difference, a gap "
        "could hide: not established is not equal."
    ]


def insight_lines(found: dict, classes_word: str = "class", pairs: int = 0) -> list[str]:
    """Insights as sentences, in a fixed order."""
    if not found:
        return []
    best = found["best_model"]
    lines = [
        f"Most accurate: **{best}** with {found['best_accuracy']:.2%} test accuracy"
        + (f" (first in {found['rank_first'][best]:.0%} of bootstrap resamples of the seeds and the test images)."
           if found.get("rank_first") else "."),
        comparison_line(found, pairs),
    ]  # fmt: skip
    lines += verdict_lines(found, pairs)
    lines += budget_lines(found.get("pareto", {}))
    lines.append(
        f"Hardest {classes_word} across models: **{found['hardest_class']}** ({found['hardest_class_accuracy']:.2%} mean); "
        f"easiest: **{found['easiest_class']}** ({found['easiest_class_accuracy']:.2%})."
    )
    families = found["family_mean_accuracy"]
    if "cnn" in families and "mlp" in families:
        lines.append(f"CNN vs MLP mean test accuracy: {families['cnn']:.2%} vs {families['mlp']:.2%}.")
    lines.append(
        f"Per model, hardest / easiest {classes_word}: "
        + "; ".join(
            f"{m}: {found['hardest_class_per_model'][m]} / {found['easiest_class_per_model'][m]}"
            for m in found["hardest_class_per_model"]
        )
        + "."
    )
    if found.get("epochs_to_convergence"):
        lines.append(
            "Epochs to convergence (first epoch within 0.5 pp of the best validation accuracy; median over seeds): "
            + ", ".join(f"{m}: {e:g}" for m, e in found["epochs_to_convergence"].items())
            + "."
        )
    speedups = found.get("engine_speedup")
    if speedups:
        low, high = min(speedups.values()), max(speedups.values())
        lines.append(
            f"Our training loop runs {low:.2f}×–{high:.2f}× the notebook-style loop's images/s at the same batch size."
        )
    return lines
