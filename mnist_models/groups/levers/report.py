"""The ``levers`` group's part of the report: each lever's rate over the unchanged work's (table and figure)."""

from __future__ import annotations

from ...report.figures import pairs
from ...report.page.content import Section, Table
from ...report.sections import tables
from ...report.sections.inputs import Drawing, Inputs, Part, draw
from ...report.sections.registry import register_section
from ...report.tables import groups as group_tables


@register_section("levers", order=100, figures=("levers",))
def levers(inputs: Inputs) -> Part | None:
    table = group_tables.lever_table(inputs.items)
    if not len(table):
        return None
    found = {
        "lever_ratio": {
            f"{m} | {lv}": float(r) for m, lv, r in zip(table["model"], table["lever"], table["ratio"], strict=True)
        }
    }
    figures, _ = draw(inputs, Drawing(
        "levers", "Levers: each engine setting changed on its own, images/s relative to the unchanged case",
        lambda: pairs.lever_heatmap(table),
    ))  # fmt: skip
    heading = "Levers: variant images/s ÷ unchanged images/s (below 1: the default pays)"
    section = Section("levers", heading, tables=(Table(tables.display_levers(table)),), figures=figures, detail=True)
    return Part(section, found, {"levers.csv": table.to_csv(index=False).encode()})
