"""The report's sections on evidence: which differences are real, what to pick for a budget, time to
target, what each model gets wrong, how it learns."""

from __future__ import annotations

import numpy as np

from . import compute, cost_figures, displays, figures, pair_figures, render, verdicts
from .content import Section, Table
from .inputs import Inputs, figure, figures_for


def significance(inputs: Inputs) -> Section | None:
    """Each model against the most accurate one, and every pair: Holm-corrected, most accurate first."""
    sig = inputs.significance
    plan = [
        ("10_significance.png", "Pairwise tests, Holm-corrected: which accuracy differences are real",
         len(sig.pairs) > 0, lambda: pair_figures.significance_heatmap(sig.adjusted, sig.level, inputs.context),
         "The significance figure needs at least two models evaluated on the same test images: figure 10 was not drawn."),
    ]  # fmt: skip
    drawn = figures_for(inputs, plan)
    if not len(sig.pairs):
        return None
    inputs.files["significance.csv"] = sig.pairs.to_csv(index=False).encode()
    table = displays.display_significance(sig, inputs.summary)
    line = render.comparison_line(inputs.found, len(sig.pairs))
    return Section("significance", "Which differences are real", lines=(line,), tables=(Table(table),), figures=drawn)


def costs(inputs: Inputs) -> Section:
    """The decision view: for each cost, the Pareto set, as budgets and as figures."""
    s, colours, context = inputs.summary, inputs.colours, inputs.context
    has_latency = bool(s["latency_p50_ms"].notna().any())
    has_inference = has_latency or bool(s["throughput_img_s"].notna().any())
    plan = [
        ("04_complexity.png", "Complexity vs accuracy: what the extra parameters buy", True,
         lambda: cost_figures.complexity_scatter(s, colours, context), ""),
        ("06_pareto.png", "Accuracy against each cost, with its Pareto front: what to pick for a budget", True,
         lambda: cost_figures.pareto_panels(s, colours, verdicts.COSTS, context), ""),
        ("07_inference.png", "Inference: batch-1 latency (p50/p99) and batched throughput", has_inference,
         lambda: figures.inference_bars(s, colours, context),
         "No latency or throughput cases in these runs: figure 7 was not drawn."),
        ("08_accuracy_vs_latency.png", "Accuracy vs latency: the models worth deploying (Pareto front)", has_latency,
         lambda: cost_figures.accuracy_vs_latency(s, colours, context),
         "No latency cases in these runs: figure 8 was not drawn."),
    ]  # fmt: skip
    budgets = displays.display_budgets(inputs.found.get("pareto", {}))
    line = (
        "On each front no other model is both cheaper (or faster) and more accurate; within each budget, the "
        "most accurate model is the one named. Accuracy differences within the tied-with-best set are not "
        "established (see above)."
    )
    return Section("costs", "What to pick for a budget", lines=(line,), tables=(Table(budgets),),
                   figures=figures_for(inputs, plan))  # fmt: skip


def time_to_target(inputs: Inputs) -> Section | None:
    """AlgoPerf-style: training time to each accuracy target, and the performance profiles."""
    ttt = compute.time_to_target(inputs.items)
    if ttt.empty or not np.isfinite(ttt.to_numpy()).any():
        inputs.notes.append("No model reached any validation-accuracy target in these runs: figure 13 was not drawn.")
        return None
    finite = ttt.to_numpy()[np.isfinite(ttt.to_numpy())]
    top = max(2.0, float(finite.max() / max(finite.min(), 1e-9)) * 1.2)
    taus = np.unique(np.geomspace(1, top, 200))
    _, by_target = verdicts.performance_profile(ttt, taus)
    inputs.files["time_to_target.csv"] = ttt.rename_axis("model").to_csv().encode()
    drawn = figure(
        inputs,
        "13_time_to_target.png",
        "Time to target: performance profiles of training time to each validation accuracy",
        lambda: cost_figures.time_to_target(ttt, by_target, inputs.colours, inputs.context),
    )
    line = (
        "Training seconds until validation accuracy first reached each target (median over seeds; a seed that "
        "never did counts as never), and, in the figure, AlgoPerf's performance profile: for each target, the "
        "share of models that reached it within τ× the fastest model's time."
    )
    table = Table(displays.display_time_to_target(ttt))
    return Section("time_to_target", "Time to target", lines=(line,), tables=(table,), figures=drawn)


def learning(inputs: Inputs) -> Section | None:
    curves = compute.learning_curves(inputs.items)
    plan = [
        ("05_learning_curves.png", "Learning curves: over- or under-fitting, and when to stop", len(curves) > 0,
         lambda: figures.learning_curves(curves, inputs.colours, inputs.context),
         "No per-epoch history in these runs: figure 5 was not drawn."),
    ]  # fmt: skip
    drawn = figures_for(inputs, plan)
    return Section("learning", "How they learn", figures=drawn) if drawn else None


def classes(inputs: Inputs) -> Section:
    matrices = {v.label: np.sum([r.outcome.test.confusion for r in v.seeds()], axis=0) for v in inputs.items}
    plan = [
        ("03_per_class.png", "Per-class accuracy: which classes each model finds hard", True,
         lambda: figures.per_class_heatmap(inputs.per_class, inputs.context), ""),
        ("09_confusion.png", "Confusion matrices: which classes are mistaken for which", True,
         lambda: figures.confusion_matrices(matrices, inputs.classes, inputs.context), ""),
    ]  # fmt: skip
    return Section("classes", "What each model gets wrong", figures=figures_for(inputs, plan))
