"""Figures: each function draws what it is handed and returns a matplotlib Figure (no pyplot, no files)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from .compute import pareto_front


def palette(models: list[str]) -> dict[str, tuple]:
    """One colour per model, the same in every figure."""
    colours = sns.color_palette("tab20", max(len(models), 1))
    return dict(zip(sorted(models), colours, strict=False))


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
    if log:
        ax.set_xscale("log")
    ax.barh(table["model"], table[column], color=[colours[m] for m in table["model"]], xerr=xerr, capsize=3)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)


def accuracy_bars(summary: pd.DataFrame, seed_points: pd.DataFrame, colours: dict, context: str) -> Figure:
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
    ax.set_xlabel("test accuracy (%) with 95% interval")
    ax.set_title(f"Test accuracy per model, best first\n{context}")
    return fig


def loss_bars(summary: pd.DataFrame, colours: dict, context: str) -> Figure:
    """2. Test loss (cross-entropy), lowest first."""
    table = summary.sort_values("test_loss")
    fig = Figure(figsize=(9, 0.45 * len(table) + 1.8), layout="constrained")
    ax = fig.subplots()
    _bars(ax, table, "test_loss", colours)
    ax.set_xlabel("test loss (mean cross-entropy)")
    ax.set_title(f"Test loss per model, lowest first\n{context}")
    return fig


def per_class_heatmap(per_class: pd.DataFrame, context: str) -> Figure:
    """3. Per-class test accuracy, models x classes."""
    fig = Figure(figsize=(max(8, 0.9 * per_class.shape[1] + 4), 0.45 * len(per_class) + 2.2), layout="constrained")
    ax = fig.subplots()
    sns.heatmap(
        per_class * 100,
        annot=True,
        fmt=".1f",
        cmap="RdYlGn",
        ax=ax,
        cbar_kws={"label": "accuracy (%)"},
        annot_kws={"fontsize": 7},
    )
    ax.set_xlabel("class")
    ax.set_ylabel("")
    ax.set_title(f"Per-class test accuracy (%): which classes each model gets wrong\n{context}")
    return fig


def _pareto_line(ax, x, y) -> None:
    mask = pareto_front(x, y)
    order = np.argsort(np.asarray(x)[mask])
    ax.plot(np.asarray(x)[mask][order], np.asarray(y)[mask][order], "--", color="grey", lw=1, label="Pareto front")


def _accuracy_scatter(table: pd.DataFrame, x: str, xlabel: str, colours: dict, title: str, sizes=80) -> Figure:
    """Test accuracy against a cost on a log axis, points labelled, the Pareto front dashed."""
    fig = Figure(figsize=(9, 6), layout="constrained")
    ax = fig.subplots()
    accuracy = table["test_accuracy"] * 100
    ax.scatter(table[x], accuracy, s=sizes, c=[colours[m] for m in table["model"]], alpha=0.8, edgecolor="black")
    for model, cost, acc in zip(table["model"], table[x], accuracy, strict=True):
        ax.annotate(model, (cost, acc), fontsize=7, xytext=(5, 5), textcoords="offset points")
    _pareto_line(ax, table[x], accuracy)
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test accuracy (%)")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    ax.set_title(title)
    return fig


def complexity_scatter(summary: pd.DataFrame, colours: dict, context: str) -> Figure:
    """4. Parameters (log) against accuracy; bubble area = training time; Pareto front dashed."""
    times = summary["train_time_s"]
    times = times.fillna(times.median() if times.notna().any() else 1)
    sizes = 40 + 600 * times / max(times.max(), 1e-9)
    return _accuracy_scatter(
        summary,
        "params",
        "parameters (log scale)",
        colours,
        f"Complexity vs accuracy (bubble area = training time)\n{context}",
        sizes,
    )


def learning_curves(curves: pd.DataFrame, colours: dict, context: str) -> Figure:
    """5. Train/validation accuracy (left axis) and loss (right axis) per epoch, one panel per model."""
    models = list(dict.fromkeys(curves["model"]))
    cols = min(4, len(models))
    rows = math.ceil(len(models) / cols)
    fig = Figure(figsize=(4 * cols, 3 * rows + 0.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, model in zip(axes, models, strict=False):
        h = curves[curves["model"] == model]
        ax.plot(h["epoch"], h["train_acc"] * 100, "o-", color=colours[model], label="train acc")
        ax.plot(h["epoch"], h["val_acc"] * 100, "s--", color=colours[model], label="val acc")
        ax.set_ylabel("accuracy (%)")
        twin = ax.twinx()
        twin.plot(h["epoch"], h["train_loss"], "o-", color="grey", alpha=0.6, label="train loss")
        twin.plot(h["epoch"], h["val_loss"], "s--", color="black", alpha=0.6, label="val loss")
        twin.set_ylabel("loss")
        ax.set_title(model, fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_xlim(0.5, h["epoch"].max() + 0.5)
        ax.xaxis.get_major_locator().set_params(integer=True)
    for ax in axes[len(models) :]:
        ax.set_visible(False)
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color="tab:blue", marker="o", ls="-"),
        Line2D([], [], color="tab:blue", marker="s", ls="--"),
        Line2D([], [], color="grey", marker="o", ls="-"),
        Line2D([], [], color="black", marker="s", ls="--"),
    ]
    fig.legend(
        handles,
        ["train accuracy (model colour)", "validation accuracy", "train loss (right axis)", "validation loss"],
        loc="outside lower center",
        ncols=4,
    )
    fig.suptitle(f"Learning curves (first seed)\n{context}")
    return fig


def efficiency_bars(summary: pd.DataFrame, colours: dict, context: str) -> Figure:
    """6. Accuracy per million parameters and per second of training."""
    fig, (left, right) = _bar_pair(summary, f"Efficiency: accuracy per parameter and per training second\n{context}")
    _bars(left, summary.sort_values("acc_per_mparam", ascending=False), "acc_per_mparam", colours, log=True)
    left.set_xlabel("test accuracy per million parameters (log)")
    table = summary.dropna(subset=["acc_per_train_s"]).sort_values("acc_per_train_s", ascending=False)
    _bars(right, table, "acc_per_train_s", colours, log=True)
    right.set_xlabel("test accuracy per second of training (log)")
    return fig


def inference_bars(summary: pd.DataFrame, colours: dict, context: str) -> Figure:
    """7. Batch-1 latency (p50 bar, p99 tick) and batched throughput."""
    fig, (left, right) = _bar_pair(summary, f"Inference speed\n{context}")
    table = summary.dropna(subset=["latency_p50_ms"]).sort_values("latency_p50_ms")
    _bars(left, table, "latency_p50_ms", colours)
    if not table.empty:
        left.scatter(table["latency_p99_ms"], table["model"], marker="|", s=200, color="black", label="p99", zorder=3)
        left.legend(loc="lower right")
    left.set_xlabel("batch-1 latency (ms): bar p50, tick p99")
    table = summary.dropna(subset=["throughput_img_s"]).sort_values("throughput_img_s", ascending=False)
    _bars(right, table, "throughput_img_s", colours, log=True)
    right.set_xlabel("batched inference throughput (images/s, log)")
    return fig


def accuracy_vs_latency(summary: pd.DataFrame, colours: dict, context: str) -> Figure:
    """8. Test accuracy against batch-1 latency (p50); Pareto front dashed."""
    table = summary.dropna(subset=["latency_p50_ms"])
    return _accuracy_scatter(
        table, "latency_p50_ms", "batch-1 latency p50 (ms, log)", colours, f"Accuracy vs inference latency\n{context}"
    )


def confusion_matrices(matrices: dict[str, np.ndarray], classes: list[str], context: str) -> Figure:
    """9. One confusion matrix per model (first seed), small multiples, log colour scale."""
    from matplotlib.colors import LogNorm

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
            square=True,
        )
        ax.tick_params(labelsize=6)
        ax.set_title(f"{model} ({np.trace(matrix) / matrix.sum():.2%})", fontsize=8)
        ax.set_xlabel("predicted", fontsize=7)
        ax.set_ylabel("true", fontsize=7)
    for ax in axes[len(models) :]:
        ax.set_visible(False)
    fig.suptitle(f"Confusion matrices (log colour scale)\n{context}")
    return fig
