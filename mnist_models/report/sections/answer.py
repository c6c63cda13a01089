"""The answer first: what to pick, as one table, and how to read it, explained once (the cells link here)."""

from __future__ import annotations

from ..page.content import Section, Table
from . import tables
from .inputs import Inputs, Part
from .registry import register_section

HOW_TO_READ = (
    "**cost**: latency is the batch-1 p50 on eager PyTorch, then on each model's fastest runtime that agrees with "
    "eager (named in the row); throughput is batched images/s; training time is the whole run's; peak memory is a fresh process's, "
    "serving one image (docs/memory.md).",
    "**pick**: the most accurate model within the budget (point estimates): the Pareto front the figure draws. "
    "No model cheaper than a pick is as accurate.",
    "**gain**, **Holm p**, **verdict**: what the step up from the cheaper pick in the row above buys in accuracy; "
    "significant when Holm's p over every pair is below 0.05. Not established: the cheaper pick may be as good.",
    "**detectable**: the smallest gain that step's test would have found with 80% power; a smaller one could hide.",
    "**tied for most accurate**: no other model is significantly more accurate than these; with 95% confidence the "
    "most accurate is among them.",
    "**test acc (95% CI)**: accuracy on the test images with its 95% interval (Wilson for one seed; over seeds "
    "and test images for several).",
    "**cost CI**: the cost's 95% interval, from the spread between fresh processes (latency, throughput) or between seeds (training "
    "time); peak memory is ± its measurement's resolution; parameters and FLOPs are exact.",
    "**not told apart from**: models whose cost interval overlaps the pick's and whose accuracy is not "
    "significantly different from it.",
    "**–**: not measured in this run, or nothing to name.",
)


@register_section("answer", order=1)
def answer(inputs: Inputs) -> Part | None:
    """The answer table: the most accurate model(s), then each cost's picks (``tables.display_answer``)."""
    found = inputs.found
    if found is None:
        return None
    who = f"**{found.best_model}**" + "".join(f", **{m}**" for m in found.tied_with_best)
    line = f"Under the {found.scope}: {found.best_verdict}: {who}."
    table = tables.display_answer(found)
    return Part(Section("answer", "The answer", lines=(line,), tables=(Table(table),)))


@register_section("how", order=2)
def how_to_read(inputs: Inputs) -> Part | None:
    """What each column of the answer means, said once."""
    if inputs.found is None:
        return None
    return Part(Section("how-to-read-this", "How to read this", lines=HOW_TO_READ))
