"""The report's sections of the groups that compare variants of the work (runtimes, engine, levers), of
restored weights, and of the run against a stored baseline."""

from __future__ import annotations

from ...results.record import AGREEMENT_TOLERANCE
from .. import gate
from ..figures import pairs
from ..page.content import Section, Table
from ..tables import compute
from ..tables import groups as group_tables
from . import tables
from .inputs import Drawing, Inputs, Part, draw
from .registry import register_section


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
    failing = table[table["agreement"] < AGREEMENT_TOLERANCE]
    lines = [
        "Each runtime's predictions are checked against eager PyTorch's on every test image before its speed "
        f"counts: below {AGREEMENT_TOLERANCE:.1%} top-1 agreement its benchmark fails. Speedups divide by the "
        "same model's eager figures from the same run.",
        "Each ratio is eager's time over the runtime's (above 1×: faster); agreement is top-1 agreement with eager.",
    ]
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
    section = Section("runtimes", "Runtimes: where the models are shipped", lines=tuple(lines),
                      tables=(Table(tables.display_runtimes_by_model(table)),
                              Table(tables.display_runtimes(table), caption="Every runtime's figures", collapsed=True)),
                      figures=figures)  # fmt: skip
    return Part(section, found, {"runtimes.csv": table.to_csv(index=False).encode()})


@register_section("engine", order=80, figures=("engine",))
def engine(inputs: Inputs) -> Part | None:
    table = group_tables.engine_table(inputs.items)
    if not len(table):
        return None
    found = {"engine_speedup": {m: float(s) for m, s in zip(table["model"], table["speedup"], strict=True)}}
    figures, _ = draw(inputs, Drawing(
        "engine", "Engine: our training loop against the notebook-style loop (images/s)",
        lambda: pairs.engine_bars(table, inputs.colours),
    ))  # fmt: skip
    section = Section("engine", "Engine: our training loop vs the notebook's",
                      tables=(Table(tables.display_engine(table)),), figures=figures, detail=True)  # fmt: skip
    return Part(section, found)


@register_section("restore", order=90)
def restore(inputs: Inputs) -> Part | None:
    table = group_tables.restore_table(inputs.items)
    if not len(table):
        return None
    found = {
        "best_minus_last_pp": {
            f"{row.model} | seed {row.seed}": float(row.best_minus_last_pp) for row in table.itertuples()
        }
    }
    heading = "Restored best epoch vs last epoch (the original notebook reported the last)"
    section = Section("restore", heading, tables=(Table(tables.display_restore(table)),), detail=True)
    return Part(section, found, {"restore.csv": table.to_csv(index=False).encode()})


@register_section("levers", order=100, figures=("levers",))
def levers(inputs: Inputs) -> Part | None:
    table = group_tables.lever_table(inputs.items)
    if not len(table):
        return None
    found = {
        "lever_ratio": {
            f"{m} | {lv}": float(r) for m, lv, r in zip(table["model"], table["lever"], table["ratio"], strict=True)
        }
    }
    figures, _ = draw(inputs, Drawing(
        "levers", "Levers: each engine setting changed on its own, images/s relative to the unchanged case",
        lambda: pairs.lever_heatmap(table),
    ))  # fmt: skip
    heading = "Levers: variant images/s ÷ unchanged images/s (below 1: the default pays)"
    section = Section("levers", heading, tables=(Table(tables.display_levers(table)),), figures=figures, detail=True)
    return Part(section, found, {"levers.csv": table.to_csv(index=False).encode()})


@register_section("machines", order=110)
def machines(inputs: Inputs) -> Part | None:
    """The two runs' machines side by side, when the report compares a run with a stored baseline."""
    baseline, current = inputs.baseline, inputs.runs[-1]
    if baseline is None:
        return None
    same = "on the same kind of machine" if gate.same_machine(baseline, current) else "on different machines"
    section = Section("machines", "Machines of the two runs (an unpaired comparison)",
                      tables=(Table(gate.machines_table(baseline, current)),))  # fmt: skip
    return Part(section, notes=(gate.UNPAIRED_NOTE.format(machines=same),))


@register_section("baseline", order=120, figures=("comparison",))
def against_baseline(inputs: Inputs) -> Part | None:
    """The run against the stored baseline, benchmark by benchmark."""
    baseline, current, comparison = inputs.baseline, inputs.runs[-1], inputs.comparison
    if baseline is None or comparison is None:
        return None
    figures, _ = draw(inputs, Drawing(
        "comparison", f"Delta: {current.name} against baseline {baseline.name}",
        lambda: pairs.comparison_bars(comparison, compute.short_name(baseline.name), compute.short_name(current.name)),
        supported=bool((comparison["status"] == "both").any()),
    ))  # fmt: skip
    shown = tables.display_comparison(comparison)
    section = Section("baseline", "Against the baseline", tables=(Table(shown),) if not shown.empty else (),
                      figures=figures)  # fmt: skip
    return Part(section, files={"comparison.csv": comparison.to_csv(index=False).encode()},
                notes=tuple(gate.membership_notes(comparison, baseline, current)))  # fmt: skip
