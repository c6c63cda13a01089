"""What every report section reads, computed once, and what sections add as they go; drawing helpers."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from ..results.runs import Run
from . import compute, verdicts
from .content import Figure


@dataclass
class Inputs:
    """What every section reads, computed once, and what they add as they go."""

    runs: list[Run]
    items: list[compute.Variant]
    summary: pd.DataFrame
    per_class: pd.DataFrame
    significance: verdicts.Significance
    context: str
    colours: dict
    baseline: Run | None = None
    rules: list = field(default_factory=list)
    found: dict = field(default_factory=dict)  # insights.json
    files: dict[str, bytes] = field(default_factory=dict)  # data files beside the page
    notes: list[str] = field(default_factory=list)
    runtimes: pd.DataFrame = field(default_factory=pd.DataFrame)  # group_tables.runtime_table: empty with eager only
    draw: bool = True  # False: tables and text only (--no-figures)

    @property
    def classes(self) -> list[str]:
        return self.runs[0].benches[0].record.classes


def png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def figures_for(inputs: Inputs, plan: list[tuple[str, str, bool, Callable, str]]) -> tuple[Figure, ...]:
    """Draw each (name, caption, supported, draw, note) the data supports; note what it does not.
    Nothing is drawn when the report was asked for without figures."""
    out = []
    for name, caption, supported, draw, missing in plan:
        if supported and inputs.draw:
            out.append(Figure(name, caption, png(draw())))
        elif not supported and missing:
            inputs.notes.append(missing)
    return tuple(out)


def figure(inputs: Inputs, name: str, caption: str, draw: Callable) -> tuple[Figure, ...]:
    """One figure the data supports, drawn (or none, without figures)."""
    return figures_for(inputs, [(name, caption, True, draw, "")])
