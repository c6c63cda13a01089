"""Figures of what accuracy costs: accuracy against a cost with its Pareto front, and time to target.

Like ``figures``: each function draws what it is handed and returns a matplotlib Figure.
Points are coloured by family (``figures.palette``), labels are moved apart (adjustText) so
that none overlaps another, and a bubble's size, where it means something, has a legend.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ...stats.pareto import pareto_front
from .basic import family_legend


def _labels(ax, xs, ys, names, front: np.ndarray, front_only: bool = False) -> None:
    """A label per point (or per point of the front), moved until none overlaps another or a point;
    the front's in bold."""
    from adjustText import adjust_text

    ax.margins(x=0.12, y=0.08)  # room inside the axes for labels at the edges
    texts = [
        ax.text(x, y, name, fontsize=7, fontweight="bold" if on_front else "normal")
        for x, y, name, on_front in zip(xs, ys, names, front, strict=True)
        if on_front or not front_only
    ]
    adjust_text(texts, x=list(xs), y=list(ys), ax=ax, expand=(1.15, 1.5),
                arrowprops={"arrowstyle": "-", "color": "grey", "lw": 0.5})  # fmt: skip


def _front(ax, x: np.ndarray, y: np.ndarray, higher_is_better: bool) -> np.ndarray:
    mask = pareto_front(-x if higher_is_better else x, y)
    order = np.argsort(x[mask])
    ax.plot(x[mask][order], y[mask][order], "--", color="black", lw=1, alpha=0.6, label="Pareto front")
    return mask


def accuracy_against(
    ax, table: pd.DataFrame, column: str, colours: dict, higher_is_better=False, sizes=60, front_only=False
) -> None:
    """Test accuracy against ``column`` (log axis) on ``ax``: points, labels, the Pareto front."""
    x = table[column].to_numpy(float)
    y = (table["test_accuracy"] * 100).to_numpy(float)
    ax.scatter(x, y, s=sizes, c=[colours[m] for m in table["model"]], alpha=0.85, edgecolor="black", lw=0.5, zorder=3)
    front = _front(ax, x, y, higher_is_better)
    ax.set_xscale("log")
    ax.grid(alpha=0.3)
    _labels(ax, x, y, list(table["model"]), front, front_only)


def complexity_scatter(summary: pd.DataFrame, colours: dict, context: str) -> Figure:
    """4. Parameters (log) against accuracy; bubble area = training time, with a size legend."""
    fig = Figure(figsize=(10, 6.5), layout="constrained")
    ax = fig.subplots()
    times = summary["train_time_s"].fillna(
        summary["train_time_s"].median() if summary["train_time_s"].notna().any() else 1
    )
    top = max(float(times.max()), 1e-9)

    def area(seconds):
        return 30 + 700 * np.asarray(seconds, float) / top

    accuracy_against(ax, summary, "params", colours, sizes=area(times))
    ax.set_xlabel("parameters (log scale)")
    ax.set_ylabel("test accuracy (%)")
    marks = [t for t in (1, 10, 100, 1000) if t <= top * 1.5] or [round(top, 1)]
    handles = [Line2D([], [], ls="", marker="o", color="lightgrey", mec="black", ms=math.sqrt(area(t))) for t in marks]
    size_legend = ax.legend(handles, [f"{t:g} s" for t in marks], title="training time", loc="lower right",
                            labelspacing=1.4, borderpad=1.0, frameon=True)  # fmt: skip
    ax.add_artist(size_legend)
    family_legend(ax, summary, colours, loc="upper left")
    ax.set_title(f"Complexity vs accuracy (bubble area = training time; bold: the Pareto front)\n{context}")
    return fig


def pareto_panels(summary: pd.DataFrame, colours: dict, costs: dict, context: str) -> Figure:
    """6. Accuracy against every cost the runs measured, one panel each, the front dashed and its models bold."""
    shown = [(c, spec) for c, spec in costs.items() if c in summary and summary[c].notna().any()]
    cols = min(3, len(shown))
    rows = math.ceil(len(shown) / cols)
    fig = Figure(figsize=(5.2 * cols, 4.4 * rows + 0.9), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, (column, (what, higher, *_)) in zip(axes, shown, strict=False):
        table = summary.dropna(subset=[column])
        accuracy_against(ax, table, column, colours, higher_is_better=higher, front_only=True)
        ax.set_xlabel(f"{what} (log{', more is better' if higher else ''})")
        ax.set_ylabel("test accuracy (%)")
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    family_legend(axes[0], summary, colours, loc="lower right")
    fig.suptitle(f"What accuracy costs: the Pareto front of accuracy against each cost (its models named)\n{context}")
    return fig


def accuracy_vs_latency(summary: pd.DataFrame, colours: dict, context: str) -> Figure:
    """8. Test accuracy against batch-1 latency (p50) in eager PyTorch, the Pareto front dashed, its models
    bold; where other runtimes ran, each model's fastest agreeing runtime beside it (open marker, arrow)
    with its own front (dotted)."""
    fig = Figure(figsize=(10, 6.5), layout="constrained")
    ax = fig.subplots()
    table = summary.dropna(subset=["latency_p50_ms"])
    accuracy_against(ax, table, "latency_p50_ms", colours)
    title = "Accuracy vs inference latency: the models worth deploying (bold: the Pareto front)"
    if "best_latency_p50_ms" in table and table["best_latency_p50_ms"].notna().any():
        best = table.dropna(subset=["best_latency_p50_ms"])
        x, y = best["best_latency_p50_ms"].to_numpy(float), (best["test_accuracy"] * 100).to_numpy(float)
        ax.scatter(x, y, s=60, facecolor="none", edgecolor=[colours[m] for m in best["model"]], lw=1.4, zorder=3,
                   label="fastest agreeing runtime")  # fmt: skip
        for start, end, acc in zip(best["latency_p50_ms"], x, y, strict=True):
            ax.annotate("", (end, acc), (start, acc), arrowprops={"arrowstyle": "->", "color": "grey", "lw": 0.7})
        front = pareto_front(x, y)
        order = np.argsort(x[front])
        ax.plot(x[front][order], y[front][order], ":", color="black", lw=1, label="front, fastest runtimes")
        ax.legend(loc="upper left")
        title = "Accuracy vs inference latency: eager (filled) and each model's fastest runtime (open)"
    ax.set_xlabel("batch-1 latency p50 (ms, log)")
    ax.set_ylabel("test accuracy (%)")
    family_legend(ax, summary, colours, loc="lower right")
    ax.set_title(f"{title}\n{context}")
    return fig


def time_to_target(ttt: pd.DataFrame, by_target: pd.DataFrame, colours: dict, context: str) -> Figure:
    """13. Left: each model's training time to each validation-accuracy target (misses at "never").
    Right: AlgoPerf's performance profile per target: the share of models within tau x the fastest."""
    fig = Figure(figsize=(13, 0.38 * len(ttt) + 2.6), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[3, 2])
    order = ttt.replace(math.inf, np.nan).rank(axis=0).mean(axis=1).fillna(len(ttt) + 1).sort_values().index
    finite = ttt.to_numpy()[np.isfinite(ttt.to_numpy())]
    never = float(finite.max()) * 3 if finite.size else 1.0
    markers = dict(zip(ttt.columns, "osD^v", strict=False))
    offsets = dict(zip(ttt.columns, np.linspace(-0.22, 0.22, len(ttt.columns)), strict=True))
    for y, model in enumerate(order):
        for k, target in enumerate(ttt.columns):
            t = ttt.loc[model, target]
            if math.isfinite(t):
                left.scatter(t, y + offsets[target], marker=markers[target], s=45, zorder=3, color=colours[model],
                             edgecolor="black", lw=0.6)  # fmt: skip
            else:  # never: an open marker beyond the axis's last time, one beside the other
                left.scatter(never * 1.25**k, y + offsets[target], marker=markers[target], s=45, zorder=3,
                             facecolor="none", edgecolor=colours[model], lw=1.2)  # fmt: skip
    left.set_yticks(range(len(order)), order, fontsize=8)
    left.invert_yaxis()
    left.set_xscale("log")
    left.axvline(never / 1.7, color="grey", lw=0.8, ls=":")
    left.text(never * 1.25, -0.9, "never", ha="center", fontsize=8, color="grey")
    left.set_xlabel("training seconds until validation accuracy first reached the target (median over seeds, log)")
    left.grid(axis="x", alpha=0.3)
    handles = [Line2D([], [], ls="", marker=markers[t], color="grey", mec="black") for t in ttt.columns]
    left.legend(
        handles, [f"{float(t):.0%}" for t in ttt.columns], title="target", loc="upper center", fontsize=8, ncols=3
    )
    for target in by_target.columns:
        right.step(
            by_target.index, by_target[target], where="post", lw=1.6, label=f"{float(target):.0%} validation accuracy"
        )
    right.set_xscale("log")
    right.set_xlabel("τ: time ÷ the fastest model's time to the target (log)")
    right.set_ylabel("share of the models within τ of the fastest")
    right.set_ylim(-0.03, 1.03)
    right.grid(alpha=0.3)
    right.legend(loc="lower right")
    fig.suptitle(f"Time to target (AlgoPerf-style; a model that never reached a target counts as never)\n{context}")
    return fig
