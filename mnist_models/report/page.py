"""The report's HTML page: tables (the key columns sortable), figures embedded, notes and the gate."""

from __future__ import annotations

import html

import pandas as pd

from .render import KEY_COLUMNS, key_summary


def _sortable(table: pd.DataFrame, raw: pd.DataFrame) -> str:
    """``table`` as HTML whose headers sort it on click, by ``raw``'s numbers where a column has them."""
    head = "".join(f"<th title='sort'>{html.escape(str(c))}</th>" for c in table.columns)
    rows = []
    for (_, shown), (_, values) in zip(table.iterrows(), raw.iterrows(), strict=True):
        cells = []
        for column in table.columns:
            value = values.get(KEY_COLUMNS.get(column, ""), None)
            key = f" data-v='{float(value)}'" if isinstance(value, (int, float)) and not pd.isna(value) else ""
            cells.append(f"<td{key}>{html.escape(str(shown[column]))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table class='sortable'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


_SORT_JS = """
document.querySelectorAll('table.sortable th').forEach((th, col) => th.addEventListener('click', () => {
  const body = th.closest('table').tBodies[0], down = th.dataset.dir !== 'desc';
  th.dataset.dir = down ? 'desc' : 'asc';
  const key = r => { const c = r.cells[col]; return c.dataset.v !== undefined ? parseFloat(c.dataset.v) : c.textContent; };
  [...body.rows].sort((a, b) => { const x = key(a), y = key(b);
    const d = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return down ? -d : d; }).forEach(r => body.appendChild(r));
}));
"""

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222}
h1{margin-bottom:.2rem} .context{color:#666;margin-top:0}
table{border-collapse:collapse;font-size:.85rem;margin:1rem 0;width:100%}
.wide{overflow-x:auto;max-width:100%} .wide table{font-size:.78rem} th[title=sort]{cursor:pointer}
details{margin:.5rem 0 1.5rem} summary{cursor:pointer;color:#444}
th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:right} th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}
figure{margin:2rem 0} figure img{max-width:100%;border:1px solid #eee} figcaption{color:#555;font-size:.9rem}
.fail{color:#c0392b;font-weight:bold} .pass{color:#27ae60;font-weight:bold} nav a{margin-right:.8rem}
"""


def html_page(
    title: str,
    context: str,
    table: pd.DataFrame,
    lines: list[str],
    figures: list[tuple[str, str]],  # (PNG file name, caption)
    notes: list[str],
    comparison: pd.DataFrame | None = None,
    gate: list[str] | None = None,
    extra: list[tuple[str, pd.DataFrame]] = (),
    raw: pd.DataFrame | None = None,
) -> str:
    """``index.html``: the report's page; each figure is shown from its PNG file next to the page.

    The summary shows the key columns, sortable by clicking a header (``raw`` gives the
    numbers to sort by), and the rest in a collapsed table; wide tables scroll inside
    their own box, so the page reads at 1400 px without scrolling sideways.
    """

    def wide(frame: pd.DataFrame) -> str:
        return f"<div class='wide'>{frame.to_html(index=False, border=0)}</div>"

    def md_bold(text: str) -> str:
        escaped = html.escape(text)
        parts = escaped.split("**")
        return "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))

    body = [f"<h1>{html.escape(title)}</h1>", f"<p class='context'>{html.escape(context)}</p>"]
    body.append(
        "<nav>"
        + "".join(f"<a href='#{name}'>{html.escape(caption.split(':')[0])}</a>" for name, caption in figures)
        + "</nav>"
    )
    if gate is not None:
        body.append("<h2>Regression gate</h2>")
        body.append(
            "<ul>" + "".join(f"<li class='fail'>{html.escape(g)}</li>" for g in gate) + "</ul>"
            if gate
            else "<p class='pass'>Within thresholds.</p>"
        )
    key = key_summary(table)
    body += [
        "<h2>Summary</h2>",
        _sortable(key, raw if raw is not None else key),
        f"<details><summary>All {len(table.columns)} columns</summary>{wide(table)}</details>",
    ]
    if lines:
        body += ["<h2>Insights</h2>", "<ul>" + "".join(f"<li>{md_bold(line)}</li>" for line in lines) + "</ul>"]
    for heading, frame in extra:
        body += [f"<h2>{html.escape(heading)}</h2>", wide(frame)]
    if comparison is not None and not comparison.empty:
        body += ["<h2>Against the baseline</h2>", wide(comparison)]
    body.append("<h2>Figures</h2>")
    for name, caption in figures:
        body.append(
            f"<figure id='{name}'><img src='{name}' alt='{html.escape(caption)}' data-file='{name}'>"
            f"<figcaption>{html.escape(caption)} (<a href='{name}'>{name}</a>)</figcaption></figure>"
        )
    if notes:
        body += ["<h2>Notes</h2>", "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>"]
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body>{''.join(body)}<script>{_SORT_JS}</script></body></html>"
    )
