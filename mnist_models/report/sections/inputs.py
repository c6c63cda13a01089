"""What every report section reads (``Inputs``, computed once, frozen) and what each gives back (``Part``).

A section is a pure function ``Inputs -> Part | None``: it reads the tables computed once for
all, and returns its text, tables and figures (``part.section``), its findings for
``insights.json`` (``part.findings``), its data files (CSV) and its notes. No section sees
another's output, so their order on the page is the registry's, not an order of computation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from ...results.runs import Run
from ..page.content import Figure, Section, png
from ..tables import compute
from ..tables.significance import Significance
from ..tables.verdicts import Insights


@dataclass(frozen=True)
class Inputs:
    """What every section reads, computed once."""

    runs: tuple[Run, ...]
    items: tuple[compute.Variant, ...]
    summary: pd.DataFrame
    per_class: pd.DataFrame
    significance: Significance
    found: Insights | None  # the findings every section may read (verdicts.insights); None without a summary
    context: str
    colours: Mapping
    runtimes: pd.DataFrame  # tables.groups.runtime_table: empty with eager only
    comparison: pd.DataFrame | None = None  # against the baseline (tables of report.gate), when there is one
    baseline: Run | None = None
    draw: bool = True  # False: tables and text only (--no-figures)

    @property
    def classes(self) -> list[str]:
        return self.runs[0].benches[0].record.classes


@dataclass(frozen=True)
class Part:
    """What one section gives the report."""

    section: Section | None
    findings: Mapping = field(default_factory=dict)  # merged into insights.json
    files: Mapping[str, bytes] = field(default_factory=dict)  # data files beside the page (CSV)
    notes: tuple[str, ...] = ()  # what the runs lacked, said once at the end of the page


@dataclass(frozen=True)
class Drawing:
    """A figure a section may draw: its slug (its file is numbered from the registry), what it answers, whether
    the data supports it, how to draw it, and what to note when it cannot be drawn."""

    slug: str
    caption: str
    draw: Callable
    supported: bool = True
    missing: str = ""


def draw(inputs: Inputs, *drawings: Drawing) -> tuple[tuple[Figure, ...], tuple[str, ...]]:
    """Each drawing the data supports (none without figures), and a note for each it does not.

    The figures carry their slug as their name: ``registry.number_figures`` gives each its file name."""
    figures = tuple(Figure(d.slug, d.caption, png(d.draw())) for d in drawings if d.supported and inputs.draw)
    notes = tuple(d.missing for d in drawings if not d.supported and d.missing)
    return figures, notes
