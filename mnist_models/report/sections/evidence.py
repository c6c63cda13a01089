"""The report's sections on evidence: which differences are real, what to pick for a budget, time to
target, what each model gets wrong, how it learns."""

from __future__ import annotations

import numpy as np

from ..figures import basic, costs, pairs
from ..page.content import Section, Table
from ..tables import budgets, compute, verdicts
from . import tables, text
from .inputs import Drawing, Inputs, Part, draw
from .registry import register_section


@register_section("significance", order=20, figures=("significance",))
def significance(inputs: Inputs) -> Part | None:
    """Each model against the most accurate one, and every pair: Holm-corrected, most accurate first."""
    sig = inputs.significance
    figures, notes = draw(inputs, Drawing(
        "significance", "Pairwise tests, Holm-corrected: which accuracy differences are real",
        lambda: pairs.significance_heatmap(sig.adjusted, sig.level), supported=len(sig.pairs) > 0,
        missing="The significance figure needs at least two models evaluated on the same test images: it was not drawn.",
    ))  # fmt: skip
    if not len(sig.pairs):
        return Part(None, notes=notes)
    table = tables.display_significance(sig, inputs.summary)
    claims = inputs.found.seeds_for_an_architecture_claim if inputs.found else None
    lines = (text.comparison_line(inputs.found, len(sig.pairs)), *((text.claims_sentence(claims),) if claims else ()))
    section = Section("significance", "Which differences are real", lines=lines, tables=(Table(table),),
                      figures=figures)  # fmt: skip
    return Part(section, files={"significance.csv": sig.pairs.to_csv(index=False).encode()}, notes=notes)


@register_section("costs", order=30, figures=("complexity", "pareto", "inference", "accuracy_vs_latency"))
def decision_view(inputs: Inputs) -> Part:
    """The decision view: for each cost, the Pareto set, as budgets and as figures."""
    s, colours = inputs.summary, inputs.colours
    has_latency = bool(s["latency_p50_ms"].notna().any())
    has_inference = has_latency or bool(s["throughput_img_s"].notna().any())
    figures, notes = draw(
        inputs,
        Drawing("complexity", "Complexity vs accuracy: what the extra parameters buy",
                lambda: costs.complexity_scatter(s, colours)),
        Drawing("pareto", "Accuracy against each cost, with its Pareto front: what to pick for a budget",
                lambda: costs.pareto_panels(s, colours, budgets.COSTS)),
        Drawing("inference", "Inference: batch-1 latency (p50/p99) and batched throughput",
                lambda: basic.inference_bars(s, colours), supported=has_inference,
                missing="No latency or throughput cases in these runs: the inference figure was not drawn."),
        Drawing("accuracy_vs_latency", "Accuracy vs latency: the models worth deploying (Pareto front)",
                lambda: costs.accuracy_vs_latency(s, colours), supported=has_latency,
                missing="No latency cases in these runs: the accuracy-vs-latency figure was not drawn."),
    )  # fmt: skip
    line = "The picks for each budget, and what the run cannot tell apart, are [the answer](#answer)'s."
    section = Section("costs", "What accuracy costs", lines=(line,), figures=figures)
    return Part(section, notes=notes)


@register_section("time_to_target", order=40, figures=("time_to_target",))
def time_to_target(inputs: Inputs) -> Part:
    """AlgoPerf-style: training time to each accuracy target, and the performance profiles."""
    ttt = compute.time_to_target(inputs.items)
    if ttt.empty or not np.isfinite(ttt.to_numpy()).any():
        return Part(None, notes=("No model reached any validation-accuracy target in these runs: the time-to-target "
                                 "figure was not drawn.",))  # fmt: skip
    finite = ttt.to_numpy()[np.isfinite(ttt.to_numpy())]
    top = max(2.0, float(finite.max() / max(finite.min(), 1e-9)) * 1.2)
    taus = np.unique(np.geomspace(1, top, 200))
    _, by_target = verdicts.performance_profile(ttt, taus)
    figures, _ = draw(inputs, Drawing(
        "time_to_target", "Time to target: performance profiles of training time to each validation accuracy",
        lambda: costs.time_to_target(ttt, by_target, inputs.colours),
    ))  # fmt: skip
    line = (
        "Training seconds until validation accuracy first reached each target (median over seeds; never: a seed "
        "that never did). The figure is AlgoPerf's performance profile."
    )
    section = Section("time_to_target", "Time to target", lines=(line,),
                      tables=(Table(tables.display_time_to_target(ttt)),), figures=figures)  # fmt: skip
    return Part(section, files={"time_to_target.csv": ttt.rename_axis("model").to_csv().encode()})


@register_section("classes", order=50, figures=("per_class", "confusion"))
def classes(inputs: Inputs) -> Part:
    matrices = {v.label: np.sum([r.outcome.test.confusion for r in v.seeds()], axis=0) for v in inputs.items}
    figures, _ = draw(
        inputs,
        Drawing("per_class", "Per-class accuracy: which classes each model finds hard",
                lambda: basic.per_class_heatmap(inputs.per_class)),
        Drawing("confusion", "Confusion matrices: which classes are mistaken for which",
                lambda: basic.confusion_matrices(matrices, inputs.classes)),
    )  # fmt: skip
    return Part(Section("classes", "What each model gets wrong", figures=figures, detail=True))


@register_section("learning", order=60, figures=("learning_curves",))
def learning(inputs: Inputs) -> Part:
    curves = compute.learning_curves(inputs.items)
    figures, notes = draw(inputs, Drawing(
        "learning_curves", "Learning curves: over- or under-fitting, and when to stop",
        lambda: basic.learning_curves(curves, inputs.colours), supported=bool(basic.curve_models(curves)),
        missing="No model has more than one epoch of history in these runs (a curve of one point each): the "
        "learning-curves figure was not drawn.",
    ))  # fmt: skip
    return Part(Section("learning", "How they learn", figures=figures, detail=True) if figures else None, notes=notes)
