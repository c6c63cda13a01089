"""Blocks of evidence: the seeds' table and the README's claims (reports/seeds, reports/auto-seeds, reports/sample),
the architecture test's calibration (reports/seed-test), the floors (studies/floors/floors.py), the process spread."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from mnist_models.report.sections import tables as displays
from mnist_models.report.tables import compute, significance, verdicts
from mnist_models.report.tables import groups as group_tables
from mnist_models.results import machine

from .common import ROOT, machine_line, run_link, runs_of, table

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


def _scope(runs, models: int | None = None) -> str:
    """What a claim holds under: profile with its epochs, dataset, seeds (a claim is no wider than its runs)."""
    trained = [b.record for run in runs for b in run.benches if b.record.group == "train"]
    epochs = sorted({r.outcome.epochs_run for r in trained})
    seeds = len({r.seed for r in trained})
    count = models or len({r.model for r in trained})
    span = f"{epochs[0]}–{epochs[-1]}" if len(epochs) > 1 else f"{epochs[0]}"
    return (
        f"{runs[0].profile} profile ({span} epochs per model), {runs[0].dataset}, {seeds} seed{'s' if seeds > 1 else ''}"
        f" of each of {count} models"
    )


def claims() -> str:
    """The README's verdicts as a table: each claim, the scope it holds under, and the committed run behind it."""
    runs, items, summary, sig = _evidence(SEEDS)
    best, could = summary.iloc[0], significance.could_be_best(sig)
    accs = {v.label: [r.outcome.test.accuracy for r in v.seeds()] for v in items}
    cnn_low = min(a for m, v in accs.items() if _family(m) == "cnn" for a in v)
    mlp_high = max(a for m, v in accs.items() if _family(m) == "mlp" for a in v)
    scope, where = _scope(runs), run_link(runs[0])
    tied = [m for m in could if m != best.model]
    verdict = (
        f"**{best.model} is the most accurate architecture** ({best.test_accuracy:.2%} mean; every other model "
        "significantly below another)"
        if not tied
        else f"**{best.model} is tied for most accurate** with {', '.join(tied)}"
    )
    rows = [
        {"claim": verdict, "holds under": scope, "evidence": where},
        {"claim": f"**Every CNN seed beat every MLP seed** (lowest CNN {cnn_low:.2%}, highest MLP {mlp_high:.2%})"
         if cnn_low > mlp_high else f"The families overlap (lowest CNN {cnn_low:.2%}, highest MLP {mlp_high:.2%})",
         "holds under": scope, "evidence": where},
        {"claim": f"Within a family, {_within_family(sig)}: the notebook's ranking inside a family is not established",
         "holds under": scope, "evidence": where},
    ]  # fmt: skip
    claim = verdicts.seeds_for_claims(sig, list(items), runs[0].profile)
    if claim:
        rows.append({"claim": _seeds_claim(claim), "holds under": scope, "evidence": "[results](docs/results.md)"})
    rows += _auto_rows() + _budget_rows() + _runtime_rows()
    return table(rows)


def _seeds_claim(claim: dict) -> str:
    sizes = [f"{size} pp takes {n} seeds of each" for size, n in claim["seeds"].items() if n]
    never = [size for size, n in claim["seeds"].items() if not n]
    text = "Telling two architectures apart by " + "; by ".join(sorted(sizes, reverse=True))
    if never:
        text += f"; by {' or '.join(sorted(never, reverse=True))} pp, more seeds than any run"
    return text


def _within_family(sig) -> str:
    pairs = sig.pairs.assign(fa=sig.pairs["a"].map(_family), fb=sig.pairs["b"].map(_family))
    same = pairs[(pairs["fa"] == pairs["fb"]) & (pairs["fa"] != "other")]
    open_ = same[same["holm_p"] >= significance.ALPHA]
    return f"{len(open_)} of {len(same)} pairs are not separated"


def _auto_rows() -> list[dict]:
    runs = runs_of(AUTO)
    design = runs[0].machine["mnist_models"]["seed_rounds"]
    trained = [b.record for b in runs[0].benches if b.record.group == "train"]
    models = sorted({r.model for r in trained})
    last = design["looks"][-1]["verdicts"]
    decided = [m for m in models if last.get(m, {}).get("status") in ("below", "futile", "decided")]
    return [{
        "claim": f"**Seeds until decided** (`--mnist-seeds auto:{design['cap']}`): {len(trained)} seeds trained of the "
                 f"{design['cap'] * len(models)} a fixed design would have; {len(decided)} of {len(models)} verdicts "
                 "decided",
        "holds under": f"{runs[0].profile} profile, {runs[0].dataset}, {', '.join(models)}",
        "evidence": run_link(runs[0]),
    }]  # fmt: skip


def _budget_rows() -> list[dict]:
    """The sample run's batch-1 latency picks, eager and on each model's fastest agreeing runtime (the report's)."""
    from mnist_models.report.sections.compose import inputs_of

    runs = runs_of(SAMPLE)
    fronts = inputs_of(runs, draw=False).found.pareto
    rows = []
    for column, where in (("latency_p50_ms", "eager PyTorch"), ("best_latency_p50_ms", "the fastest runtime")):
        steps = " → ".join(f"{p['model']} ({p['value']:.3g} ms)" for p in fronts.get(column, []))
        if steps:
            rows.append({
                "claim": f"**Batch-1 latency picks** on {where}, cheapest first: {steps}",
                "holds under": f"{_scope(runs)}; {machine.header(runs[0].machine)}",
                "evidence": run_link(runs[0]),
            })  # fmt: skip
    return rows


def _runtime_rows() -> list[dict]:
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
    return [{
        "claim": f"**{leader} is the fastest agreeing runtime at batch 1** for {wins} of {n} models "
                 f"({mine.min():.1f}–{mine.max():.1f}× eager); `torch.compile` is slower than eager for {compile_slower} of {n}",
        "holds under": f"{_scope(runs)}; {machine.header(runs[0].machine)}",
        "evidence": f"{run_link(runs[0])}, [runtimes](docs/runtimes.md)",
    }]  # fmt: skip


def auto_seeds(pattern: str = AUTO) -> str:
    """The seed rounds of the committed auto-seeds run: seeds, training seconds, verdict per model."""
    runs = runs_of(pattern)
    csv = ROOT / "reports" / "auto-seeds" / "seed_rounds.csv"
    rows = pd.read_csv(csv)[["model", "seeds", "training s", "verdict", "why"]]
    rows["model"] = rows["model"].map(lambda m: f"`{m}`")
    return machine_line(runs) + rows.to_markdown(index=False, disable_numparse=True) + "\n"


# The calibration's labels (reports/seed-test/calibration.csv) as a reader names the tests; which came first is the
# study's history (reports/seed-test/HISTORY.md).
TEST_NAMES = {"this test": "the suite's test", "old test": "Welch plus the test-set term per seed"}


def seed_test() -> str:
    """The architecture test's false-positive rates under both nulls, by seeds, from its committed simulation."""
    frame = pd.read_csv(ROOT / "reports" / "seed-test" / "calibration.csv")
    rows = []
    for (test, k), g in frame.groupby(["test", "seeds"]):
        worst = g.loc[g["rate"].idxmax()]
        rows.append({"test": TEST_NAMES.get(test, test), "seeds per side": k, "false positives (lowest–highest over the nulls)":
                     f"{g['rate'].min():.1%}–{g['rate'].max():.1%}",
                     "highest, 95% interval": f"{worst['low']:.1%}–{worst['high']:.1%}"})  # fmt: skip
    rounds = pd.read_csv(ROOT / "reports" / "seed-test" / "rounds.csv")
    nulls = rounds[rounds["difference_pp"] == 0]
    procedure = [{"procedure": "seed rounds (`auto:N`, optional stopping)", "conditions": len(nulls),
                  "repeats each": int(nulls["repeats"].iloc[0]),
                  "differences declared (lowest–highest)": f"{nulls['rate'].min():.1%}–{nulls['rate'].max():.1%}",
                  "highest 95% interval's upper end": f"{nulls['high'].max():.1%}"}]  # fmt: skip
    return table(rows) + "\nThe seed rounds under the same nulls:\n\n" + table(procedure)


def floors() -> str:
    """The quick floors, by the tested rule, with their two probabilities: the floors study's own table of the
    committed five-seed run, through its command line (studies/floors/floors.py RUN.json)."""
    runs = runs_of("reports/seeds/[0-9]*.json")
    study = [sys.executable, str(ROOT / "studies" / "floors" / "floors.py"), *(str(r.path) for r in runs)]
    return machine_line(runs) + subprocess.run(study, capture_output=True, text=True, check=True, cwd=ROOT).stdout


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
