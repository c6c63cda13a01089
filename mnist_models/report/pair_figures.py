"""Figures that set two things side by side: models (McNemar), runs (delta), loops (engine), settings (levers).

Like ``figures``: each function takes tables from ``compute`` and returns a matplotlib Figure.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from .compute import lever_matrix


def _p_label(p: float) -> str:
    if pd.isna(p):
        return ""
    if p < 0.001:
        return "<.001"
    return f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def significance_heatmap(p_values: pd.DataFrame, context: str) -> Figure:
    """10. Pairwise McNemar p-values; cells below 0.05 are significant differences."""
    n = len(p_values)
    fig = Figure(figsize=(0.7 * n + 4, 0.6 * n + 2.5), layout="constrained")
    ax = fig.subplots()
    annot = p_values.map(_p_label)
    sns.heatmap(
        p_values.astype(float),
        annot=annot,
        fmt="",
        cmap="RdBu",
        vmin=0,
        vmax=0.1,
        ax=ax,
        cbar_kws={"label": "McNemar p-value (red: significant at 0.05)"},
        annot_kws={"fontsize": 7},
    )
    ax.set_title(f"Are accuracy differences real? Pairwise McNemar test on the shared test images\n{context}")
    return fig


def comparison_bars(comparison: pd.DataFrame, context: str) -> Figure:
    """Delta between two runs: time change (%) per model and case, accuracy change (pp) per model."""
    both = comparison[comparison["status"] == "both"].copy()
    both["label"] = both["model"] + " · " + both["case"]
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
    fig.suptitle(f"Current run vs baseline\n{context}")
    return fig


def engine_bars(engine: pd.DataFrame, colours: dict, context: str) -> Figure:
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
    ax.set_xscale("log")
    ax.set_xlabel("training images/s at the same batch size (log)")
    ax.legend(loc="lower right")
    ax.set_title(f"Engine: our training loop vs the notebook-style loop\n{context}")
    return fig


def lever_heatmap(levers: pd.DataFrame, context: str) -> Figure:
    """12. Each lever's images/s over the unchanged case's, per model: below 1 (red), the default pays."""
    table = lever_matrix(levers)
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
            cbar_kws={"label": "log2 of the ratio"},
            linewidths=0.5,
            linecolor="white",
        )
    ax.set_xlabel("variant (one setting changed from the suite's defaults)")
    ax.set_ylabel("")
    ax.tick_params(axis="x", labelrotation=35)
    ax.tick_params(axis="y", labelrotation=0)
    ax.set_title(f"Levers: images/s of each variant over the unchanged case (red < 1: the default pays)\n{context}")
    return fig
