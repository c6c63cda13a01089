"""The inference groups' part of the report: the runtimes section (model x runtime, speedups over eager,
agreement, conversion costs, what quantizing cost in accuracy beside its speed, and its figure)."""

from __future__ import annotations

from ...report.figures import pairs
from ...report.page.content import Section, Table
from ...report.sections import tables
from ...report.sections.inputs import Drawing, Inputs, Part, draw
from ...report.sections.registry import register_section
from ...report.tables import groups as group_tables
from ...report.tables.quantized import TEST, findings, quantized_table
from ...results.record import AGREEMENT_TOLERANCE


@register_section("runtimes", order=70, figures=("runtimes",))
def runtimes(inputs: Inputs) -> Part | None:
    """Model x runtime: latency, throughput and their speedups over eager, agreement, conversion costs."""
    table = inputs.runtimes
    if table.empty:
        return None
    best = group_tables.best_runtimes(table)
    found = {
        "best_runtime": {
            r.model: {"runtime": r.best_runtime, "latency_p50_ms": float(r.best_latency_p50_ms)}
            for r in best.itertuples()
        }
    }
    failing = table[table["agreement"] < table["agreement_floor"]]
    quantized = quantized_table(table)
    lines = [
        "Each runtime's predictions are checked against eager PyTorch's on every test image before its speed "
        f"counts: below {AGREEMENT_TOLERANCE:.1%} top-1 agreement (or the runtime's own floor, lower for a quantized "
        "one) its benchmark fails. Speedups divide by the same model's eager figures from the same run.",
        "Each ratio is eager's time over the runtime's (above 1×: faster); agreement is top-1 agreement with eager.",
    ]
    if not quantized.empty:
        found["quantized"] = findings(quantized)
        lines.append(f"Quantized models: {TEST}; {_tally(quantized)}.")
    if len(failing):
        lines.append(
            "Disagreeing with eager (benchmarks failed): "
            + ", ".join(f"{r.model} on {r.runtime} ({r.agreement:.2%})" for r in failing.itertuples())
            + "."
        )
    figures, _ = draw(inputs, Drawing(
        "runtimes", "Runtimes: batch-1 latency and batched throughput of each runtime, relative to eager PyTorch",
        lambda: pairs.runtime_bars(table),
    ))  # fmt: skip
    shown = (Table(tables.display_runtimes_by_model(table)),)
    if not quantized.empty:
        shown += (Table(tables.display_quantized(quantized), caption="What quantizing cost: accuracy beside speed"),)
    shown += (Table(tables.display_runtimes(table), caption="Every runtime's figures", collapsed=True),)
    section = Section("runtimes", "Runtimes: where the models are shipped", lines=tuple(lines), tables=shown,
                      figures=figures)  # fmt: skip
    files = {"runtimes.csv": table.to_csv(index=False).encode()}
    if not quantized.empty:
        files["quantized.csv"] = quantized.to_csv(index=False).encode()
    return Part(section, found, files)


def _tally(quantized) -> str:
    """How many quantized models came out worse, better, or not significantly changed."""
    counts = quantized["verdict"].value_counts()
    return ", ".join(f"{counts[v]} of {len(quantized)} {v}" for v in counts.index)
