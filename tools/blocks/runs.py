"""Blocks made from committed runs: the sample run's (reports/sample) results table, runtimes, engine and levers;
the memory run's peaks (reports/memory); the int8 run's quantized table (reports/int8)."""

from __future__ import annotations

import pandas as pd

from mnist_models.report.sections import tables as displays
from mnist_models.report.tables import compute
from mnist_models.report.tables import groups as group_tables
from mnist_models.report.tables.quantized import quantized_table

from .common import NOTEBOOK, acc, machine_line, num, percent, run_link, runs_of, table

SAMPLE = "reports/sample/[0-9]*.json"
MEMORY = "reports/memory/[0-9]*.json"
INT8 = "reports/int8/[0-9]*.json"


def results(pattern: str = SAMPLE) -> str:
    """One seed of every built-in model: accuracy, training time, inference, training throughput."""
    runs = runs_of(pattern)
    summary = compute.summary_table(compute.variants(runs))
    rows = []
    for _, r in summary.iterrows():
        book = NOTEBOOK.get(r.model)
        rows.append(
            {
                "model": f"`{r.model}`",
                "params": f"{r.params:,}",
                "epochs": num(r.epochs, ".0f"),
                "test accuracy (95% CI)": acc(r),
                "train s": num(r.train_time_s, ".1f"),
                "latency p50 / p99 (ms)": f"{num(r.latency_p50_ms, '.3f')} / {num(r.latency_p99_ms, '.3f')}",
                "throughput (img/s)": num(r.throughput_img_s, ",.0f"),
                "train step img/s (% peak)": f"{num(r.train_step_img_s, ',.0f')} ({percent(r.train_step_peak_fraction)})",
                "notebook (full, GPU)": f"{book[0]}: {book[1]:.2%}" if book else "–",
            }
        )
    return machine_line(runs) + table(rows)


def engine(pattern: str = SAMPLE) -> str:
    """Our training loop against the notebook-style loop, same work."""
    runs = runs_of(pattern)
    items = compute.variants(runs)
    engine_rows, summary = group_tables.engine_table(items), compute.summary_table(items).set_index("model")
    rows = [
        {
            "model": f"`{r.model}`",
            "notebook loop img/s": f"{r.notebook_img_s:,.0f}",
            "our engine img/s": f"{r.ours_img_s:,.0f}",
            "speedup": f"{r.speedup:.2f}×",
            "train step % of peak": percent(summary.loc[r.model, "train_step_peak_fraction"]),
            "throughput % of peak": percent(summary.loc[r.model, "throughput_peak_fraction"]),
        }
        for r in engine_rows.itertuples()
    ]
    return machine_line(runs) + table(rows)


def levers(pattern: str = SAMPLE) -> str:
    """Each engine setting changed on its own: the variant's images/s over the unchanged work's."""
    runs = runs_of(pattern)
    table = displays.display_levers(group_tables.lever_table(compute.variants(runs)))
    table["model"] = table["model"].map(lambda m: f"`{m}`")
    return machine_line(runs) + table.replace("", "–").to_markdown(index=False, disable_numparse=True) + "\n"


def runtimes(pattern: str = SAMPLE) -> str:
    """Every model on every runtime of the run: latency, throughput and their ratios to eager, agreement."""
    runs = runs_of(pattern)
    table = displays.display_runtimes(group_tables.runtime_table(compute.variants(runs)))
    table["model"] = table["model"].map(lambda m: f"`{m}`")
    return machine_line(runs) + table.to_markdown(index=False, disable_numparse=True) + "\n"


def runtime_ratios(pattern: str = SAMPLE) -> str:
    """One row per model: eager's batch-1 p50 and batch-512 throughput, and each other runtime's ratio to them."""
    runs = runs_of(pattern)
    table = displays.display_runtimes(group_tables.runtime_table(compute.variants(runs)))
    eager = table[table["runtime"] == "eager"].set_index("model")
    wide = pd.DataFrame({"model": [f"`{m}`" for m in eager.index], "eager p50 ms": eager["p50 / p99 ms"].str.split(" / ").str[0],
                         "eager img/s": eager["img/s"]})  # fmt: skip
    for runtime in [r for r in dict.fromkeys(table["runtime"]) if r != "eager"]:
        rows = table[table["runtime"] == runtime].set_index("model").reindex(eager.index)
        wide[f"{runtime}: latency"] = rows["latency vs eager"].fillna("–").to_numpy()
        wide[f"{runtime}: throughput"] = rows["throughput vs eager"].fillna("–").to_numpy()
    return machine_line(runs) + wide.to_markdown(index=False, disable_numparse=True) + "\n"


def memory(pattern: str = MEMORY) -> str:
    """Per model: the peak of its optimiser steps, and per runtime the batch-1 and batched inference peaks."""
    runs = runs_of(pattern)
    items = compute.variants(runs)
    summary = compute.summary_table(items).set_index("model")
    by_runtime = group_tables.runtime_table(items)
    if by_runtime.empty:  # eager only: the summary's columns are eager's
        by_runtime = summary.reset_index().assign(runtime="eager")
    by_runtime = by_runtime[by_runtime["latency_peak_mib"].notna() | by_runtime["throughput_peak_mib"].notna()]
    if by_runtime.empty:
        raise SystemExit(f"readme_tables: the runs of {pattern} hold no memory benchmark")
    peaks = by_runtime.set_index(["model", "runtime"])
    rows = []
    for model, r in summary.iterrows():
        row = {"model": f"`{model}`", "params": f"{r.params:,}", "train step MiB": num(r.train_peak_mib, ".2f")}
        for runtime in dict.fromkeys(by_runtime["runtime"]):
            p = peaks.loc[(model, runtime)] if (model, runtime) in peaks.index else None
            cell = "–" if p is None else f"{num(p.latency_peak_mib, '.2f')} / {num(p.throughput_peak_mib, '.2f')}"
            row[f"{runtime}: batch 1 / batched MiB"] = cell
        rows.append(row)
    return machine_line(runs) + table(rows)


def quantized(pattern: str = INT8) -> str:
    """Per model quantized: fp32 and int8 accuracy, McNemar with Holm, agreement, speed and size ratios."""
    runs = runs_of(pattern)
    quantized = quantized_table(group_tables.runtime_table(compute.variants(runs)))
    if quantized.empty:
        raise SystemExit(f"readme_tables: the runs of {pattern} hold no quantized runtime checked against eager")
    shown = displays.display_quantized(quantized)
    shown["model"] = shown["model"].map(lambda m: f"`{m}`")
    return machine_line(runs) + shown.to_markdown(index=False, disable_numparse=True) + "\n"


def memory_sessions(first: str = MEMORY, second: str = "reports/memory/second-session/[0-9]*.json") -> str:
    """The memory run's figures against the same command's in a second session: the largest change, and the
    memory gate between the two."""
    from mnist_models.groups.memory.spec import RESOLUTION_MIB
    from mnist_models.report.gate import GateRule, compare_runs, gate
    from mnist_models.results.groups import gated_columns

    [base], [again] = runs_of(first), runs_of(second)
    comparison = compare_runs(base, again)
    both = comparison[comparison["status"] == "both"]
    changes = []
    for _, column in gated_columns()["memory"]:
        rows = both[both[f"base_{column.column}"].notna()]
        for _, row in rows.iterrows():
            what = f"{row['model']}, {row['benchmark']}" + (f" on {row['runtime']}" if row.get("runtime") else "")
            changes.append((abs(row[f"current_{column.column}"] - row[f"base_{column.column}"]), what, column.label))
    if not changes:
        raise SystemExit(f"readme_tables: {first} and {second} share no memory benchmark")
    largest, benchmark, column = max(changes)
    failures = gate(comparison, [GateRule.parse("memory:20%")], base, again)
    verdict = "passes" if not failures else f"fails ({len(failures)} benchmarks)"
    return (
        f"Run again in a second session ({run_link(again)}), the {len(changes)} peaks moved by at most "
        f"{largest:.2f} MiB ({benchmark}, {column}), against the stated resolution of {RESOLUTION_MIB:g} MiB; "
        f"`--fail-on memory:20%` between the two sessions {verdict}.\n"
    )
