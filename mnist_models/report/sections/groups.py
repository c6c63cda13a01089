"""The report's sections of restored weights and of the run against a stored baseline (the groups' own
sections live in their folders, ``mnist_models.groups``)."""

from __future__ import annotations

from .. import gate
from ..figures import pairs
from ..page.content import Section, Table
from ..tables import compute
from ..tables import groups as group_tables
from . import tables
from .inputs import Drawing, Inputs, Part, draw
from .registry import register_section


@register_section("restore", order=90)
def restore(inputs: Inputs) -> Part | None:
    table = group_tables.restore_table(inputs.items)
    if not len(table):
        return None
    found = {
        "best_minus_last_pp": {
            f"{row.model} | seed {row.seed}": float(row.best_minus_last_pp) for row in table.itertuples()
        }
    }
    heading = "Restored best epoch vs last epoch (the original notebook reported the last)"
    section = Section("restore", heading, tables=(Table(tables.display_restore(table)),), detail=True)
    return Part(section, found, {"restore.csv": table.to_csv(index=False).encode()})


@register_section("machines", order=110)
def machines(inputs: Inputs) -> Part | None:
    """The two runs' machines side by side, when the report compares a run with a stored baseline."""
    baseline, current = inputs.baseline, inputs.runs[-1]
    if baseline is None:
        return None
    same = "on the same kind of machine" if gate.same_machine(baseline, current) else "on different machines"
    section = Section("machines", "Machines of the two runs (an unpaired comparison)",
                      tables=(Table(gate.machines_table(baseline, current)),))  # fmt: skip
    return Part(section, notes=(gate.UNPAIRED_NOTE.format(machines=same),))


@register_section("baseline", order=120, figures=("comparison",))
def against_baseline(inputs: Inputs) -> Part | None:
    """The run against the stored baseline, benchmark by benchmark."""
    baseline, current, comparison = inputs.baseline, inputs.runs[-1], inputs.comparison
    if baseline is None or comparison is None:
        return None
    figures, _ = draw(inputs, Drawing(
        "comparison", f"Delta: {current.name} against baseline {baseline.name}",
        lambda: pairs.comparison_bars(comparison, compute.short_name(baseline.name), compute.short_name(current.name)),
        supported=bool((comparison["status"] == "both").any()),
    ))  # fmt: skip
    shown = tables.display_comparison(comparison)
    section = Section("baseline", "Against the baseline", tables=(Table(shown),) if not shown.empty else (),
                      figures=figures)  # fmt: skip
    return Part(section, files={"comparison.csv": comparison.to_csv(index=False).encode()},
                notes=tuple(gate.membership_notes(comparison, baseline, current)))  # fmt: skip
