"""Figures of what accuracy costs: accuracy against a cost with its Pareto front, and time to target.

Like ``figures``: each function draws what it is handed and returns a matplotlib Figure.
Points are coloured by family (``figures.palette``), labels are moved apart (adjustText) so
that none overlaps another, a marker or a legend (the legends sit outside the axes), and a
bubble's size, where it means something, has a legend.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from ...stats.pareto import pareto_front
from .basic import family_handles, family_legend, ratio_axis

# the unit of each cost of ``tables.budgets.COSTS``, for its axis (the table's own formats say it per value)
UNITS = {
    "latency_p50_ms": "ms",
    "best_latency_p50_ms": "ms",
    "throughput_img_s": "images/s",
    "train_time_s": "s",
    "params": "count",
    "flops_inference": "count",
}
OUTSIDE_RIGHT = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0)}  # a legend beside the axes, at its top
OUTSIDE_RIGHT_LOW = {"loc": "lower left", "bbox_to_anchor": (1.01, 0.0)}  # and one at its bottom


def _labels(ax, xs, ys, names, bold: np.ndarray) -> None:
    """Name the points on ``ax`` (bold: the front's), moved by adjustText until no name overlaps another name or
    any marker of the axes. Call it last: the names are placed for the axes' final size."""
    from adjustText import adjust_text, get_bboxes_pathcollection

    # out of the layout: a name at the edge must not shrink the axes after it was placed
    texts = [
        ax.text(x, y, name, fontsize=7, fontweight="bold" if b else "normal", in_layout=False)
        for x, y, name, b in zip(xs, ys, names, bold, strict=True)
    ]
    if not texts:
        return
    ax.figure.draw_without_rendering()  # the layout, final: the markers' extents are measured on it
    markers = [
        box for points in ax.collections if isinstance(points, PathCollection)
        for box in get_bboxes_pathcollection(points, ax)
    ]  # fmt: skip
    # markers push harder than the names are pulled home, so that a name in a cluster gets out of it; a count of
    # iterations, not a time, so that the figure is the same on every machine
    adjust_text(texts, x=list(xs), y=list(ys), objects=markers, ax=ax, expand=(1.05, 1.2), force_static=(0.6, 1.0),
                force_pull=(0.001, 0.001), force_explode=(0.3, 1.0), pull_threshold=30, iter_lim=1500,
                arrowprops={"arrowstyle": "-", "color": "grey", "lw": 0.5})  # fmt: skip


def _front(ax, x: np.ndarray, y: np.ndarray, higher_is_better: bool) -> np.ndarray:
    mask = pareto_front(-x if higher_is_better else x, y)
    order = np.argsort(x[mask])
    ax.plot(
        x[mask][order], y[mask][order], "--", color="black", lw=1, alpha=0.6, label="Pareto front (its models named)"
    )
    return mask


def accuracy_against(ax, table: pd.DataFrame, column: str, colours: dict, higher_is_better=False, sizes=60):
    """Test accuracy against ``column`` (log axis) on ``ax``: the points and the Pareto front; returns the
    points (x, y) and the front's mask, for ``_labels`` once the figure is complete."""
    x = table[column].to_numpy(float)
    y = (table["test_accuracy"] * 100).to_numpy(float)
    ax.scatter(x, y, s=sizes, c=[colours[m] for m in table["model"]], alpha=0.85, edgecolor="black", lw=0.5, zorder=3)
    front = _front(ax, x, y, higher_is_better)
    ax.set_xscale("log")
    ax.grid(alpha=0.3)
    ax.margins(x=0.12, y=0.08)  # room inside the axes for names at the edges
    ax.set_ylabel("test accuracy (%)")
    return x, y, front


def cost_label(column: str, what: str, higher_is_better: bool = False) -> str:
    """A cost's axis label, with its unit: "training time (s, log scale)"."""
    from ..tables.budgets import cost_unit

    unit = UNITS.get(column) or cost_unit(column)
    unit = f"{unit}, " if unit else ""
    return f"{what} ({unit}log scale{', more is better' if higher_is_better else ''})"


def complexity_scatter(summary: pd.DataFrame, colours: dict) -> Figure:
    """4. Parameters (log) against accuracy; bubble area = training time, with a size legend."""
    fig = Figure(figsize=(11, 6.5), layout="constrained")
    ax = fig.subplots()
    times = summary["train_time_s"].fillna(
        summary["train_time_s"].median() if summary["train_time_s"].notna().any() else 1
    )
    top = max(float(times.max()), 1e-9)

    def area(seconds):
        return 30 + 700 * np.asarray(seconds, float) / top

    x, y, front = accuracy_against(ax, summary, "params", colours, sizes=area(times))
    ax.set_xlabel("parameters (count, log scale)")
    marks = [t for t in (1, 10, 100, 1000) if t <= top * 1.5] or [round(top, 1)]
    handles = [Line2D([], [], ls="", marker="o", color="lightgrey", mec="black", ms=math.sqrt(area(t))) for t in marks]
    ax.legend(handles, [f"{t:g} s" for t in marks], title="training time", labelspacing=1.4, borderpad=1.0,
              **OUTSIDE_RIGHT_LOW)  # fmt: skip
    family_legend(ax, summary, colours, **OUTSIDE_RIGHT)
    ax.set_title("What do the extra parameters buy? (bubble area: training time; bold: the Pareto front)")
    _labels(ax, x, y, list(summary["model"]), front)
    return fig


def pareto_panels(summary: pd.DataFrame, colours: dict, costs: dict) -> Figure:
    """6. Accuracy against every cost the runs measured, one panel each, the front dashed and its models named."""
    shown = [(c, spec) for c, spec in costs.items() if c in summary and summary[c].notna().any()]
    cols = min(3, len(shown))
    rows = math.ceil(len(shown) / cols)
    fig = Figure(figsize=(5.2 * cols, 4.4 * rows + 1.0), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    named = []
    for ax, (column, (what, higher, *_)) in zip(axes, shown, strict=False):
        table = summary.dropna(subset=[column])
        x, y, front = accuracy_against(ax, table, column, colours, higher_is_better=higher)
        ax.set_xlabel(cost_label(column, what, higher))
        named.append((ax, x[front], y[front], list(table["model"][front])))
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    fig.legend(*family_handles(summary, colours), title="family", loc="outside lower center", ncols=4)
    fig.suptitle("What does accuracy cost? Accuracy against each cost, its Pareto front dashed and named")
    for ax, x, y, names in named:  # last: the names are placed for the final layout
        _labels(ax, x, y, names, np.ones(len(names), bool))
    return fig


def accuracy_vs_latency(summary: pd.DataFrame, colours: dict) -> Figure:
    """8. Test accuracy against batch-1 latency (p50) in eager PyTorch, the Pareto front dashed; where other
    runtimes ran, each model's fastest agreeing runtime beside it (open marker, arrow) with its own front (dotted).
    Only the fronts' models are named (the others are in the complexity and Pareto figures): a name for each of
    two markers per model crowds the dense corner beyond what any placement can keep apart."""
    fig = Figure(figsize=(11, 8), layout="constrained")
    ax = fig.subplots()
    table = summary.dropna(subset=["latency_p50_ms"])
    x, y, front = accuracy_against(ax, table, "latency_p50_ms", colours, sizes=45)
    title = "Which models are worth deploying? Accuracy against batch-1 latency"
    if "best_latency_p50_ms" in table and table["best_latency_p50_ms"].notna().any():
        best = table.dropna(subset=["best_latency_p50_ms"])
        bx, by = best["best_latency_p50_ms"].to_numpy(float), (best["test_accuracy"] * 100).to_numpy(float)
        ax.scatter(bx, by, s=45, facecolor="none", edgecolor=[colours[m] for m in best["model"]], lw=1.4, zorder=3,
                   label="fastest agreeing runtime")  # fmt: skip
        for start, end, acc in zip(best["latency_p50_ms"], bx, by, strict=True):
            ax.annotate("", (end, acc), (start, acc), arrowprops={"arrowstyle": "->", "color": "grey", "lw": 0.7})
        fastest = pareto_front(bx, by)
        order = np.argsort(bx[fastest])
        ax.plot(
            bx[fastest][order], by[fastest][order], ":", color="black", lw=1, label="front, fastest runtimes (named)"
        )
        front = front | table["model"].isin(best["model"][fastest]).to_numpy()
        title = "Which models are worth deploying? Eager PyTorch (filled), each model's fastest runtime (open)"
    ax.legend(**OUTSIDE_RIGHT_LOW)
    ax.set_xlabel("batch-1 latency p50 (ms, log scale)")
    family_legend(ax, summary, colours, **OUTSIDE_RIGHT)
    ax.set_title(title)
    _labels(ax, x[front], y[front], list(table["model"][front]), np.ones(front.sum(), bool))
    return fig


def time_to_target(ttt: pd.DataFrame, by_target: pd.DataFrame, colours: dict) -> Figure:
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
    left.set_xlabel("training time until validation accuracy first reached the target (s, log scale; median of seeds)")
    left.grid(axis="x", alpha=0.3)
    handles = [Line2D([], [], ls="", marker=markers[t], color="grey", mec="black") for t in ttt.columns]
    left.legend(
        handles,
        [f"{float(t):.0%}" for t in ttt.columns],
        title="validation-accuracy target",
        fontsize=8,
        ncols=len(ttt.columns),
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
    )  # above: off the markers
    for target in by_target.columns:
        right.step(
            by_target.index, by_target[target], where="post", lw=1.6, label=f"{float(target):.0%} validation accuracy"
        )
    ratio_axis(right, "x", by_target.index)
    right.set_xlabel("τ: time ÷ the fastest model's (×, log scale)")
    right.set_ylabel("models within τ of the fastest (%)")
    right.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    right.set_ylim(-0.03, 1.03)
    right.grid(alpha=0.3)
    right.legend(loc="lower right")
    fig.suptitle("How long does each model train to reach each accuracy target? (AlgoPerf-style; misses: never)")
    return fig
