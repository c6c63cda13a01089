"""A report's content rendered through its templates: ``summary.md`` and ``index.html`` (strings only).

The templates live in ``templates/`` beside this module. The HTML page shows each figure from
its PNG file beside it, or, ``self_contained``, from a data URI inside the page: one file that a
CI artifact or an e-mail can carry (as pytest-html's self-contained report does).
"""

from __future__ import annotations

import base64
import html
from functools import cache
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from .content import Figure, ReportContent, Table

TEMPLATES = Path(__file__).with_name("templates")


def _bold(text: str) -> Markup:
    """Escape ``text``, then turn ``**x**`` into ``<b>x</b>``."""
    parts = html.escape(text).split("**")
    return Markup("".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts)))


def _sort_value(table: Table, index, column: str) -> float | None:
    keys = table.sort_keys
    if keys is None or column not in keys:
        return None
    value = keys.loc[index, column]
    return float(value) if isinstance(value, (int, float)) and not pd.isna(value) else None


@cache
def _environment(kind: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=kind == "html",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    env.filters["bold"] = _bold
    return env


def markdown(content: ReportContent) -> str:
    """``summary.md``: what fits a CI job summary (text and tables; figures are in the page)."""
    template = _environment("md").get_template("summary.md.j2")
    text = template.render(content=content, markdown_table=lambda t: t.frame.to_markdown(index=False))
    return text.rstrip("\n") + "\n"


def html_page(content: ReportContent, self_contained: bool = False) -> str:
    """``index.html``: the key summary sortable by clicking a header, every other column one click away;
    wide tables scroll inside their own box, so the page reads at 1400 px without scrolling sideways."""

    def figure_src(figure: Figure) -> str:
        if not self_contained:
            return figure.name
        return "data:image/png;base64," + base64.b64encode(figure.png).decode("ascii")

    template = _environment("html").get_template("index.html.j2")
    return template.render(
        content=content, self_contained=self_contained, figure_src=figure_src, sort_value=_sort_value
    )
