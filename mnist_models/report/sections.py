"""The report's sections: each computes its tables, figures and text from the runs (no files written).

``build_content`` runs every section in turn; a section that has nothing to show (no engine
benchmarks, no baseline) is left out. Sections add their findings to the insights and their
data files (CSV) to the report, and say in notes what the runs lacked.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ..results.groups import GROUPS
from ..results.runs import Run
from . import compute, evidence_sections, figures, group_sections, group_tables, render, verdicts
from .content import ReportContent, Section, Table
from .inputs import Inputs, figures_for


def context(runs: list[Run]) -> str:
    first = runs[0]
    info = first.machine.get("mnist_models", {})
    device = info.get("device_name") or first.machine.get("cpu", {}).get("brand_raw") or ""
    text = (
        f"profile {', '.join(sorted({r.profile for r in runs}))} · device {', '.join(sorted({r.device for r in runs}))}"
    )
    if device:
        text += f" ({device})"
    several = "s" if len(runs) > 1 else ""
    return text + f" · dataset {first.dataset}\nrun{several} {', '.join(compute.short_name(r.name) for r in runs)}"


def summary(inputs: Inputs) -> Section:
    """The summary table (key columns, then all), and the accuracy and loss figures."""
    s, context = inputs.summary, inputs.context
    table = render.display_summary(s)
    key = render.key_summary(table)
    seed_points = pd.DataFrame(
        [{"model": v.label, "accuracy": r.outcome.test.accuracy} for v in inputs.items for r in v.seeds()]
    )
    plan = [
        ("01_accuracy.png", "Test accuracy with 95% intervals: which model is most accurate", True,
         lambda: figures.accuracy_bars(s, seed_points, inputs.colours, context), ""),
        ("02_loss.png", "Test loss: how confident and correct each model is", True,
         lambda: figures.loss_bars(s, inputs.colours, context), ""),
    ]  # fmt: skip
    tables = (
        Table(key, sort_keys=render.sort_keys(key, s)),
        Table(table, caption="All columns", collapsed=True),
    )
    return Section("summary", "Summary", tables=tables, figures=figures_for(inputs, plan))


def insights(inputs: Inputs) -> Section:
    word = "digit" if inputs.runs[0].dataset == "mnist" else "class"
    lines = render.insight_lines(inputs.found, word, len(inputs.significance.pairs))
    return Section("insights", "Insights", lines=tuple(lines))


def run_notes(runs: list[Run], items: list[compute.Variant]) -> list[str]:
    """What a reader must know about the runs themselves: foreign benchmarks, merges, injected slowdowns, gaps."""
    notes = [
        f"{r.name}: {r.skipped} benchmark(s) without an mnist-models record were ignored." for r in runs if r.skipped
    ]
    for run in runs:
        for source in run.machine.get("mnist_models", {}).get("merged_from", []):
            info = source.get("machine_info", {}).get("mnist_models", {})
            where = info.get("device_name") or info.get("device") or "an unnamed machine"
            notes.append(
                f"{compute.short_name(run.name)} merges {compute.short_name(source['run'])}: "
                f"{source['benchmarks']} benchmark(s) run on {where} ({info.get('device', '?')}, torch "
                f"{info.get('torch', '?')}) on {source.get('datetime', '?')}."
            )
    for run in runs:
        injected = sorted({b.record.slowdown for b in run.benches if b.record.slowdown})
        if injected:
            notes.append(
                f"{compute.short_name(run.name)} ran with an INJECTED slowdown (+"
                + ", +".join(f"{s:.0%}" for s in injected)
                + " extra work per timed call, --mnist-slowdown): its times are not the code's own."
            )
    for run in runs:
        info = run.machine.get("mnist_models", {})
        under = info.get("peak_underestimated")
        if under or compute.overshoot(run) > 1:
            achieved = under["achieved_flops"] if under else compute.overshoot(run) * info.get("matmul_peak_flops", 0)
            measured = under["measured_flops"] if under else info.get("matmul_peak_flops", 0)
            notes.append(
                f"{compute.short_name(run.name)}: a benchmark ran faster than the measured fp32 matmul peak "
                f"({achieved / 1e9:.0f} against {measured / 1e9:.0f} GFLOP/s): the peak was underestimated, so "
                "the efficiencies (% peak) are against that best achieved rate, never above 100%."
            )
    changed = {}
    for v in items:
        record = v.seeds()[0]
        today = compute._floor_today(record)
        if (
            record.floor is not None
            and not np.isnan(today["floor_today"])
            and abs(today["floor_today"] - record.floor) > 1e-9
        ):
            changed[v.label] = (record.floor, today["floor_today"], today["floor_reason"])
    by_reason: dict[str, list[str]] = {}  # one reason usually covers several models: say it once
    for m, (a, b, why) in changed.items():
        by_reason.setdefault(why, []).append(f"{m}: {a:.2%} then, {b:.2%} today")
    if by_reason:
        notes.append(
            "Floors changed since these runs were made (the run's floor decided its pass or fail; today's is "
            "shown beside it): "
            + "; ".join(", ".join(models) + (f" ({why})" if why else "") for why, models in by_reason.items())
            + "."
        )
    expected = [g.name for g in GROUPS.specs() if g.option is None]  # a group run only when asked: no news
    missing = [name for name in expected if not any(name in v.records for v in items)]
    if missing:
        notes.append(
            f"No {', '.join(missing)} cases in these runs; the columns and figures that need them are empty or left out."
        )
    return notes


def build_content(
    runs: list[Run], baseline: Run | None = None, rules: list | None = None, draw: bool = True
) -> ReportContent:
    """Every section of the report of ``runs`` (and of the last run against ``baseline``); ``draw``: with figures."""
    items = compute.variants(runs)
    table = compute.summary_table(items)
    runtimes = group_tables.runtime_table(items)
    if not runtimes.empty:  # the fastest agreeing runtime's latency: a cost of its own in the decision view
        table = table.merge(group_tables.best_runtimes(runtimes), on="model", how="left")
    per_class = compute.per_class_table(items, runs[0].benches[0].record.classes)
    sig = verdicts.significance(items, list(table["model"]))
    inputs = Inputs(runs, items, table, per_class, sig, context(runs), figures.palette(table), baseline,
                    list(rules or []))  # fmt: skip
    inputs.runtimes, inputs.draw = runtimes, draw
    inputs.found = verdicts.insights(table, per_class, items, sig, runs[0].profile)
    inputs.notes = run_notes(runs, items)
    head = [summary(inputs), None]  # the insights go second, once every section has added its findings
    evidence = evidence_sections
    figures_only = [evidence.significance(inputs), evidence.costs(inputs), evidence.time_to_target(inputs),
                    evidence.classes(inputs), evidence.learning(inputs)]  # fmt: skip
    groups = group_sections
    tail = [groups.runtimes(inputs), groups.engine(inputs), groups.restore(inputs), groups.levers(inputs)]
    machines, compared, failures = groups.against_baseline(inputs)
    head[1] = insights(inputs)
    sections = tuple(
        s for s in [*head, *figures_only, *tail, machines, compared] if s is not None and (s.has_text or s.figures)
    )
    files = {
        **{k: v for k, v in inputs.files.items() if k != "comparison.csv"},
        "summary.csv": table.to_csv(index=False).encode(),
        "per_class.csv": per_class.to_csv().encode(),
        "insights.json": json.dumps(inputs.found, indent=2).encode(),
    }
    if "comparison.csv" in inputs.files:
        files["comparison.csv"] = inputs.files["comparison.csv"]
    return ReportContent(
        "mnist-models report",
        inputs.context,
        sections,
        tuple(inputs.notes),
        None if failures is None else tuple(failures),
        inputs.found,
        files,
    )
