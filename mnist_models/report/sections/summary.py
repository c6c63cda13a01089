"""The report's head: its context line, the summary section, the insights drawn from every section's findings,
and the notes on the runs themselves."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from ...data.registry import class_word
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
    """The page's one line of facts: profile, dataset, the machine each run ran on with its peaks (a time is only
    evidence beside the machine it was measured on), and the runs' short names."""
    first = runs[0]
    machines = list(dict.fromkeys(machine.header(r.machine) for r in runs))
    several = "s" if len(runs) > 1 else ""
    return " · ".join([
        f"{', '.join(sorted({r.profile for r in runs}))} profile", first.dataset, *machines,
        f"run{several} {', '.join(compute.short_name(r.name) for r in runs)}",
    ])  # fmt: skip


@register_section("summary", order=10, figures=("accuracy", "loss"))
def summary(inputs: Inputs) -> Part:
    """The summary table (key columns, then all), and the accuracy and loss figures."""
    s = inputs.summary
    table = text.display_summary(s)
    key = text.key_summary(table)
    seed_points = pd.DataFrame(
        [{"model": v.label, "accuracy": r.outcome.test.accuracy} for v in inputs.items for r in v.seeds()]
    )
    figures, _ = draw(
        inputs,
        Drawing("accuracy", "Test accuracy with 95% intervals: which model is most accurate",
                lambda: basic.accuracy_bars(s, seed_points, inputs.colours)),
        Drawing("loss", "Test loss: how confident and correct each model is",
                lambda: basic.loss_bars(s, inputs.colours)),
    )  # fmt: skip
    tables = (Table(key, sort_keys=text.sort_keys(key, s)), Table(table, caption="All columns", collapsed=True))
    lines = tuple(line for run in inputs.runs for line in _peak_lines(run))
    return Part(Section("summary", "Summary", lines=lines, tables=tables, figures=figures))


def insights(found: Mapping, inputs: Inputs, shown: set[str]) -> Section:
    """Every section's findings, said as sentences, each linking to the ``shown`` section it summarises."""
    word = class_word(inputs.runs[0].dataset)  # the dataset's own word for a class ("digit", "garment")
    lines = text.insight_lines(inputs.found, found, word, len(inputs.significance.pairs))
    return Section("insights", "Insights", lines=tuple(text.linked_to(line, shown) for line in lines))


# the insights say what every section found: after the answer and how to read it, before the detail
@register_section("insights", order=5, findings=True)
def insights_part(inputs: Inputs, found: Mapping, shown: set[str]) -> Part:
    """The insights as a section of the registry, built after the others from their findings."""
    return Part(insights(found, inputs, shown))


def run_notes(runs: list[Run], items: list[compute.Variant]) -> list[str]:
    """What a reader must know about the runs themselves: foreign benchmarks, merges, injected slowdowns, peaks,
    floors changed since, groups missing."""
    notes = [
        f"{r.name}: {r.skipped} benchmark(s) without an mnist-models record were ignored." for r in runs if r.skipped
    ]
    for run in runs:
        notes += _merge_notes(run) + _slowdown_notes(run)
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


def _peak_lines(run: Run) -> list[str]:
    """Beside the "% peak" columns: per precision, the benchmarks that ran above its measured matmul peak (that
    precision's probe fell short; the other benchmarks' efficiencies stand)."""
    over: dict[str, list[tuple[str, str, float]]] = {}
    for model, group, precision, fraction in compute.above_peak(run):
        over.setdefault(precision, []).append((model, group, fraction))
    lines = []
    for precision, benches in sorted(over.items()):
        top = max(f for *_, f in benches)
        groups = ", ".join(sorted({g for _, g, _ in benches}))
        models = sorted({m for m, *_ in benches})
        who = ", ".join(models) if len(models) <= 3 else f"{len(models)} models"
        lines.append(
            f"% peak: {len(benches)} {precision} benchmark(s) ({groups}; {who}) ran at up to {top:.0%} of the "
            f"measured matmul peak of their precision: its probe fell short of the true ceiling by at least "
            f"{top - 1:.0%}."
        )
    return lines


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
