"""A report's content rendered through its templates: ``summary.md`` and ``index.html`` (strings only).

The templates live in ``templates/`` beside this module. The HTML page shows each figure from
its PNG file beside it, or, ``self_contained``, from a data URI inside the page: one file that a
CI artifact or an e-mail can carry (as pytest-html's self-contained report does).
"""

from __future__ import annotations

import base64
import html
import re
from functools import cache
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from .content import Figure, ReportContent, Table

TEMPLATES = Path(__file__).with_name("templates")


LINK = re.compile(r"\[([^\]]+)\]\((#[\w-]+|[\w][\w./-]*)\)")  # an anchor or a relative path: no scheme
NUMBER = re.compile(r"^[<>≤≥~+−-]?\s?\d")
WORDS = ("–", "n/a", "never", "exact", "one seed", "any")  # words a numeric column may hold where a number is not


def _bold(text: str) -> Markup:
    """Escape ``text``, then turn ``**x**`` into ``<b>x</b>`` and ``[x](target)`` into a link."""
    parts = html.escape(str(text), quote=False).split("**")
    joined = "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))
    return Markup(LINK.sub(lambda m: f"<a href='{html.escape(m[2])}'>{m[1]}</a>", joined))


def _cell(value) -> str:
    """A cell as shown: an empty one says so ("–") instead of leaving a blank a reader must interpret."""
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    return text if text.strip() else "–"


def _numeric_columns(table: Table) -> set[str]:
    """The columns whose every shown value is a number (right-aligned, never wrapped); text stays left."""
    out = set()
    for column in table.frame.columns:
        values = [_cell(v) for v in table.frame[column]]
        shown = [v for v in values if v not in WORDS]
        if shown and all(NUMBER.match(v) and ":" not in v for v in shown):  # "0: why" is text
            out.add(column)
    return out


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
    env.filters["cell"] = _cell
    env.globals["numeric_columns"] = _numeric_columns
    return env


def markdown(content: ReportContent) -> str:
    """``summary.md``: what fits a CI job summary (text and tables; figures are in the page)."""
    template = _environment("md").get_template("summary.md.j2")
    text = template.render(content=content, markdown_table=_markdown_table)
    return text.rstrip("\n") + "\n"


MARKDOWN_SPECIAL = re.compile(r"([|*\[\]<>`\\])")


def _markdown_cell(value) -> str:
    """A cell's text escaped for Markdown: a "|" in a model name must not split the row, nor "<b>" render."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", _cell(value))


def _markdown_table(table: Table) -> str:
    """A table in Markdown: numbers right-aligned, text left, an empty cell shown as "–", cells escaped (the
    headers keep their links to "How to read this")."""
    numeric = _numeric_columns(table)
    align = ["right" if c in numeric else "left" for c in table.frame.columns]
    frame = table.frame.map(_markdown_cell)
    frame.columns = [str(c).replace("|", "\\|") for c in frame.columns]
    return frame.to_markdown(index=False, colalign=align, disable_numparse=True)


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
