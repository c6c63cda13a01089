"""The history's figures: one panel per series, its change points marked; drawn from what it is handed."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure as MplFigure

from .content import between, step_text, ticks
from .detect import Change
from .series import Series


def panels(series: list[Series], found: dict[str, list[Change]], title: str) -> MplFigure:
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
            ax.fillbetween(x, low, high, alpha=0.2, color="tab:blue", lw=0)
            ax.axhline(1, color="black", lw=0.7)
        for change in found.get(s.key, []):
            colour = "#c0392b" if change.regression else "#27ae60"
            ax.axvline(change.index - 0.5, color=colour, lw=1.2, ls="--")
            ax.annotate(f"{between(s, change)}\n{step_text(s, change).split(' (')[0]}",
                        (change.index - 0.5, ax.get_ylim()[1]), fontsize=6.5, color=colour, ha="center", va="top")  # fmt: skip
        ax.set_title(f"{s.model} · {s.benchmark}", fontsize=8.5)
        ax.set_ylabel(f"{s.metric} ({unit})" if unit else s.metric, fontsize=8)
        ax.set_xticks(x, ticks(s), fontsize=6)
        ax.set_xlabel("run (commit under the first run of each)", fontsize=7)
        ax.grid(alpha=0.3)
    for ax in axes[len(series) :]:
        ax.set_visible(False)
    fig.suptitle(title)
    return fig
