"""Building a report: its content from the sections, rendered, and every file written (the one place that writes).

``write_content`` writes any ``ReportContent`` (the history's page too): its data files, ``summary.md``,
``index.html`` and its figures' PNG files, all staged in a temporary folder and then renamed into place, so that
a failed write leaves the previous report as it was.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..files import atomic_write_folder, clean_orphans
from ..results.runs import Run
from .page import render
from .page.content import ReportContent
from .sections.compose import build_content


@dataclass(frozen=True)
class Report:
    directory: Path
    files: list[Path]
    notes: list[str]
    insights: dict
    gate_failures: list[str] | None = None  # None: no gate was asked for


def write_content(
    content: ReportContent, directory: str | Path, self_contained: bool = False, extra: Mapping[str, bytes] = {}
) -> list[Path]:
    """Write ``content`` into ``directory``: its data files and ``extra``, ``summary.md``, ``index.html`` (with its
    figures inside when ``self_contained``) and the figures' PNG files; return the paths written."""
    directory = Path(directory)
    files = {**content.data_files, **extra}
    files["summary.md"] = render.markdown(content).encode()
    files["index.html"] = render.html_page(content, self_contained).encode()
    for figure in content.figures:
        files[figure.name] = figure.png
    files = {name: strict_json(data) if name.endswith(".json") else data for name, data in files.items()}
    # all staged first, then renamed into place: a failed write (a full disk) leaves the previous report whole
    clean_orphans(directory.parent)
    atomic_write_folder(directory, files)
    return [directory / name for name in files]


def strict_json(data: bytes) -> bytes:
    """A JSON file as JSON: a NaN or an infinity (which Python writes bare, and no other reader takes) as null."""
    try:
        json.loads(data, parse_constant=_refuse)
        return data
    except ValueError:  # a bare NaN or Infinity inside: write it again with null there
        return json.dumps(_finite(json.loads(data)), indent=2, allow_nan=False).encode()


def _refuse(text: str):
    raise ValueError(f"{text} is not JSON")


def _finite(value):
    """``value`` with every non-finite float as ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def build_report(
    runs: list[Run],
    directory: str | Path,
    baseline: Run | None = None,
    rules: list | None = None,
    self_contained: bool = False,
    figures: bool = True,
) -> Report:
    """Write the report of ``runs`` (and of the last run against ``baseline``, gated by ``rules``) into
    ``directory`` (no PNG files without ``figures``: tables and text only)."""
    content = build_content(runs, baseline, rules, draw=figures)
    written = write_content(content, directory, self_contained)
    gate = None if content.gate is None else list(content.gate)
    return Report(Path(directory), written, list(content.notes), content.insights, gate)
