"""Blocks of evidence: the seeds' table and the README's claims (reports/seeds, reports/auto-seeds, reports/sample),
the architecture test's calibration (reports/seed-test), the floors (scripts/floors.py), the process spread."""

from __future__ import annotations

import sys

import pandas as pd

from mnist_models.report.sections import tables as displays
from mnist_models.report.tables import budgets, compute, significance, verdicts
from mnist_models.report.tables import groups as group_tables

from .common import ROOT, machine_line, runs_of, table

SEEDS = "reports/seeds/[0-9]*.json"
AUTO = "reports/auto-seeds/[0-9]*.json"
SAMPLE = "reports/sample/[0-9]*.json"


def _evidence(pattern: str):
    runs = runs_of(pattern)
    items = compute.variants(runs)
    summary = compute.summary_table(items)
    sig = significance.significance(items, list(summary["model"]))
    return runs, items, summary, sig


def seeds(pattern: str = SEEDS) -> str:
    """Architectures over several seeds: mean, spread and interval, and each one against the most accurate."""
    runs, items, summary, sig = _evidence(pattern)
    against = displays.display_significance(sig, summary).set_index("model") if len(summary) > 1 else pd.DataFrame()
    rows = []
    for _, r in summary.iterrows():
        accs = next(v for v in items if v.label == r.model).seeds()
        row = {
            "model": f"`{r.model}`",
            "seeds": ", ".join(f"{s.outcome.test.accuracy:.2%}" for s in accs),
            "mean (95% interval)": f"{r.test_accuracy:.2%} ({r.ci_low:.2%}–{r.ci_high:.2%})",
            "sd": f"{r.accuracy_std * 100:.2f} pp",
        }
        if r.model in against.index:
            a = against.loc[r.model]
            row.update({"below the best": a.iloc[1], "Holm p (all pairs)": a["Holm p (all pairs)"],
                        "detectable (80%)": a["detectable (80%)"], "verdict": a["verdict"]})  # fmt: skip
        else:
            row.update({"below the best": "–", "Holm p (all pairs)": "–", "detectable (80%)": "–",
                        "verdict": f"the most accurate (first in {sig.first.get(r.model, 0):.0%} of resamples)"})  # fmt: skip
        rows.append(row)
    return machine_line(runs) + table(rows)


def _family(model: str) -> str:
    return "cnn" if model.startswith(("cnn", "lenet", "speedrun")) else "mlp" if model.startswith("mlp") else "other"


def claims() -> str:
    """The README's verdicts, as sentences filled from the committed runs."""
    runs, items, summary, sig = _evidence(SEEDS)
    best, could = summary.iloc[0], significance.could_be_best(sig)
    accs = {v.label: [r.outcome.test.accuracy for r in v.seeds()] for v in items}
    cnn_low = min(a for m, v in accs.items() if _family(m) == "cnn" for a in v)
    mlp_high = max(a for m, v in accs.items() if _family(m) == "mlp" for a in v)
    not_separated = _within_family(sig)
    claim = verdicts.seeds_for_claims(sig, list(items), runs[0].profile)
    lines = [
        f"- **{best.model} is the most accurate architecture** over {sig.seeds} seeds of each of the "
        f"{len(summary)} models ({best.test_accuracy:.2%} mean, first in {sig.first.get(best.model, 0):.0%} of "
        "bootstrap resamples of the seeds and the test images); "
        + ("every other model is significantly below another (Holm over every pair)."
           if could == [best.model] else f"it cannot be told apart from {', '.join(m for m in could if m != best.model)}.")
        + f" ({machine_line(runs).strip()})",
        f"- **Every CNN seed beat every MLP seed** (the lowest CNN seed {cnn_low:.2%}, the highest MLP seed "
        f"{mlp_high:.2%})." if cnn_low > mlp_high else f"- The families overlap: the lowest CNN seed "
        f"{cnn_low:.2%}, the highest MLP seed {mlp_high:.2%}.",
        f"- Within a family, {not_separated} at this many seeds: the notebook's ranking inside each family is "
        "largely not established, and each verdict table says how large a gap could hide.",
    ]  # fmt: skip
    if claim:
        from mnist_models.report.sections.text import claims_sentence

        lines.append(f"- {claims_sentence(claim)}")
    lines += _auto_lines() + _budget_lines() + _runtime_lines()
    return "\n".join(lines) + "\n"


def _within_family(sig) -> str:
    pairs = sig.pairs.assign(fa=sig.pairs["a"].map(_family), fb=sig.pairs["b"].map(_family))
    same = pairs[(pairs["fa"] == pairs["fb"]) & (pairs["fa"] != "other")]
    open_ = same[same["holm_p"] >= significance.ALPHA]
    return f"{len(open_)} of {len(same)} pairs are not separated"


def _auto_lines() -> list[str]:
    runs = runs_of(AUTO)
    design = runs[0].machine["mnist_models"]["seed_rounds"]
    trained = [b.record for b in runs[0].benches if b.record.group == "train"]
    models = sorted({r.model for r in trained})
    last = design["looks"][-1]["verdicts"]
    decided = [m for m in models if last.get(m, {}).get("status") in ("below", "futile", "decided")]
    return [
        f"- **Seeds until decided** (`--mnist-seeds auto:{design['cap']}` on {', '.join(models)}): {len(trained)} seeds "
        f"trained of the {design['cap'] * len(models)} a fixed design would have, {design['training_s']:.0f} s of "
        f"training in all; {len(decided)} of {len(models)} verdicts decided "
        f"([reports/auto-seeds](reports/auto-seeds/summary.md), {machine_line(runs).strip()})."
    ]


def _budget_lines() -> list[str]:
    runs = runs_of(SAMPLE)
    items = compute.variants(runs)
    summary = compute.summary_table(items)
    sets = budgets.pareto_sets(summary, items)
    front = sets.get("latency_p50_ms", [])
    steps = "; ".join(
        f"up to {p['value']:.3g} ms: **{p['model']}**" + (f" (or {', '.join(p['with'])})" if p.get("with") else "")
        for p in front
    )
    return [
        f"- **For a batch-1 latency budget** (eager PyTorch, one seed; each latency with its spread between fresh "
        f"processes, [reports/process-spread](reports/process-spread/spread.md)): {steps}. Models whose latencies "
        "the spread cannot tell apart are named together."
    ]


def _runtime_lines() -> list[str]:
    runs = runs_of(SAMPLE)
    table_ = group_tables.runtime_table(compute.variants(runs))
    if table_.empty:
        return []
    best = group_tables.best_runtimes(table_)
    counts = best["best_runtime"].value_counts()
    leader, wins = counts.index[0], int(counts.iloc[0])
    mine = table_[table_["runtime"] == leader]["latency_speedup"]
    compile_slower = int((table_[table_["runtime"] == "compile"]["latency_speedup"] < 1).sum())
    n = table_["model"].nunique()
    return [
        f"- **Where the models are shipped** ([runtimes](docs/runtimes.md)): {leader} is the fastest agreeing runtime "
        f"at batch 1 for {wins} of {n} models ({mine.min():.1f}–{mine.max():.1f}× eager PyTorch's latency in the same "
        f"run); `torch.compile` is slower than eager at batch 1 for {compile_slower} of {n}."
    ]


def auto_seeds(pattern: str = AUTO) -> str:
    """The seed rounds of the committed auto-seeds run: seeds, training seconds, verdict per model."""
    runs = runs_of(pattern)
    csv = ROOT / "reports" / "auto-seeds" / "seed_rounds.csv"
    rows = pd.read_csv(csv)[["model", "seeds", "training s", "verdict", "why"]]
    rows["model"] = rows["model"].map(lambda m: f"`{m}`")
    return machine_line(runs) + rows.to_markdown(index=False, disable_numparse=True) + "\n"


def seed_test() -> str:
    """The architecture test's false-positive rates under both nulls, by seeds, from its committed simulation."""
    frame = pd.read_csv(ROOT / "reports" / "seed-test" / "calibration.csv")
    rows = []
    for (test, k), g in frame.groupby(["test", "seeds"]):
        worst = g.loc[g["rate"].idxmax()]
        rows.append({"test": test, "seeds per side": k, "false positives (lowest–highest over the nulls)":
                     f"{g['rate'].min():.1%}–{g['rate'].max():.1%}",
                     "highest, 95% interval": f"{worst['low']:.1%}–{worst['high']:.1%}"})  # fmt: skip
    rounds = pd.read_csv(ROOT / "reports" / "seed-test" / "rounds.csv")
    nulls = rounds[rounds["difference_pp"] == 0]
    line = (
        f"\nSeed rounds (`auto:N`, optional stopping) under the same nulls: differences declared in "
        f"{nulls['rate'].min():.1%}–{nulls['rate'].max():.1%} of repeats (highest interval up to "
        f"{nulls['high'].max():.1%}), {len(nulls)} conditions of {int(nulls['repeats'].iloc[0])} repeats.\n"
    )
    return table(rows) + line


def floors() -> str:
    """The quick floors, by the tested rule, with their two probabilities (scripts/floors.py)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import floors as rule

    runs = runs_of(rule.RUNS["quick"])
    return machine_line(runs) + rule.table("quick", runs)


def process_spread() -> str:
    """How far a time moved between fresh processes of the same code (reports/process-spread)."""
    frame = pd.read_csv(ROOT / "reports" / "process-spread" / "spread.csv")
    runs = runs_of("reports/process-spread/runs/*.json")[:1]
    rows = [
        {
            "group": r.group,
            "model": f"`{r.model}`",
            "median": f"{r.median_ms:.3g} ms",
            "range over the processes": f"{r.min_ms:.3g}–{r.max_ms:.3g} ms",
            "max / min": f"{r.max_over_min:.2f}×",
            "sd of log time": f"{r.log_sd:.2f}",
        }
        for r in frame.itertuples()
    ]
    return (
        machine_line(runs) + f"{int(frame['processes'].max())} fresh processes one after the other.\n\n" + table(rows)
    )
