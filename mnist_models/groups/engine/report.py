"""The ``engine`` group's part of the report: our training loop against the notebook's (table and figure)."""

from __future__ import annotations

from ...report.figures import pairs
from ...report.page.content import Section, Table
from ...report.sections import tables
from ...report.sections.inputs import Drawing, Inputs, Part, draw
from ...report.sections.registry import register_section
from ...report.tables import groups as group_tables


@register_section("engine", order=80, figures=("engine",))
def engine(inputs: Inputs) -> Part | None:
    table = group_tables.engine_table(inputs.items)
    if not len(table):
        return None
    found = {"engine_speedup": {m: float(s) for m, s in zip(table["model"], table["speedup"], strict=True)}}
    figures, _ = draw(inputs, Drawing(
        "engine", "Engine: our training loop against the notebook-style loop (images/s)",
        lambda: pairs.engine_bars(table, inputs.colours),
    ))  # fmt: skip
    section = Section("engine", "Engine: our training loop vs the notebook's",
                      tables=(Table(tables.display_engine(table)),), figures=figures, detail=True)  # fmt: skip
    return Part(section, found)
