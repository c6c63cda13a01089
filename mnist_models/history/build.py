"""The history, computed, drawn and written: series and their change points, the small multiples, the page
(the report's content types, renderer and writer), a summary a CI job can append to its job summary, and the
newest point's verdict (``--fail-on-change``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..report.build import write_content
from ..report.page.content import Figure, png
from ..report.page.render import markdown
from ..results.runs import Run
from .content import history_content, slug
from .detect import THRESHOLD, Change, accuracy_changes, newest_regression, time_changes
from .figures import panels
from .series import Series, build_series, to_rows

METRICS_DRAWN = (("time", "median time per round"), ("ab_ratio", "A/B slowdown (head/base)"),
                 ("accuracy", "test accuracy"))  # fmt: skip


@dataclass(frozen=True)
class History:
    directory: Path
    changes: list[tuple[Series, Change]]
    newest: list[tuple[Series, Change]]  # the newest points that open a regression step
    summary: str


def find_changes(series: list[Series], threshold: float) -> dict[str, list[Change]]:
    """Each series' change points: time steps (PELT, tested), accuracy steps (McNemar), and any change at all
    of the parameters or FLOPs (a change of the architecture)."""
    found: dict[str, list[Change]] = {}
    for s in series:
        if s.metric in ("time", "ab_ratio"):
            found[s.key] = time_changes(s, threshold)
        elif s.metric == "accuracy":
            found[s.key] = accuracy_changes(s)
        else:
            found[s.key] = [
                Change(i, s.points[i - 1].commit, s.points[i].commit, s.points[i].value / s.points[i - 1].value,
                       1, 1, 0.0, False)
                for i in range(1, len(s.points)) if s.points[i].value != s.points[i - 1].value
            ]  # fmt: skip
    return found


def draw_series(series: list[Series], found: dict[str, list[Change]]) -> tuple[Figure, ...]:
    """One figure per machine identity and metric: its series with more than one point, as small multiples."""
    drawn = []
    for identity in sorted({s.machine for s in series}):
        for metric, what in METRICS_DRAWN:
            chosen = [s for s in series if s.machine == identity and s.metric == metric and len(s.points) > 1]
            if chosen:
                figure = panels(chosen, found, f"{what}, run by run, on {identity}")
                caption = f"{what} on {identity}: change points marked with the commits on either side"
                drawn.append(Figure(f"history_{metric}_{slug(identity)}.png", caption, png(figure)))
    return tuple(drawn)


def build_history(
    runs: list[Run],
    directory: str | Path,
    threshold: float = THRESHOLD,
    self_contained: bool = False,
    draw: bool = True,
) -> History:
    """Write the history of ``runs`` into ``directory`` (``draw``: with its figures); return its change points
    and the newest point's."""
    series = build_series(runs)
    found = find_changes(series, threshold)
    pairs = [(s, c) for s in series for c in found.get(s.key, [])]
    newest = [(s, c) for s in series if (c := newest_regression(s, threshold)) is not None]
    figures = draw_series(series, found) if draw else ()
    content = history_content(runs, series, pairs, newest, threshold, figures)
    history_csv = pd.DataFrame(to_rows(series)).to_csv(index=False).encode()
    write_content(content, directory, self_contained, extra={"history.csv": history_csv})
    return History(Path(directory), pairs, newest, markdown(content))
