"""The history's content: its change points as tables and sentences, its sections, from what was computed."""

from __future__ import annotations

import re

import pandas as pd

from ..report.page.content import Figure, ReportContent, Section, Table
from .detect import Change
from .series import Series, run_label


def short(commit: str) -> str:
    return commit[:8]


def between(series: Series, change: Change) -> str:
    """Where a step is: the commits on either side, or the runs (numbered from 1) when both are one commit."""
    if change.before != change.after:
        return f"{short(change.before)}→{short(change.after)}"
    return f"run {change.index}→{change.index + 1}"


def ticks(series: Series) -> list[str]:
    """The runs' numbers, with the commit under each run that starts a new one."""
    labels, previous = [], None
    for k, point in enumerate(series.points, start=1):
        labels.append(f"{k}\n{short(point.commit)}" if point.commit != previous else str(k))
        previous = point.commit
    return labels


def step_text(series: Series, change: Change) -> str:
    if series.metric == "accuracy":
        return f"{change.ratio:+.2f} pp"
    return f"{change.ratio - 1:+.1%} ({change.low - 1:+.1%} to {change.high - 1:+.1%})"


def changes_table(found: list[tuple[Series, Change]]) -> pd.DataFrame:
    rows = []
    for series, change in sorted(found, key=lambda sc: sc[0].points[sc[1].index].when, reverse=True):
        point = series.points[change.index]
        rows.append(
            {
                "when": point.when[:19],
                "between": between(series, change).replace("→", " → "),
                "run": point.run,
                "machine": series.machine,
                "model": f"{series.model} (seed {series.seed})",
                "benchmark": series.benchmark,
                "metric": series.metric,
                "step": step_text(series, change),
                "Holm p": f"{change.p_value:.2g}",
                "verdict": "REGRESSION" if change.regression else "improvement",
            }
        )
    return pd.DataFrame(rows)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def summary_lines(runs: int, series: list[Series], pairs: list[tuple[Series, Change]],
                  newest: list[tuple[Series, Change]], threshold: float) -> tuple[str, ...]:  # fmt: skip
    """What the history holds and found, in three sentences."""
    regressions = [(s, c) for s, c in pairs if c.regression]
    machines = sorted({s.machine for s in series})
    commits = list(dict.fromkeys(p.commit for s in series for p in s.points))
    return (
        f"{runs} runs of {len(commits)} commits on {len(machines)} machine identit{'y' if len(machines) == 1 else 'ies'} "
        f"({'; '.join(machines)}); {len(series)} series; times are compared within a machine identity only.",
        f"{len(regressions)} regression step(s) and {len(pairs) - len(regressions)} other change(s): time steps found "
        f"by PELT on the logs, each kept only with Welch's t-test (Holm across a series' steps) below 0.01 and beyond "
        f"{threshold:.0%}; accuracy steps by McNemar's test between consecutive runs.",
        (
            "The newest point opens a regression step in: "
            + "; ".join(f"**{s.model} · {s.benchmark}** ({step_text(s, c)})" for s, c in newest)
            if newest
            else "The newest point opens no regression step."
        ),
    )


def history_content(runs: list, series: list[Series], pairs: list[tuple[Series, Change]],
                    newest: list[tuple[Series, Change]], threshold: float,
                    figures: tuple[Figure, ...]) -> ReportContent:  # fmt: skip
    """The page: the summary, the regressions newest first, every change point, the series' figures."""
    regressions = [(s, c) for s, c in pairs if c.regression]
    sections = [Section("summary", "History", lines=summary_lines(len(runs), series, pairs, newest, threshold))]
    table = changes_table(regressions)
    sections.append(Section("regressions", "Regressions, newest first", tables=(Table(table),) if len(table) else (),
                            lines=() if len(table) else ("None.",)))  # fmt: skip
    everything = changes_table(pairs)
    if len(everything) > len(table):
        sections.append(
            Section("changes", "Every change point", tables=(Table(everything, caption="All changes", collapsed=True),))
        )
    sections.append(Section("series", "Series", figures=figures))
    context = f"{len(runs)} runs, oldest {run_label(runs[0])}, newest {run_label(runs[-1])}"
    gate = tuple(f"{s.model} · {s.benchmark}: {step_text(s, c)}" for s, c in newest)
    return ReportContent("mnist-models history", context, tuple(sections), gate=gate,
                         data_files={"changes.csv": everything.to_csv(index=False).encode()})  # fmt: skip
