"""The history page: series drawn as small multiples with their change points, the regressions newest first,
a summary a CI job can append to its job summary, and the newest point's verdict (``--fail-on-change``)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure as MplFigure

from ..files import atomic_write_bytes
from ..report import page
from ..report.content import Figure, ReportContent, Section, Table
from ..report.inputs import png
from ..results.runs import Run
from .detect import THRESHOLD, Change, accuracy_changes, newest_regression, time_changes
from .series import Series, build_series, run_label, to_rows


@dataclass(frozen=True)
class History:
    directory: Path
    changes: list[tuple[Series, Change]]
    newest: list[tuple[Series, Change]]  # the newest points that open a regression step
    summary: str


def _short(commit: str) -> str:
    return commit[:8]


def _between(series: Series, change: Change) -> str:
    """Where a step is: the commits on either side, or the runs (numbered from 1) when both are one commit."""
    if change.before != change.after:
        return f"{_short(change.before)}→{_short(change.after)}"
    return f"run {change.index}→{change.index + 1}"


def _ticks(series: Series) -> list[str]:
    """The runs' numbers, with the commit under each run that starts a new one."""
    labels, previous = [], None
    for k, point in enumerate(series.points, start=1):
        labels.append(f"{k}\n{_short(point.commit)}" if point.commit != previous else str(k))
        previous = point.commit
    return labels


def _step(series: Series, change: Change) -> str:
    if series.metric == "accuracy":
        return f"{change.ratio:+.2f} pp"
    return f"{change.ratio - 1:+.1%} ({change.low - 1:+.1%} to {change.high - 1:+.1%})"


def _changes_table(found: list[tuple[Series, Change]]) -> pd.DataFrame:
    rows = []
    for series, change in sorted(found, key=lambda sc: sc[0].points[sc[1].index].when, reverse=True):
        point = series.points[change.index]
        rows.append(
            {
                "when": point.when[:19],
                "between": _between(series, change).replace("→", " → "),
                "run": point.run,
                "machine": series.machine,
                "model": f"{series.model} (seed {series.seed})",
                "benchmark": series.benchmark,
                "metric": series.metric,
                "step": _step(series, change),
                "Holm p": f"{change.p_value:.2g}",
                "verdict": "REGRESSION" if change.regression else "improvement",
            }
        )
    return pd.DataFrame(rows)


def _panels(series: list[Series], found: dict[str, list[Change]], title: str) -> MplFigure:
    """One panel per series: its points over the runs, change points as red (slower) or green lines."""
    cols = min(3, len(series))
    rows = math.ceil(len(series) / cols)
    fig = MplFigure(figsize=(5.2 * cols, 3.2 * rows + 1.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, s in zip(axes, series, strict=False):
        x = np.arange(len(s.points))
        scale, unit = (1e3, "ms") if s.metric == "time" else (100, "%") if s.metric == "accuracy" else (1, "")
        y = s.values() * scale
        ax.plot(x, y, "o-", ms=3.5, lw=1, color="tab:blue")
        if s.metric == "ab_ratio":
            low = np.array([p.low or p.value for p in s.points]) * scale
            high = np.array([p.high or p.value for p in s.points]) * scale
            ax.fill_between(x, low, high, alpha=0.2, color="tab:blue", lw=0)
            ax.axhline(1, color="black", lw=0.7)
        for change in found.get(s.key, []):
            colour = "#c0392b" if change.regression else "#27ae60"
            ax.axvline(change.index - 0.5, color=colour, lw=1.2, ls="--")
            ax.annotate(f"{_between(s, change)}\n{_step(s, change).split(' (')[0]}",
                        (change.index - 0.5, ax.get_ylim()[1]), fontsize=6.5, color=colour, ha="center", va="top")  # fmt: skip
        ax.set_title(f"{s.model} · {s.benchmark}", fontsize=8.5)
        ax.set_ylabel(f"{s.metric} ({unit})" if unit else s.metric, fontsize=8)
        ax.set_xticks(x, _ticks(s), fontsize=6)
        ax.set_xlabel("run (commit under the first run of each)", fontsize=7)
        ax.grid(alpha=0.3)
    for ax in axes[len(series) :]:
        ax.set_visible(False)
    fig.suptitle(title)
    return fig


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def build_history(
    runs: list[Run],
    directory: str | Path,
    threshold: float = THRESHOLD,
    self_contained: bool = False,
    draw: bool = True,
) -> History:
    """Write the history of ``runs`` into ``directory`` (``draw``: with its figures); return its change points
    and the newest point's."""
    directory = Path(directory)
    series = build_series(runs)
    found: dict[str, list[Change]] = {}
    for s in series:
        if s.metric in ("time", "ab_ratio"):
            found[s.key] = time_changes(s, threshold)
        elif s.metric == "accuracy":
            found[s.key] = accuracy_changes(s)
        else:  # parameters and FLOPs: any change at all is a change of the architecture
            found[s.key] = [Change(i, s.points[i - 1].commit, s.points[i].commit, s.points[i].value / s.points[i - 1].value,
                                   1, 1, 0.0, False) for i in range(1, len(s.points)) if s.points[i].value != s.points[i - 1].value]  # fmt: skip
    pairs = [(s, c) for s in series for c in found.get(s.key, [])]
    newest = [(s, c) for s in series if (c := newest_regression(s, threshold)) is not None]
    regressions = [(s, c) for s, c in pairs if c.regression]
    machines = sorted({s.machine for s in series})
    commits = list(dict.fromkeys(p.commit for s in series for p in s.points))
    lines = [
        f"{len(runs)} runs of {len(commits)} commits on {len(machines)} machine identit{'y' if len(machines) == 1 else 'ies'} "
        f"({'; '.join(machines)}); {len(series)} series; times are compared within a machine identity only.",
        f"{len(regressions)} regression step(s) and {len(pairs) - len(regressions)} other change(s): time steps found by "
        f"PELT on the logs, each kept only with Welch's t-test (Holm across a series' steps) below 0.01 and beyond "
        f"{threshold:.0%}; accuracy steps by McNemar's test between consecutive runs.",
        (
            "The newest point opens a regression step in: "
            + "; ".join(f"**{s.model} · {s.benchmark}** ({_step(s, c)})" for s, c in newest)
            if newest
            else "The newest point opens no regression step."
        ),
    ]
    sections = [Section("summary", "History", lines=tuple(lines))]
    table = _changes_table(regressions)
    sections.append(Section("regressions", "Regressions, newest first", tables=(Table(table),) if len(table) else (),
                            lines=() if len(table) else ("None.",)))  # fmt: skip
    everything = _changes_table(pairs)
    if len(everything) > len(table):
        sections.append(
            Section("changes", "Every change point", tables=(Table(everything, caption="All changes", collapsed=True),))
        )
    drawn = []
    for identity in machines if draw else ():
        for metric, what in (
            ("time", "median time per round"),
            ("ab_ratio", "A/B slowdown (head/base)"),
            ("accuracy", "test accuracy"),
        ):
            chosen = [s for s in series if s.machine == identity and s.metric == metric and len(s.points) > 1]
            if chosen:
                name = f"history_{metric}_{_slug(identity)}.png"
                fig = _panels(chosen, found, f"{what}, run by run, on {identity}")
                drawn.append(
                    Figure(
                        name, f"{what} on {identity}: change points marked with the commits on either side", png(fig)
                    )
                )
    sections.append(Section("series", "Series", figures=tuple(drawn)))
    content = ReportContent("mnist-models history", f"{len(runs)} runs, oldest {run_label(runs[0])}, newest {run_label(runs[-1])}",
                            tuple(sections), gate=tuple(f"{s.model} · {s.benchmark}: {_step(s, c)}" for s, c in newest))  # fmt: skip
    files = {
        "history.csv": pd.DataFrame(to_rows(series)).to_csv(index=False).encode(),
        "changes.csv": everything.to_csv(index=False).encode(),
        "summary.md": page.markdown(content).encode(),
        "index.html": page.html_page(content, self_contained).encode(),
        **{f.name: f.png for f in drawn},
    }
    for name, data in files.items():
        atomic_write_bytes(directory / name, data)
    return History(directory, pairs, newest, files["summary.md"].decode())
