"""Runs in, the report's content out: the tables computed once, every registered section run on them (in the
registry's order, the insights among them), their findings merged; nothing drawn here but by the sections,
nothing written."""

from __future__ import annotations

import json

from ...results.runs import Run
from .. import gate
from ..figures import basic
from ..page.content import ReportContent
from ..tables import compute, significance, verdicts
from ..tables import groups as group_tables
from . import summary

__all__ = ["SECTIONS", "build_content", "inputs_of"]
from .inputs import Inputs
from .registry import SECTIONS, run_sections


def inputs_of(runs: list[Run], baseline: Run | None = None, draw: bool = True) -> Inputs:
    """Every table the sections read, computed once."""
    items = compute.variants(runs)
    table = compute.summary_table(items)
    runtimes = group_tables.runtime_table(items)
    if not runtimes.empty:  # the fastest agreeing runtime's latency: a cost of its own in the decision view
        table = table.merge(group_tables.best_runtimes(runtimes), on="model", how="left")
    per_class = compute.per_class_table(items, runs[0].benches[0].record.classes)
    sig = significance.significance(items, list(table["model"]))
    found = verdicts.insights(table, per_class, items, sig, runs[0].profile)
    comparison = gate.compare_runs(baseline, runs[-1]) if baseline is not None else None
    return Inputs(tuple(runs), tuple(items), table, per_class, sig, found, summary.context(runs),
                  basic.palette(table), runtimes, comparison, baseline, draw)  # fmt: skip


def build_content(
    runs: list[Run], baseline: Run | None = None, rules: list | None = None, draw: bool = True
) -> ReportContent:
    """Every section of the report of ``runs`` (and of the last run against ``baseline``, gated by ``rules``)."""
    inputs = inputs_of(runs, baseline, draw)
    parts = [part for _, part in run_sections(inputs)]
    found = inputs.found.to_json() if inputs.found is not None else {}
    notes = summary.run_notes(list(runs), list(inputs.items))
    files: dict[str, bytes] = {}
    for part in parts:
        found.update(part.findings)
        files.update(part.files)
        notes.extend(part.notes)
    sections = [part.section for part in parts if part.section is not None]
    failures = None
    if baseline is not None and rules:
        failures = tuple(gate.gate(inputs.comparison, rules, baseline, runs[-1]))
    files = {
        **{k: v for k, v in files.items() if k != "comparison.csv"},
        "summary.csv": inputs.summary.to_csv(index=False).encode(),
        "per_class.csv": inputs.per_class.to_csv().encode(),
        "insights.json": json.dumps(found, indent=2).encode(),
        **({"comparison.csv": files["comparison.csv"]} if "comparison.csv" in files else {}),
    }
    shown = tuple(s for s in sections if s.has_text or s.figures)
    return ReportContent("mnist-models report", inputs.context, shown, tuple(notes), failures, found, files)
