"""The report's sections of the groups that compare variants of the work (engine, levers, runtimes), of
restored weights, and of the run against a stored baseline."""

from __future__ import annotations

from ..results.record import AGREEMENT_TOLERANCE
from . import compute, displays, gate, group_tables, pair_figures
from .content import Figure, Section, Table
from .inputs import Inputs, figure


def runtimes(inputs: Inputs) -> Section | None:
    """Model x runtime: latency, throughput and their speedups over eager, agreement, conversion costs."""
    table = inputs.runtimes
    if table.empty:
        return None
    inputs.files["runtimes.csv"] = table.to_csv(index=False).encode()
    best = group_tables.best_runtimes(table)
    inputs.found["best_runtime"] = {
        r.model: {"runtime": r.best_runtime, "latency_p50_ms": float(r.best_latency_p50_ms)} for r in best.itertuples()
    }
    failing = table[table["agreement"] < AGREEMENT_TOLERANCE]
    lines = [
        "Each runtime's predictions are checked against eager PyTorch's on every test image before its speed "
        f"counts: below {AGREEMENT_TOLERANCE:.1%} top-1 agreement its benchmark fails. Speedups divide by the "
        "same model's eager figures from the same run.",
        "Fastest runtime at batch 1, per model: "
        + "; ".join(f"{r.model}: **{r.best_runtime}** ({r.best_latency_p50_ms:.3f} ms)" for r in best.itertuples())
        + ".",
    ]
    if len(failing):
        lines.append(
            "Disagreeing with eager (benchmarks failed): "
            + ", ".join(f"{r.model} on {r.runtime} ({r.agreement:.2%})" for r in failing.itertuples())
            + "."
        )
    drawn = figure(
        inputs,
        "14_runtimes.png",
        "Runtimes: batch-1 latency and batched throughput of each runtime, relative to eager PyTorch",
        lambda: pair_figures.runtime_bars(table, inputs.context),
    )
    return Section("runtimes", "Runtimes: where the models are shipped", lines=tuple(lines),
                   tables=(Table(displays.display_runtimes(table)),), figures=drawn)  # fmt: skip


def engine(inputs: Inputs) -> Section | None:
    table = group_tables.engine_table(inputs.items)
    if not len(table):
        return None
    inputs.found["engine_speedup"] = {m: float(s) for m, s in zip(table["model"], table["speedup"], strict=True)}
    drawn = figure(
        inputs,
        "11_engine.png",
        "Engine: our training loop against the notebook-style loop (images/s)",
        lambda: pair_figures.engine_bars(table, inputs.colours, inputs.context),
    )
    return Section("engine", "Engine: our training loop vs the notebook's", tables=(Table(displays.display_engine(table)),),
                   figures=drawn)  # fmt: skip


def restore(inputs: Inputs) -> Section | None:
    table = group_tables.restore_table(inputs.items)
    if not len(table):
        return None
    inputs.files["restore.csv"] = table.to_csv(index=False).encode()
    inputs.found["best_minus_last_pp"] = {
        f"{row.model} | seed {row.seed}": float(row.best_minus_last_pp) for row in table.itertuples()
    }
    heading = "Restored best epoch vs last epoch (the original notebook reported the last)"
    return Section("restore", heading, tables=(Table(displays.display_restore(table)),))


def levers(inputs: Inputs) -> Section | None:
    table = group_tables.lever_table(inputs.items)
    if not len(table):
        return None
    inputs.files["levers.csv"] = table.to_csv(index=False).encode()
    inputs.found["lever_ratio"] = {
        f"{m} | {lv}": float(r) for m, lv, r in zip(table["model"], table["lever"], table["ratio"], strict=True)
    }
    drawn = figure(
        inputs,
        "12_levers.png",
        "Levers: each engine setting changed on its own, images/s relative to the unchanged case",
        lambda: pair_figures.lever_heatmap(table, inputs.context),
    )
    heading = "Levers: variant images/s ÷ unchanged images/s (below 1: the default pays)"
    return Section("levers", heading, tables=(Table(displays.display_levers(table)),), figures=drawn)


def against_baseline(inputs: Inputs) -> tuple[Section | None, Section | None, list[str] | None]:
    """The machines of the two runs, the comparison table and figure, and the gate's failures."""
    baseline, current = inputs.baseline, inputs.runs[-1]
    if baseline is None:
        return None, None, None
    comparison = gate.compare_runs(baseline, current)
    failures = gate.gate(comparison, inputs.rules, baseline, current) if inputs.rules else None
    inputs.files["comparison.csv"] = comparison.to_csv(index=False).encode()
    machines = gate.machines_table(baseline, current)
    same = "on the same kind of machine" if gate.same_machine(baseline, current) else "on different machines"
    inputs.notes.append(gate.UNPAIRED_NOTE.format(machines=same))
    drawn: tuple[Figure, ...] = ()
    if (comparison["status"] == "both").any():
        title = f"{compute.short_name(baseline.name)} → {compute.short_name(current.name)} · {inputs.context}"
        caption = f"Delta: {current.name} against baseline {baseline.name}"
        drawn = figure(inputs, "comparison.png", caption, lambda: pair_figures.comparison_bars(comparison, title))
    inputs.notes.extend(gate.membership_notes(comparison, baseline, current))
    machines_section = Section(
        "machines", "Machines of the two runs (an unpaired comparison)", tables=(Table(machines),)
    )
    shown = displays.display_comparison(comparison)
    tables = (Table(shown),) if not shown.empty else ()
    return machines_section, Section("baseline", "Against the baseline", tables=tables, figures=drawn), failures
