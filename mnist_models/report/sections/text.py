"""Formatting computed tables and insights for people: cells as strings, sentences; no Markdown or HTML."""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Mapping
from types import MappingProxyType

import pandas as pd

from ...results.groups import summary_columns
from ...results.protocol import ACCURACY_TARGETS, target_key
from ..tables.verdicts import Insights

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
    """The display summary cut to its key columns: a table that reads at a glance. A group's column that is
    "–" in every row (the run left that group out) is dropped; the full table keeps it."""
    core = {*KEY_CORE, *KEY_TAIL}
    shown = [name for name in key_columns() if name in core or not (table[name] == "–").all()]
    return table[shown]


def sort_keys(table: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """For each displayed key column, the raw numbers a page sorts it by (text columns sort as shown)."""
    keys = key_columns()
    return pd.DataFrame({name: summary[keys[name]] for name in table.columns if keys.get(name) in summary})


def _p(value: float) -> str:
    """A p-value as shown: two significant figures below 0.1, so 0.049 never reads as 0.05."""
    return "<0.001" if value < 0.001 else f"{value:.3f}" if value < 0.1 else f"{value:.2f}"


def comparison_line(found: Insights | None, pairs: int) -> str:
    """What the significance tests compare, in which family, and what a claim would need."""
    family = f"in one family, {found.family if found else f'{pairs} pairs'}" if pairs else "no pairs to compare"
    if found is not None and found.comparisons_of == "architectures":
        line = (
            f"Comparisons of **architectures** over {found.seeds_per_model} seeds each: a t-test on the difference "
            "of mean test accuracies, its variance the seeds' spread plus the test set's own term (after Bouthillier "
            f"et al., 2021; calibrated in reports/seed-test), {family}."
        )
    else:
        line = (
            "Comparisons between **these trained weights** (one seed per model): McNemar's test on the shared test "
            f"images, {family}. They say which networks differ, not which architecture is better."
        )
    return line


def claims_sentence(claims: dict) -> str:
    """How many seeds a claim of each size takes, or that no number of seeds will do on this test set."""
    seeds = claims["seeds"]
    possible = [f"by {size} points takes {seeds[size]} seeds of each" for size in ("0.5", "0.2", "0.1") if seeds[size]]
    impossible = [size for size in ("0.5", "0.2", "0.1") if not seeds[size]]
    if impossible:
        possible.append(
            f"by {' or '.join(impossible)} points more seeds than any run (the test-set term alone is too large)"
        )
    return (
        f"Seeds a claim needs: telling two architectures apart {'; '.join(possible)}. That is at 80% power and "
        f"α 0.05 over {claims['pairs']} pairs, with a seed-to-seed spread of {claims['seed_sd_pp']:.2f} points "
        f"({claims['source']}) and a test-set term of {claims['test_set_sd_pp']:.2f} points."
    )


NBSP = "\u00a0"  # a value and its unit stay on one line
ANSWER_WIDTH = 118  # a terminal's answer lines wrap within a CI log's usual width
INSIGHTS = 6  # at most this many bullets, each one sentence of at most INSIGHT_CHARS characters
INSIGHT_CHARS = 200


def _names(models: list[str], most: int = 3) -> str:
    shown = [f"**{m}**" for m in models[:most]]
    return ", ".join(shown) + (f" and {len(models) - most} more" if len(models) > most else "")


def _best_line(found: Insights) -> str:
    names = _names([found.best_model, *found.tied_with_best])
    return f"{found.best_verdict.capitalize()} under the {found.scope}: {names} ([verdicts](#significance))."


def _front_line(found: Insights) -> str | None:
    for column in ("best_latency_p50_ms", "latency_p50_ms"):
        front = found.pareto.get(column)
        if front and len(front) > 1:
            first, last = front[0], front[-1]
            where = "the fastest runtime" if column.startswith("best") else "eager PyTorch"
            return (
                f"Batch-1 latency picks on {where} run from **{first['model']}** ({first['value']:.3g} ms, "
                f"{first['accuracy']:.2%}) to **{last['model']}** ({last['value']:.3g} ms, {last['accuracy']:.2%}) "
                "([answer](#answer))."
            )
    return None


def _level_line(found: Insights) -> str:
    if found.comparisons_of == "architectures":
        seeds = found.scope.split(", ")[2].split(" seed")[0] if found.scope else found.seeds_per_model
        return (
            f"{seeds} seeds per model: the tests compare architectures, over seeds and test images "
            "([verdicts](#significance))."
        )
    claims = found.seeds_for_an_architecture_claim
    needed = claims["seeds"].get("0.5") if claims else None
    tail = f"; an architecture claim of 0.5 pp takes {needed} seeds of each" if needed else ""
    return f"One seed per model: the tests compare these trained weights, not architectures{tail} ([verdicts](#significance))."


def _rounds_line(findings: Mapping) -> str | None:
    rounds = findings.get("seed_rounds")
    if not rounds:
        return None
    decided = sum(1 for r in rounds.values() if r["verdict"].startswith("decided"))
    seeds = sum(r["seeds"] for r in rounds.values())
    return (
        f"Seeds until decided: {seeds} seeds trained, {decided} of {len(rounds)} verdicts decided ([rounds](#rounds))."
    )


def _runtime_line(findings: Mapping) -> str | None:
    best = findings.get("best_runtime")
    if not best:
        return None
    counts: dict[str, int] = {}
    for entry in best.values():
        counts[entry["runtime"]] = counts.get(entry["runtime"], 0) + 1
    runtime, count = max(counts.items(), key=lambda kv: kv[1])
    return f"Fastest runtime at batch 1: **{runtime}** for {count} of {len(best)} models ([runtimes](#runtimes))."


def _engine_line(findings: Mapping) -> str | None:
    speedups = findings.get("engine_speedup")
    if not speedups:
        return None
    low, high = min(speedups.values()), max(speedups.values())
    return f"Our training loop runs {low:.2f}×–{high:.2f}× the notebook-style loop's images/s ([engine](#engine))."


def _classes_line(found: Insights, classes_word: str) -> str:
    return (
        f"Hardest {classes_word}: **{found.hardest_class}** ({found.hardest_class_accuracy:.2%} mean over the "
        f"models); easiest: **{found.easiest_class}** ({found.easiest_class_accuracy:.2%}) ([classes](#classes))."
    )


def _family_line(found: Insights) -> str | None:
    families = found.family_mean_accuracy
    if "cnn" not in families or "mlp" not in families:
        return None
    return f"CNN mean test accuracy {families['cnn']:.2%} against MLP {families['mlp']:.2%} ([summary](#summary))."


def linked_to(line: str, shown: set[str]) -> str:
    """``line`` without its links to sections the page does not show (a report without figures has no figure-only
    sections): a link leads somewhere or is not there."""
    return re.sub(r" \(\[[^\]]+\]\(#([\w-]+)\)\)", lambda m: m[0] if m[1] in shown else "", line)


def insight_lines(
    found: Insights | None, findings: Mapping = MappingProxyType({}), classes_word: str = "class", pairs: int = 0
) -> list[str]:
    """At most six one-sentence insights, most useful first, each linking to the table it summarises: from the
    report's ``found`` and the sections' ``findings`` (seed rounds, runtimes, engine)."""
    if found is None:
        return []
    lines = [
        _best_line(found), _front_line(found), _level_line(found) if pairs else None, _rounds_line(findings),
        _runtime_line(findings), _engine_line(findings), _classes_line(found, classes_word), _family_line(found),
    ]  # fmt: skip
    return [line for line in lines if line][:INSIGHTS]


def answer_lines(found: Insights | Mapping | None) -> list[str]:
    """The answer in a terminal's few lines: the most accurate model(s), then each cost's picks cheapest first
    (the page's answer table, one line per cost); ``found`` also as a report's ``insights`` (its JSON)."""
    found = found if isinstance(found, Insights) else Insights.from_json(found or {})
    if found is None:
        return []
    from ..tables.budgets import COSTS, cost_text

    best = [found.best_model, *found.tied_with_best]
    lines = [f"answer, under the {found.scope}:", f"  {found.best_verdict}: {', '.join(best)}"]
    for column, front in found.pareto.items():
        runtimes = list(dict.fromkeys(p["runtime"] for p in front if p.get("runtime")))
        each = len(runtimes) > 1  # one runtime for every pick: named once, in the cost
        steps = [
            f"{p['model']}{' on ' + p['runtime'] if each and p.get('runtime') else ''} "
            f"{cost_text(column, p['value']).replace(' ', NBSP)} {p['accuracy']:.2%}"
            for p in front
        ]
        what = f"{COSTS[column][0]} ({runtimes[0]})" if len(runtimes) == 1 else COSTS[column][0]
        lines += textwrap.wrap(f"{what}: " + " → ".join(steps), ANSWER_WIDTH, initial_indent="  ",
                               subsequent_indent="      ", break_on_hyphens=False)  # fmt: skip
    return lines
