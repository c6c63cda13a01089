"""Building a report: compute the tables, draw the figures, render, and write every file (the one place that writes)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..bench.groups import Group
from ..files import atomic_write_bytes
from . import compute, figures, gate, page, pair_figures, render
from .runs import Run


@dataclass(frozen=True)
class Report:
    directory: Path
    files: list[Path]
    notes: list[str]
    insights: dict
    gate_failures: list[str] | None = None  # None: no gate was asked for


def _context(runs: list[Run]) -> str:
    first = runs[0]
    info = first.machine.get("mnist_models", {})
    device = info.get("device_name") or first.machine.get("cpu", {}).get("brand_raw") or ""
    devices = sorted({r.device for r in runs})
    text = f"profile {', '.join(sorted({r.profile for r in runs}))} · device {', '.join(devices)}"
    if device:
        text += f" ({device})"
    return (
        text
        + f" · dataset {first.dataset}\nrun{'s' if len(runs) > 1 else ''} {', '.join(compute.short_name(r.name) for r in runs)}"
    )


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def _figures(runs: list[Run], items, summary, per_class, significance, context: str, notes: list[str]):
    """(file name, caption, Figure) for every figure the data supports; what is missing goes to ``notes``."""
    colours = figures.palette(list(summary["model"]))
    seed_points = pd.DataFrame(
        [{"model": v.label, "accuracy": r.outcome.test.accuracy} for v in items for r in v.seeds()]
    )
    curves = compute.learning_curves(items)
    matrices = {v.label: np.array(v.seeds()[0].outcome.test.confusion) for v in items}
    classes = runs[0].benches[0].record.classes
    has_latency = bool(summary["latency_p50_ms"].notna().any())
    has_inference = has_latency or bool(summary["throughput_img_s"].notna().any())
    has_pairs = len(significance) > 1 and bool(significance.notna().any().any())
    plan = [  # name, caption, whether the data supports it, how to draw it, the note when it does not
        ("01_accuracy.png", "Test accuracy with 95% intervals: which model is most accurate", True,
         lambda: figures.accuracy_bars(summary, seed_points, colours, context), ""),
        ("02_loss.png", "Test loss: how confident and correct each model is", True,
         lambda: figures.loss_bars(summary, colours, context), ""),
        ("03_per_class.png", "Per-class accuracy: which classes each model finds hard", True,
         lambda: figures.per_class_heatmap(per_class, context), ""),
        ("04_complexity.png", "Complexity vs accuracy: what the extra parameters buy", True,
         lambda: figures.complexity_scatter(summary, colours, context), ""),
        ("05_learning_curves.png", "Learning curves: over- or under-fitting, and when to stop", len(curves) > 0,
         lambda: figures.learning_curves(curves, colours, context), "No per-epoch history in these runs: figure 5 was not drawn."),
        ("06_efficiency.png", "Efficiency: accuracy per parameter and per training second", True,
         lambda: figures.efficiency_bars(summary, colours, context), ""),
        ("07_inference.png", "Inference: batch-1 latency (p50/p99) and batched throughput", has_inference,
         lambda: figures.inference_bars(summary, colours, context),
         "No latency or throughput cases in these runs: figure 7 was not drawn."),
        ("08_accuracy_vs_latency.png", "Accuracy vs latency: the models worth deploying (Pareto front)", has_latency,
         lambda: figures.accuracy_vs_latency(summary, colours, context), "No latency cases in these runs: figure 8 was not drawn."),
        ("09_confusion.png", "Confusion matrices: which classes are mistaken for which", True,
         lambda: figures.confusion_matrices(matrices, classes, context), ""),
        ("10_significance.png", "Pairwise McNemar test: which accuracy differences are real", has_pairs,
         lambda: pair_figures.significance_heatmap(significance, context),
         "The McNemar figure needs at least two models evaluated on the same test images: figure 10 was not drawn."),
    ]  # fmt: skip
    out = []
    for name, caption, supported, draw, missing in plan:
        if supported:
            out.append((name, caption, draw()))
        else:
            notes.append(missing)
    return out


def build_report(
    runs: list[Run], directory: str | Path, baseline: Run | None = None, rules: list[gate.GateRule] | None = None
) -> Report:
    """Write the report for ``runs`` (and the comparison of the last run with ``baseline``) into ``directory``."""
    directory = Path(directory)
    items = compute.variants(runs)
    summary = compute.summary_table(items)
    classes = runs[0].benches[0].record.classes
    per_class = compute.per_class_table(items, classes)
    significance = compute.mcnemar_matrix(items)
    found = compute.insights(summary, per_class, items, significance)
    context = _context(runs)
    notes = [
        f"{r.name}: {r.skipped} benchmark(s) without an mnist-models record were ignored." for r in runs if r.skipped
    ]
    for run in runs:
        for source in run.machine.get("mnist_models", {}).get("merged_from", []):
            info = source.get("machine_info", {}).get("mnist_models", {})
            where = info.get("device_name") or info.get("device") or "an unnamed machine"
            notes.append(
                f"{compute.short_name(run.name)} merges {compute.short_name(source['run'])}: "
                f"{source['benchmarks']} benchmark(s) run on {where} ({info.get('device', '?')}, torch "
                f"{info.get('torch', '?')}) on {source.get('datetime', '?')}."
            )
    for run in runs:
        injected = sorted({b.record.slowdown for b in run.benches if b.record.slowdown})
        if injected:
            notes.append(
                f"{compute.short_name(run.name)} ran with an INJECTED slowdown (+"
                + ", +".join(f"{s:.0%}" for s in injected)
                + " extra work per timed call, --mnist-slowdown): its times are not the code's own."
            )
    optional = (Group.LEVERS,)  # runs only when asked for: its absence is no news
    missing = [g.value for g in Group if g not in optional and not any(g.value in v.records for v in items)]
    if missing:
        notes.append(
            f"No {', '.join(missing)} cases in these runs; the columns and figures that need them are empty or left out."
        )
    drawn = _figures(runs, items, summary, per_class, significance, context, notes)
    pngs = [(name, caption, _png(fig)) for name, caption, fig in drawn]
    extra = []
    engine = compute.engine_table(items)
    if len(engine):
        pngs.append(
            (
                "11_engine.png",
                "Engine: our training loop against the notebook-style loop (images/s)",
                _png(pair_figures.engine_bars(engine, figures.palette(list(summary["model"])), context)),
            )
        )
        extra.append(("Engine: our training loop vs the notebook's", render.display_engine(engine)))
        found["engine_speedup"] = {m: float(s) for m, s in zip(engine["model"], engine["speedup"], strict=True)}
    restore = compute.restore_table(items)
    if len(restore):
        heading = "Restored best epoch vs last epoch (the original notebook reported the last)"
        extra.append((heading, render.display_restore(restore)))
        found["best_minus_last_pp"] = {
            f"{row.model} | seed {row.seed}": float(row.best_minus_last_pp) for row in restore.itertuples()
        }
    levers = compute.lever_table(items)
    if len(levers):
        pngs.append(
            (
                "12_levers.png",
                "Levers: each engine setting changed on its own, images/s relative to the unchanged case",
                _png(pair_figures.lever_heatmap(levers, context)),
            )
        )
        extra.append(
            ("Levers: variant images/s ÷ unchanged images/s (below 1: the default pays)", render.display_levers(levers))
        )
        found["lever_ratio"] = {
            f"{m} | {lv}": float(r) for m, lv, r in zip(levers["model"], levers["lever"], levers["ratio"], strict=True)
        }

    comparison = failures = None
    files: dict[str, bytes] = {"levers.csv": levers.to_csv(index=False).encode()} if len(levers) else {}
    if len(restore):
        files["restore.csv"] = restore.to_csv(index=False).encode()
    if baseline is not None:
        comparison = gate.compare_runs(baseline, runs[-1])
        failures = gate.gate(comparison, rules or []) if rules else None
        files["comparison.csv"] = comparison.to_csv(index=False).encode()
        machines = gate.machines_table(baseline, runs[-1])
        extra.append(("Machines of the two runs (an unpaired comparison)", machines))
        same = "on the same kind of machine" if machines.iloc[0, 1] == machines.iloc[0, 2] else "on different machines"
        notes.append(gate.UNPAIRED_NOTE.format(machines=same))
        if (comparison["status"] == "both").any():
            pngs.append(
                (
                    "comparison.png",
                    f"Delta: {runs[-1].name} against baseline {baseline.name}",
                    _png(
                        pair_figures.comparison_bars(
                            comparison,
                            f"{compute.short_name(baseline.name)} → {compute.short_name(runs[-1].name)} · {context}",
                        )
                    ),
                )
            )
        old_models = {b.record.model for b in baseline.benches}
        new_models = {b.record.model for b in runs[-1].benches}
        added, removed = sorted(new_models - old_models), sorted(old_models - new_models)
        partial = comparison[comparison["status"] != "both"]
        partial = partial[partial["model"].isin(old_models & new_models)]
        if len(partial):
            notes.append(
                f"{len(partial)} case(s) of models in both runs are in only one of them (e.g. "
                f"{partial.iloc[0]['model']} {partial.iloc[0]['case']}: {partial.iloc[0]['status']}); not gated."
            )
        if len(added):
            notes.append(f"Added since the baseline (not gated): {', '.join(added)}.")
        if len(removed):
            notes.append(f"Removed since the baseline (not gated): {', '.join(removed)}.")

    table = render.display_summary(summary)
    classes_word = "digit" if runs[0].dataset == "mnist" else "class"
    lines = render.insight_lines(found, classes_word)
    shown_comparison = render.display_comparison(comparison) if comparison is not None else None
    title = "mnist-models report"
    files["summary.csv"] = summary.to_csv(index=False).encode()
    files["per_class.csv"] = per_class.to_csv().encode()
    files["insights.json"] = json.dumps(found, indent=2).encode()
    files["summary.md"] = render.markdown(
        title, context, table, lines, notes, shown_comparison, failures, extra
    ).encode()
    files["index.html"] = page.html_page(
        title,
        context,
        table,
        lines,
        [(n, c) for n, c, _ in pngs],
        notes,
        shown_comparison,
        failures,
        extra,
        raw=summary,
    ).encode()
    for name, _, png in pngs:
        files[name] = png
    written = []
    for name, content in files.items():
        atomic_write_bytes(directory / name, content)
        written.append(directory / name)
    return Report(directory, written, notes, found, failures)
