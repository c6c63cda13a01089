"""The report's head: its context line, the summary section, the insights drawn from every section's findings,
and the notes on the runs themselves."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping

import pandas as pd

from ...results import machine
from ...results.groups import GROUPS
from ...results.runs import Run
from ..figures import basic
from ..page.content import Section, Table
from ..tables import compute
from . import text
from .inputs import Drawing, Inputs, Part, draw
from .registry import register_section


def context(runs: list[Run]) -> str:
    """The page's head: profile, dataset and the runs, and the machine each ran on with its peaks (a time is
    only evidence beside the machine it was measured on)."""
    first = runs[0]
    line = f"profile {', '.join(sorted({r.profile for r in runs}))} · dataset {first.dataset}"
    machines = list(dict.fromkeys(machine.header(r.machine) for r in runs))
    several = "s" if len(runs) > 1 else ""
    measured = [  # one fact a line, short enough for a figure's title
        line for m in machines for part in f"measured on {m}".split("; ") for line in textwrap.wrap(part, 64)
    ]
    return "\n".join([line, *measured, f"run{several} {', '.join(compute.short_name(r.name) for r in runs)}"])


@register_section("summary", order=10, figures=("accuracy", "loss"))
def summary(inputs: Inputs) -> Part:
    """The summary table (key columns, then all), and the accuracy and loss figures."""
    s, context_line = inputs.summary, inputs.context
    table = text.display_summary(s)
    key = text.key_summary(table)
    seed_points = pd.DataFrame(
        [{"model": v.label, "accuracy": r.outcome.test.accuracy} for v in inputs.items for r in v.seeds()]
    )
    figures, _ = draw(
        inputs,
        Drawing("accuracy", "Test accuracy with 95% intervals: which model is most accurate",
                lambda: basic.accuracy_bars(s, seed_points, inputs.colours, context_line)),
        Drawing("loss", "Test loss: how confident and correct each model is",
                lambda: basic.loss_bars(s, inputs.colours, context_line)),
    )  # fmt: skip
    tables = (Table(key, sort_keys=text.sort_keys(key, s)), Table(table, caption="All columns", collapsed=True))
    return Part(Section("summary", "Summary", tables=tables, figures=figures))


def insights(found: Mapping, inputs: Inputs) -> Section:
    """Every section's findings, said as sentences: the page's second section."""
    word = "digit" if inputs.runs[0].dataset == "mnist" else "class"
    return Section("insights", "Insights", lines=tuple(text.insight_lines(found, word, len(inputs.significance.pairs))))


def run_notes(runs: list[Run], items: list[compute.Variant]) -> list[str]:
    """What a reader must know about the runs themselves: foreign benchmarks, merges, injected slowdowns, peaks,
    floors changed since, groups missing."""
    notes = [
        f"{r.name}: {r.skipped} benchmark(s) without an mnist-models record were ignored." for r in runs if r.skipped
    ]
    for run in runs:
        notes += _merge_notes(run) + _slowdown_notes(run) + _peak_notes(run)
    notes += _floor_notes(items)
    expected = [g.name for g in GROUPS.specs() if g.option is None]  # a group run only when asked: no news
    missing = [name for name in expected if not any(name in v.records for v in items)]
    if missing:
        notes.append(
            f"No {', '.join(missing)} cases in these runs; the columns and figures that need them are empty or left out."
        )
    return notes


def _merge_notes(run: Run) -> list[str]:
    notes = []
    for source in run.machine.get("mnist_models", {}).get("merged_from", []):
        info = source.get("machine_info", {}).get("mnist_models", {})
        where = info.get("device_name") or info.get("device") or "an unnamed machine"
        notes.append(
            f"{compute.short_name(run.name)} merges {compute.short_name(source['run'])}: "
            f"{source['benchmarks']} benchmark(s) run on {where} ({info.get('device', '?')}, torch "
            f"{info.get('torch', '?')}) on {source.get('datetime', '?')}."
        )
    return notes


def _slowdown_notes(run: Run) -> list[str]:
    injected = sorted({b.record.slowdown for b in run.benches if b.record.slowdown})
    if not injected:
        return []
    return [
        f"{compute.short_name(run.name)} ran with an INJECTED slowdown (+"
        + ", +".join(f"{s:.0%}" for s in injected)
        + " extra work per timed call, --mnist-slowdown): its times are not the code's own."
    ]


def _peak_notes(run: Run) -> list[str]:
    top = compute.exceeded(run)
    if top <= 1:
        return []
    return [
        f"{compute.short_name(run.name)}: a benchmark ran at {top:.0%} of the measured matmul peak of its precision: "
        f"the session's probes fell short of the true ceiling by at least {top - 1:.0%}, so efficiencies (% peak) "
        "near or above 100% are against an underestimated peak."
    ]


def _floor_notes(items: list[compute.Variant]) -> list[str]:
    by_reason: dict[str, list[str]] = {}  # one reason usually covers several models: say it once
    for v in items:
        record = v.seeds()[0]
        today = compute.floor_today(record)
        if record.floor is None or math.isnan(today["floor_today"]) or abs(today["floor_today"] - record.floor) <= 1e-9:
            continue
        entry = f"{v.label}: {record.floor:.2%} then, {today['floor_today']:.2%} today"
        by_reason.setdefault(today["floor_reason"], []).append(entry)
    if not by_reason:
        return []
    return [
        "Floors changed since these runs were made (the run's floor decided its pass or fail; today's is shown "
        "beside it): "
        + "; ".join(", ".join(models) + (f" ({why})" if why else "") for why, models in by_reason.items())
        + "."
    ]
