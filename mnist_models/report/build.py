"""Building a report: its content from the sections, rendered, and every file written (the one place that writes)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..files import atomic_write_bytes
from ..results.runs import Run
from . import page
from .sections import build_content


@dataclass(frozen=True)
class Report:
    directory: Path
    files: list[Path]
    notes: list[str]
    insights: dict
    gate_failures: list[str] | None = None  # None: no gate was asked for


def build_report(
    runs: list[Run],
    directory: str | Path,
    baseline: Run | None = None,
    rules: list | None = None,
    self_contained: bool = False,
    figures: bool = True,
) -> Report:
    """Write the report of ``runs`` (and of the last run against ``baseline``, gated by ``rules``) into
    ``directory``: the data files, ``summary.md``, ``index.html`` (with its figures inside when
    ``self_contained``) and the figures' PNG files (none without ``figures``: tables and text only)."""
    directory = Path(directory)
    content = build_content(runs, baseline, rules, draw=figures)
    files = dict(content.data_files)
    files["summary.md"] = page.markdown(content).encode()
    files["index.html"] = page.html_page(content, self_contained).encode()
    for figure in content.figures:
        files[figure.name] = figure.png
    written = []
    for name, data in files.items():
        atomic_write_bytes(directory / name, data)
        written.append(directory / name)
    gate = None if content.gate is None else list(content.gate)
    return Report(directory, written, list(content.notes), content.insights, gate)
