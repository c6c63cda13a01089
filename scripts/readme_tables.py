"""The README's and docs' result tables, regenerated from the runs committed in reports/: never copied by hand.

    python scripts/readme_tables.py            # rewrite every generated block in README.md and docs/*.md
    python scripts/readme_tables.py --check    # exit 1 (naming the blocks) if any block differs from its runs

A block sits between ``<!-- BEGIN generated:NAME -->`` and ``<!-- END generated:NAME -->``; its
content is made by the function ``NAME`` below from the runs it names, with the report's own
code (the same numbers as the reports in reports/), so a table can only say what a committed run
says. tests/test_docs.py runs ``--check``.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from mnist_models.report.sections import tables as displays
from mnist_models.report.sections import text as render
from mnist_models.report.tables import compute, significance
from mnist_models.report.tables import groups as group_tables
from mnist_models.results.runs import Run, load_run
from mnist_models.stats.paired import mcnemar_p

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(
    r"(<!-- BEGIN generated:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- END generated:(?P=name) -->)", re.S
)

# The original notebook's own results (its README; shared/reference): name, test accuracy, epochs run / best.
NOTEBOOK = {
    "cnn_128_256_fc256_128": ("Very Big CNN", 0.9932, 18, 8),
    "cnn_32_64_fc128_64_32": ("CNN (base)", 0.9913, 22, 12),
    "cnn_32_64_fc64": ("Small CNN", 0.9913, 18, 8),
    "cnn_64_128_fc150_64": ("Big CNN", 0.9910, 16, 6),
    "mlp_1500_1024_256_128": ("Very Big MLP", 0.9830, 16, 6),
    "mlp_256_128": ("Wider MLP", 0.9805, 17, 7),
    "mlp_1024_128_64": ("Big MLP", 0.9801, 16, 6),
    "mlp_512_384_256_128_64": ("Wider-Deeper MLP", 0.9780, 16, 6),
    "mlp_128_64": ("Deeper MLP", 0.9771, 17, 7),
    "mlp_64": ("Shallow MLP", 0.9751, 24, 14),
}


def _runs(pattern: str) -> list[Run]:
    paths = sorted(ROOT.glob(pattern))
    if not paths:
        raise SystemExit(f"readme_tables: no committed run matches {pattern}")
    return [load_run(p) for p in paths]


def _table(rows: list[dict]) -> str:
    return pd.DataFrame(rows).to_markdown(index=False, disable_numparse=True) + "\n"


def _machine(runs: list[Run]) -> str:
    """Which machine a table was measured on, from its run: no time is published without its CPU."""
    from mnist_models.results import machine

    parts = []
    for run in runs:
        facts = machine.facts(run.machine, run.datetime)
        where = facts["device"] if facts["device"] not in ("?", facts["CPU"]) else f"{facts['CPU']} ({facts['ISA']})"
        parts.append(
            f"`{run.name}`: {where}, {facts['threads']} threads, torch {facts['torch']}, "
            f"measured fp32 matmul peak {facts['measured fp32 matmul peak']}, {facts['run at'][:10]}"
        )
    return "Measured in " + "; ".join(parts) + ".\n\n"


def _num(value, fmt: str) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, fmt)


def _acc(row) -> str:
    return f"{row.test_accuracy:.2%} ({row.ci_low:.2%}–{row.ci_high:.2%})"


def results(pattern: str = "reports/sample/[0-9]*.json") -> str:
    """One seed of every built-in model: accuracy, training time, inference, training throughput."""
    runs = _runs(pattern)
    summary = compute.summary_table(compute.variants(runs))
    rows = []
    for _, r in summary.iterrows():
        book = NOTEBOOK.get(r.model)
        rows.append(
            {
                "model": f"`{r.model}`",
                "params": f"{r.params:,}",
                "epochs": _num(r.epochs, ".0f"),
                "test accuracy (95% CI)": _acc(r),
                "train s": _num(r.train_time_s, ".1f"),
                "latency p50 / p99 (ms)": f"{_num(r.latency_p50_ms, '.3f')} / {_num(r.latency_p99_ms, '.3f')}",
                "throughput (img/s)": _num(r.throughput_img_s, ",.0f"),
                "train step img/s (% peak)": f"{_num(r.train_step_img_s, ',.0f')} ({render._percent(r.train_step_peak_fraction)})",
                "notebook (full, GPU)": f"{book[0]}: {book[1]:.2%}" if book else "–",
            }
        )
    return _machine(runs) + _table(rows)


def engine(pattern: str = "reports/sample/[0-9]*.json") -> str:
    """Our training loop against the notebook-style loop, same work."""
    runs = _runs(pattern)
    items = compute.variants(runs)
    table, summary = group_tables.engine_table(items), compute.summary_table(items).set_index("model")
    rows = [
        {
            "model": f"`{r.model}`",
            "notebook loop img/s": f"{r.notebook_img_s:,.0f}",
            "our engine img/s": f"{r.ours_img_s:,.0f}",
            "speedup": f"{r.speedup:.2f}×",
            "train step % of peak": render._percent(summary.loc[r.model, "train_step_peak_fraction"]),
            "throughput % of peak": render._percent(summary.loc[r.model, "throughput_peak_fraction"]),
        }
        for r in table.itertuples()
    ]
    return _machine(runs) + _table(rows)


def levers(pattern: str = "reports/sample/[0-9]*.json") -> str:
    """Each engine setting changed on its own: the variant's images/s over the unchanged work's."""
    runs = _runs(pattern)
    table = displays.display_levers(group_tables.lever_table(compute.variants(runs)))
    table["model"] = table["model"].map(lambda m: f"`{m}`")
    return _machine(runs) + table.replace("", "–").to_markdown(index=False, disable_numparse=True) + "\n"


def runtimes(pattern: str = "reports/sample/[0-9]*.json") -> str:
    """Every model on every runtime of the run: latency, throughput and their ratios to eager, agreement."""
    runs = _runs(pattern)
    table = displays.display_runtimes(group_tables.runtime_table(compute.variants(runs)))
    table["model"] = table["model"].map(lambda m: f"`{m}`")
    return _machine(runs) + table.to_markdown(index=False, disable_numparse=True) + "\n"


def runtime_ratios(pattern: str = "reports/sample/[0-9]*.json") -> str:
    """One row per model: eager's batch-1 p50 and batch-512 throughput, and each other runtime's ratio to them."""
    runs = _runs(pattern)
    table = displays.display_runtimes(group_tables.runtime_table(compute.variants(runs)))
    eager = table[table["runtime"] == "eager"].set_index("model")
    wide = pd.DataFrame({"model": [f"`{m}`" for m in eager.index], "eager p50 ms": eager["p50 / p99 ms"].str.split(" / ").str[0],
                         "eager img/s": eager["img/s"]})  # fmt: skip
    for runtime in [r for r in dict.fromkeys(table["runtime"]) if r != "eager"]:
        rows = table[table["runtime"] == runtime].set_index("model").reindex(eager.index)
        wide[f"{runtime}: latency"] = rows["latency vs eager"].fillna("–").to_numpy()
        wide[f"{runtime}: throughput"] = rows["throughput vs eager"].fillna("–").to_numpy()
    return _machine(runs) + wide.to_markdown(index=False, disable_numparse=True) + "\n"


def full(pattern: str = "reports/full/full-*.json") -> str:
    """The notebook's protocol: seed 0's restored best weights and last epoch, and the three seeds' medians."""
    runs = _runs(pattern)
    items = compute.variants(runs)
    merged = {}
    for v in items:
        merged.setdefault(v.model, []).extend(r for r in v.seeds())
    rows = []
    for model, (name, acc, epochs, best) in NOTEBOOK.items():
        records = sorted(merged.get(model, []), key=lambda r: r.seed)
        if not records:
            continue
        first = records[0].outcome
        last = first.last_epoch_scores
        p = mcnemar_p(first.test.predictions, last.predictions, first.test.labels)
        bests = [r.outcome.test.accuracy for r in records]
        lasts = [r.outcome.last_epoch_scores.accuracy for r in records]
        rows.append(
            {
                "notebook model": name,
                "ours": f"`{model}`",
                "notebook: test acc (epochs run / best)": f"{acc:.2%} ({epochs} / {best})",
                "ours, seed 0: restored best (95% CI)": f"{first.test.accuracy:.2%} ({first.test.ci_low:.2%}–{first.test.ci_high:.2%})",
                "last epoch": f"{last.accuracy:.2%}",
                "best − last (McNemar p)": f"{(first.test.accuracy - last.accuracy) * 100:+.2f} pp (p={p:.2g})",
                "epochs run / best": f"{first.epochs_run} / {first.best_epoch}",
                f"{len(records)} seeds, median: best / last": f"{pd.Series(bests).median():.2%} / {pd.Series(lasts).median():.2%}",
            }
        )
    return _machine(runs) + _table(rows)


def seeds(pattern: str = "reports/seeds/[0-9]*.json") -> str:
    """Architectures over several seeds: mean and spread, and each one against the most accurate."""
    runs = _runs(pattern)
    items = compute.variants(runs)
    summary = compute.summary_table(items)
    sig = significance.significance(items, list(summary["model"]))
    against = displays.display_significance(sig, summary).set_index("model") if len(summary) > 1 else pd.DataFrame()
    rows = []
    for _, r in summary.iterrows():
        accs = next(v for v in items if v.label == r.model).seeds()
        row = {
            "model": f"`{r.model}`",
            "seeds": ", ".join(f"{s.outcome.test.accuracy:.2%}" for s in accs),
            "mean ± sd": f"{r.test_accuracy:.2%} ± {r.accuracy_std:.2%}",
            "train s (median)": _num(r.train_time_s, ".1f"),
        }
        if r.model in against.index:
            a = against.loc[r.model]
            row.update({"below the best": a.iloc[1], "Holm p (all pairs)": a["Holm p (all pairs)"],
                        "detectable (80%)": a["detectable (80%)"], "ranks first": a["ranks first"],
                        "verdict": a["verdict"]})  # fmt: skip
        else:
            row.update({"below the best": "–", "Holm p (all pairs)": "–", "detectable (80%)": "–",
                        "ranks first": f"{sig.first.get(r.model, 0):.0%}", "verdict": "the most accurate"})  # fmt: skip
        rows.append(row)
    return _machine(runs) + _table(rows)


def gate_power(path: str = "reports/gate-power/gate_power_groups.csv") -> str:
    """The A/B gate on identical code and with known slowdowns: per group, the benchmarks it flagged."""
    table = pd.read_csv(ROOT / path)
    rows = [
        {
            "injected slowdown": f"+{r.slowdown_pct}%",
            "group": r.group,
            "comparisons": r.comparisons,
            "comparisons failed": f"{r.comparisons_failed} ({r.comparisons_failed / r.comparisons:.0%})",
            "benchmarks flagged": f"{r.flagged} of {r.benchmarks} ({r.flagged / r.benchmarks:.0%})",
            "widest 95% interval": r.widest_interval,
        }
        for r in table.itertuples()
    ]
    how = (ROOT / path).with_name("gate_power.md").read_text(encoding="utf-8").splitlines()[0]  # gate and CPU
    return how + "\n\n" + _table(rows)


def history_power(path: str = "reports/history/power.csv") -> str:
    """The change-point detector on synthetic series drawn from this project's measured noise."""
    table = pd.read_csv(ROOT / path)
    rows = [
        {
            "noise": r.noise,
            "step": f"+{r.step:.0%}",
            "series (20 points, step after the 10th)": r.series,
            "with any change point": f"{r.with_change} ({r.with_change / r.series:.1%})",
            "with a regression step": f"{r.with_regression} ({r.with_regression / r.series:.1%})",
            "of those, within one commit": f"{r.within_one_commit / r.with_regression:.0%}"
            if r.with_regression and r.step
            else "–",  # a step-free series has no true change point to be near
        }
        for r in table.itertuples()
    ]
    how = (ROOT / path).with_name("power.md").read_text(encoding="utf-8").splitlines()[0]  # the noise measured
    return how + "\n\n" + _table(rows)


BLOCKS: dict[str, Callable[[], str]] = {
    "results": results,
    "engine": engine,
    "levers": levers,
    "full": full,
    "seeds": seeds,
    "gate-power": gate_power,
    "runtimes": runtimes,
    "runtime-ratios": runtime_ratios,
    "history-power": history_power,
}


def regenerate(text: str) -> tuple[str, list[str]]:
    """``text`` with every generated block rebuilt, and the names of the blocks that changed."""
    changed = []

    def rebuild(match: re.Match) -> str:
        name = match["name"]
        if name not in BLOCKS:
            raise SystemExit(f"readme_tables: unknown block {name!r}; blocks are {', '.join(BLOCKS)}")
        body = BLOCKS[name]()
        if body != match["body"]:
            changed.append(name)
        return match.group(1) + body + match.group(4)

    return BLOCK.sub(rebuild, text), changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a block is out of date")
    args = parser.parse_args()
    stale = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        new, changed = regenerate(text)
        stale += [f"{page.relative_to(ROOT)}: {name}" for name in changed]
        if changed and not args.check:
            page.write_text(new, encoding="utf-8")
    if args.check and stale:
        print("out of date (run python scripts/readme_tables.py):", *stale, sep="\n  ")
        return 1
    print(("rewrote " if stale else "up to date: ") + (", ".join(stale) if stale else "every generated block"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
