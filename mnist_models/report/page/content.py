"""What a report says, as data: sections of text, tables and figures, before any Markdown or HTML.

The report's sections (``report.sections``) compute a ``ReportContent``; ``report.page.render``
renders it through templates, to Markdown (``summary.md``) and to HTML (``index.html``);
``report.build`` writes the files. Nothing here draws or writes (``png`` turns a drawn figure into bytes).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Table:
    """A table for people: ``frame`` holds formatted cells; ``sort_keys`` the raw numbers a page sorts by."""

    frame: pd.DataFrame
    caption: str = ""
    sort_keys: pd.DataFrame | None = None  # same rows as ``frame``; a column per sortable displayed column
    collapsed: bool = False  # shown folded away ("All columns"), one click from the section's main table


@dataclass(frozen=True)
class Figure:
    """One drawn figure: its file name, what it answers, and its PNG bytes."""

    name: str
    caption: str
    png: bytes


def png(figure) -> bytes:
    """A matplotlib figure as PNG bytes, at the resolution every report's figures share."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


@dataclass(frozen=True)
class Section:
    """One part of the report: a heading, bullet lines of text (``**bold**`` allowed), tables and figures."""

    id: str
    heading: str
    lines: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    figures: tuple[Figure, ...] = ()
    detail: bool = False  # detail below the answer: shown folded away, one click from its heading

    @property
    def has_text(self) -> bool:
        """Whether it has something to say in Markdown (which shows no figures)."""
        return bool(self.lines or self.tables)


@dataclass(frozen=True)
class ReportContent:
    """Everything one report shows, and the data files beside it."""

    title: str
    context: str
    sections: tuple[Section, ...]
    notes: tuple[str, ...] = ()
    gate: tuple[str, ...] | None = None  # None: no gate was asked for; empty: it passed
    insights: dict = field(default_factory=dict)
    data_files: dict[str, bytes] = field(default_factory=dict)  # CSV and JSON beside the page

    @property
    def figures(self) -> list[Figure]:
        return [figure for section in self.sections for figure in section.figures]
