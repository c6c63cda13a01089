"""Figures: each function draws what it is handed and returns a matplotlib Figure (no pyplot, no files).

Colours go by family (one hue per family, a shade per model by its size), the same in every figure.
Every title is one line, the question the figure answers; the machine and the run are the page's, said once
at its top. Every numeric axis names its unit; ratios read as 0.5×, 1×, 2× (``ratio_axis``).
``cost_figures`` has accuracy against costs; ``pair_figures`` what sets two things side by side.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

FAMILY_HUES = {"cnn": "Blues", "mlp": "Oranges", "linear": "Greys"}  # other families: the rest, in turn
_SPARE_HUES = ("Greens", "Purples", "Reds", "BuGn")


def _family_hues(families: list[str]) -> dict[str, str]:
    spare = iter(_SPARE_HUES * 4)
    return {f: FAMILY_HUES.get(f) or next(spare) for f in sorted(set(families))}


def palette(summary: pd.DataFrame) -> dict[str, tuple]:
    """One colour per model: its family's hue, darker for larger models; the same in every figure."""
    colours: dict[str, tuple] = {}
    hues = _family_hues(list(summary["family"]))
    for family, group in summary.groupby("family"):
        shades = sns.color_palette(hues[family], len(group) + 2)[2:]  # skip the palest shades
        for colour, model in zip(shades, group.sort_values(["params", "model"])["model"], strict=True):
            colours[model] = colour
    return colours


def family_handles(summary: pd.DataFrame, colours: dict) -> tuple[list[Line2D], list[str]]:
    """A legend's handles and names for the families' hues (a mid shade of each)."""
    handles, names = [], []
    for family, group in summary.groupby("family"):
        models = list(group.sort_values("params")["model"])
        handles.append(Line2D([], [], ls="", marker="o", ms=8, color=colours[models[len(models) // 2]], mec="black"))
        names.append(f"{family} ({len(models)})")
    return handles, names


def family_legend(ax, summary: pd.DataFrame, colours: dict, **where) -> Legend:
    """A legend of the families' hues on ``ax``, beside any other legend it has; ``where``: ``loc`` and
    ``bbox_to_anchor``, as for ``ax.legend``."""
    legend = Legend(ax, *family_handles(summary, colours), title="family", fontsize=8, **where)  # drawn once
    ax.add_artist(legend)
    return legend


def log_axis(ax, which: str, values, base: int = 10) -> None:
    """Make ``ax``'s x or y axis (``which``) a log axis labelled at the powers of ``base`` only (labels between
    them crowd a short axis), its limits the powers around ``values``: at least two labels on any data."""
    data = np.asarray(values, float).ravel()
    data = data[np.isfinite(data) & (data > 0)]
    if not data.size:
        return
    low = float(base) ** math.floor(math.log(data.min(), base) + 1e-9)
    high = float(base) ** math.ceil(math.log(data.max(), base) - 1e-9)
    if low == high:
        low, high = low / base, high * base
    axis = ax.xaxis if which == "x" else ax.yaxis
    (ax.set_xscale if which == "x" else ax.set_yscale)("log", base=base)
    (ax.set_xlim if which == "x" else ax.set_ylim)(low / 1.12, high * 1.12)  # the end labels inside the axes
    axis.set_major_locator(LogLocator(base=base))
    axis.set_minor_formatter(NullFormatter())


def ratio_axis(ax, which: str, values) -> None:
    """Make ``ax``'s x or y axis (``which``) a log axis of ratios: ticks at powers of two (0.5×, 1×, 2×, …)
    around the data and 1×."""
    log_axis(ax, which, np.append(np.asarray(values, float).ravel(), 1.0), base=2)
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    axis.set_minor_locator(NullLocator())


def _bar_pair(summary: pd.DataFrame, title: str):
    """A titled figure of two bar panels side by side, one bar per model in each."""
    fig = Figure(figsize=(12, 0.45 * len(summary) + 1.8), layout="constrained")
    fig.suptitle(title)
    return fig, fig.subplots(1, 2)


def _bars(ax, table: pd.DataFrame, column: str, colours: dict, xerr=None, log: bool = False) -> None:
    """Horizontal bars, first row on top; an empty table leaves a 'no data' note instead."""
    if table.empty:
        ax.text(0.5, 0.5, "no data in these runs", ha="center", va="center", transform=ax.transAxes, color="grey")
        ax.set_yticks([])
        return
    ax.barh(table["model"], table[column], color=[colours[m] for m in table["model"]], xerr=xerr, capsize=3)
    if log:
        log_axis(ax, "x", table[column])
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)


def accuracy_bars(summary: pd.DataFrame, seed_points: pd.DataFrame, colours: dict) -> Figure:
    """1. Test accuracy with 95% intervals, best first; dots for individual seeds."""
    fig = Figure(figsize=(9, 0.45 * len(summary) + 1.8), layout="constrained")
    ax = fig.subplots()
    err = np.vstack([summary["test_accuracy"] - summary["ci_low"], summary["ci_high"] - summary["test_accuracy"]]) * 100
    table = summary.assign(test_accuracy=summary["test_accuracy"] * 100)
    _bars(ax, table, "test_accuracy", colours, xerr=err)
    if not seed_points.empty and seed_points.groupby("model").size().max() > 1:
        ax.scatter(seed_points["accuracy"] * 100, seed_points["model"], color="black", s=12, zorder=3, label="seeds")
        ax.legend(loc="lower right")
    low = max(0.0, (summary["ci_low"].min() * 100) - 1)
    ax.set_xlim(low, 100)
    for y, (acc, hi) in enumerate(zip(table["test_accuracy"], summary["ci_high"] * 100, strict=True)):
        ax.text(hi + 0.05, y, f"{acc:.2f}%", va="center", fontsize=8)
    ax.set_xlabel("test accuracy (%), with its 95% interval")
    ax.set_title("Which model is most accurate?")
    return fig


def loss_bars(summary: pd.DataFrame, colours: dict) -> Figure:
    """2. Test loss (cross-entropy), lowest first."""
    table = summary.sort_values("test_loss")
    fig = Figure(figsize=(9, 0.45 * len(table) + 1.8), layout="constrained")
    ax = fig.subplots()
    _bars(ax, table, "test_loss", colours)
    ax.set_xlabel("test loss (mean cross-entropy, nats)")
    ax.set_title("Which model is most confidently right (lowest test loss)?")
    return fig


def per_class_heatmap(per_class: pd.DataFrame) -> Figure:
    """3. Per-class test accuracy, models x classes."""
    fig = Figure(figsize=(max(8, 0.9 * per_class.shape[1] + 4), 0.45 * len(per_class) + 2.2), layout="constrained")
    ax = fig.subplots()
    sns.heatmap(
        per_class * 100,
        annot=True,
        fmt=".1f",
        cmap="RdYlGn",
        ax=ax,
        cbar_kws={"label": "test accuracy (%)"},
        annot_kws={"fontsize": 7},
    )
    ax.set_xlabel("class")
    ax.set_ylabel("")
    ax.set_title("Which classes does each model get wrong?")
    return fig


def curve_models(curves: pd.DataFrame) -> list[str]:
    """The models of ``curves`` (``compute.learning_curves``) with a curve to draw: more than one epoch; the others
    have a point per curve, nothing to see as a curve."""
    if curves.empty:
        return []
    epochs = curves.groupby("model", sort=False)["epoch"].nunique()
    return list(epochs[epochs > 1].index)


def learning_curves(curves: pd.DataFrame, colours: dict) -> Figure:
    """5. Train/validation accuracy (left axis) and loss (right axis) per epoch, one panel per model; with
    several seeds, the mean over the seeds with a band from the lowest to the highest. Models trained for one
    epoch are left out, and named below the panels."""
    models = curve_models(curves)
    if not models:
        raise ValueError("no model has more than one epoch of history: no curve to draw")
    left_out = [m for m in dict.fromkeys(curves["model"]) if m not in models]
    curves = curves[curves["model"].isin(models)]
    seeds = curves.groupby("model")["seed"].nunique().max()
    cols = min(4, len(models))
    rows = math.ceil(len(models) / cols)
    fig = Figure(figsize=(max(4 * cols, 8), 3 * rows + 0.8), layout="constrained")  # 8: room for title, legend
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, model in zip(axes, models, strict=False):
        h = curves[curves["model"] == model].groupby("epoch")
        mean, low, high = h.mean(numeric_only=True), h.min(numeric_only=True), h.max(numeric_only=True)
        twin = ax.twinx()
        for axis, column, style, colour, alpha in (
            (ax, "train_acc", "o-", colours[model], 1.0),
            (ax, "val_acc", "s--", colours[model], 1.0),
            (twin, "train_loss", "o-", "grey", 0.6),
            (twin, "val_loss", "s--", "black", 0.6),
        ):
            scale = 100 if axis is ax else 1
            axis.plot(mean.index, mean[column] * scale, style, color=colour, alpha=alpha, ms=3)
            if seeds > 1:
                axis.fill_between(mean.index, low[column] * scale, high[column] * scale, color=colour, alpha=0.15, lw=0)
        ax.set_ylabel("accuracy (%)")
        twin.set_ylabel("loss (cross-entropy, nats)")
        n = curves[curves["model"] == model]["seed"].nunique()
        ax.set_title(f"{model}" + (f" ({n} seeds)" if n > 1 else ""), fontsize=9)
        ax.set_xlabel("epoch (count)")
        ax.set_xlim(0.5, mean.index.max() + 0.5)
        ax.xaxis.get_major_locator().set_params(integer=True)
    for ax in axes[len(models) :]:
        ax.set_visible(False)
    handles = [
        Line2D([], [], color="tab:blue", marker="o", ls="-"),
        Line2D([], [], color="tab:blue", marker="s", ls="--"),
        Line2D([], [], color="grey", marker="o", ls="-"),
        Line2D([], [], color="black", marker="s", ls="--"),
    ]
    # the models left out, said in the legend's title: the one line below the panels that the layout keeps clear
    note = f"left out, trained for one epoch (one point per curve): {', '.join(left_out)}" if left_out else None
    fig.legend(
        handles,
        ["train accuracy (model colour)", "validation accuracy", "train loss (right axis)", "validation loss"],
        loc="outside lower center",
        ncols=4 if cols > 2 else 2,  # as wide as the panels, no wider
        title=textwrap.fill(note, 45 * cols) if note else None,
        title_fontsize=9,
    )
    what = f"mean of {seeds} seeds, band: lowest to highest" if seeds > 1 else "one seed"
    fig.suptitle(f"How does each model learn, epoch by epoch? ({what})")
    return fig


def inference_bars(summary: pd.DataFrame, colours: dict) -> Figure:
    """7. Batch-1 latency (p50 bar, p99 tick) and batched throughput, both on log axes: they span decades."""
    fig, (left, right) = _bar_pair(summary, "How fast does each model answer, one image and in batches?")
    table = summary.dropna(subset=["latency_p50_ms"]).sort_values("latency_p50_ms")
    _bars(left, table, "latency_p50_ms", colours, log=True)
    if not table.empty:
        left.scatter(table["latency_p99_ms"], table["model"], marker="|", s=200, color="black", label="p99", zorder=3)
        log_axis(left, "x", table[["latency_p50_ms", "latency_p99_ms"]])  # the p99 ticks in view too
        left.legend(loc="upper right")  # fastest first: the top rows' bars are the shortest
    left.set_xlabel("batch-1 latency (ms, log scale): bar p50, tick p99")
    table = summary.dropna(subset=["throughput_img_s"]).sort_values("throughput_img_s", ascending=False)
    _bars(right, table, "throughput_img_s", colours, log=True)
    right.set_xlabel("batched inference throughput (images/s, log scale)")
    return fig


def confusion_matrices(matrices: dict[str, np.ndarray], classes: list[str]) -> Figure:
    """9. One confusion matrix per model (summed over its seeds), small multiples, log colour scale."""
    models = list(matrices)
    cols = min(4, len(models))
    rows = math.ceil(len(models) / cols)
    fig = Figure(figsize=(3.6 * cols, 3.4 * rows + 0.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    short = [c[:6] for c in classes]
    for ax, model in zip(axes, models, strict=False):
        matrix = np.asarray(matrices[model])
        sns.heatmap(
            matrix + 0.5,
            norm=LogNorm(),
            cmap="Blues",
            cbar=False,
            ax=ax,
            xticklabels=short,
            yticklabels=short,
        )  # not square=True: fixed aspects make the constrained layout shift between draws, onto the titles
        ax.tick_params(labelsize=6)
        ax.set_title(f"{model} ({np.trace(matrix) / matrix.sum():.2%})", fontsize=8)
        ax.set_xlabel("predicted", fontsize=7)
        ax.set_ylabel("true", fontsize=7)
    for ax in axes[len(models) :]:
        ax.set_visible(False)
    fig.suptitle("Which classes are mistaken for which? (counts of test images, log colour scale)")
    return fig
