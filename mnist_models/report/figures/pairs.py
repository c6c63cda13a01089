"""Figures that set two things side by side: models (McNemar), runs (delta), loops (engine), settings (levers).

Like ``figures``: each function takes tables from ``compute`` and returns a matplotlib Figure; ratios are on
log axes with ticks at powers of two (``basic.ratio_axis``).
"""

from __future__ import annotations

import textwrap
import warnings

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MultipleLocator

from ..tables.groups import lever_matrix
from .basic import log_axis, ratio_axis


def _p_label(p: float) -> str:
    if pd.isna(p):
        return ""
    if p < 0.001:
        return "<.001"
    return f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def significance_heatmap(p_values: pd.DataFrame, level: str) -> Figure:
    """10. Pairwise Holm-adjusted p-values, most accurate model first; red cells: significant differences."""
    n = len(p_values)
    width = 0.7 * n + 4
    fig = Figure(figsize=(width, 0.6 * n + 2.5), layout="constrained")
    ax = fig.subplots()
    annot = p_values.map(_p_label)
    test = (
        "architectures over seeds (Welch t-test with the test set's variance)"
        if level == "architectures"
        else "these trained weights (McNemar's test on the shared test images)"
    )
    sns.heatmap(
        p_values.astype(float),
        annot=annot,
        fmt="",
        cmap="RdBu",
        vmin=0,
        vmax=0.1,
        ax=ax,
        cbar_kws={"label": "Holm-adjusted p-value (probability; red: below 0.05)"},
        annot_kws={"fontsize": 7},
    )
    ax.set_title("Which accuracy differences are real?")
    # the test, below the matrix, as wide as the figure: the title stays one line however few models there are
    what = f"Pairs of {test}, Holm-corrected over every pair; most accurate model first"
    ax.set_xlabel(textwrap.fill(what, int(width * 11)), fontsize=9)
    return fig


def comparison_bars(comparison: pd.DataFrame, baseline: str, current: str) -> Figure:
    """Delta between two runs (``baseline`` and ``current``, their short names): time change (%) per model and
    case, accuracy change (pp) per model."""
    both = comparison[comparison["status"] == "both"].copy()
    both["label"] = both["model"] + " · " + both["benchmark"]
    fig = Figure(figsize=(13, 0.35 * len(both) + 2), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[3, 2])
    colours = ["#c0392b" if v > 0 else "#27ae60" for v in both["time_change_pct"].fillna(0)]
    left.barh(both["label"], both["time_change_pct"], color=colours)
    left.axvline(0, color="black", lw=0.8)
    left.invert_yaxis()
    left.set_xlabel("median time change (%, positive = slower)")
    acc = both.drop_duplicates(["model", "seed"])
    right.barh(
        acc["model"] + " s" + acc["seed"].astype(str),
        acc["accuracy_change_pp"],
        color=["#c0392b" if v < 0 else "#27ae60" for v in acc["accuracy_change_pp"]],
    )
    right.axvline(0, color="black", lw=0.8)
    right.invert_yaxis()
    right.set_xlabel("test accuracy change (percentage points)")
    fig.suptitle(f"What changed from the baseline? {baseline} → {current}")
    return fig


def engine_bars(engine: pd.DataFrame, colours: dict) -> Figure:
    """11. Training images/s of the notebook-style loop and ours, with the speedup written on each bar."""
    table = engine.sort_values("speedup", ascending=False)
    fig = Figure(figsize=(10, 0.5 * len(table) + 1.8), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(table))
    ax.barh(
        y - 0.2, table["notebook_img_s"], height=0.4, color="lightgrey", edgecolor="grey", label="notebook-style loop"
    )
    ax.barh(y + 0.2, table["ours_img_s"], height=0.4, color=[colours[m] for m in table["model"]], label="our engine")
    for i, (rate, speedup) in enumerate(zip(table["ours_img_s"], table["speedup"], strict=True)):
        ax.text(rate, i + 0.2, f" {speedup:.2f}×", va="center", fontsize=8)
    ax.set_yticks(y, table["model"])
    ax.invert_yaxis()
    log_axis(ax, "x", table[["notebook_img_s", "ours_img_s"]])
    ax.set_xlabel("training throughput at the same batch size (images/s, log scale)")
    fig.legend(loc="outside lower center", ncols=2)  # below: off the bars and their speedups
    ax.set_title("How much faster does our training loop train than the notebook-style loop?")
    return fig


def lever_heatmap(levers: pd.DataFrame) -> Figure:
    """12. Each lever's images/s over the unchanged case's, per model: below 1 (red), the default pays."""
    # names wrapped at their hyphens: horizontal, they never run into their neighbours
    table = lever_matrix(levers).rename(columns=lambda name: textwrap.fill(name, 11))
    fig = Figure(figsize=(1.1 * len(table.columns) + 3.5, 0.45 * len(table) + 2.4), layout="constrained")
    ax = fig.subplots()
    with warnings.catch_warnings():  # seaborn's masking of the empty cells calls a deprecated matplotlib API
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        sns.heatmap(
            np.log2(table.astype(float)),
            ax=ax,
            cmap="RdBu",
            center=0,
            vmin=-1.5,
            vmax=1.5,
            annot=table,
            fmt=".2f",
            annot_kws={"fontsize": 8},
            cbar_kws={
                "label": "variant's images/s ÷ the unchanged case's (×, log scale)",
                "ticks": MultipleLocator(1),  # log2: 0.5×, 1×, 2×
                "format": FuncFormatter(lambda v, _: f"{2**v:g}×"),
            },
            linewidths=0.5,
            linecolor="white",
        )
    ax.set_xlabel("variant (one setting changed from the suite's defaults)")
    ax.set_ylabel("")
    ax.tick_params(axis="x", labelrotation=0)
    ax.tick_params(axis="y", labelrotation=0)
    ax.set_title("Which of the suite's defaults pay? (red, below 1×: the variant is slower)")
    return fig


def runtime_bars(runtimes: pd.DataFrame) -> Figure:
    """14. Per model, each runtime's batch-1 latency and batched throughput over eager's (above 1: faster)."""
    shown = runtimes[runtimes["runtime"] != "eager"]
    models = list(dict.fromkeys(runtimes["model"]))
    names = list(dict.fromkeys(shown["runtime"]))
    fig = Figure(figsize=(13, 0.42 * len(models) * max(1, len(names)) / 1.5 + 2.2), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    height = 0.8 / max(1, len(names))
    colours = dict(zip(names, sns.color_palette("Set2", len(names)), strict=False))
    for ax, column, label in (
        (axes[0], "latency_speedup", "batch-1 latency speedup"),
        (axes[1], "throughput_speedup", "batched throughput speedup"),
    ):
        for k, name in enumerate(names):
            rows = shown[shown["runtime"] == name].set_index("model").reindex(models)
            # bars grow from 1 (eager's own speed): right of it faster, left of it slower
            ax.barh(np.arange(len(models)) + (k - (len(names) - 1) / 2) * height, rows[column] - 1, left=1,
                    height=height, color=colours[name], label=name)  # fmt: skip
        ax.axvline(1, color="black", lw=0.8)
        ratio_axis(ax, "x", shown[column])
        ax.set_xlabel(f"{label} over eager (×, log scale; right of 1×: faster)")
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(np.arange(len(models)), models)
    axes[0].invert_yaxis()
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=len(names), title="runtime")
    fig.suptitle("How much faster than eager PyTorch is each runtime, model by model?")
    return fig
