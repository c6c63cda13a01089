"""Measure the A/B gate itself: false alarms on identical code, power against injected slowdowns, time to a verdict.

    python studies/gate-power/gate_power.py measure [--plan 0:6,25:6,10:4] [--real 3] [--profile quick] [--models '*']
        [--out reports/gate-power] [-- more mnist-models ab options]
    python studies/gate-power/gate_power.py analyse [--out reports/gate-power]

``measure`` runs `mnist-models ab` of this tree against a copy of itself (both sides import the same
code), the head's timed calls slowed by each planned percentage (``--slowdown``), each comparison with
its own random block order (``--seed``), in the fixed design (16 pairs of every benchmark) so that
every pair is recorded; each comparison's ab.csv, pairs.csv and wall time are kept under
``comparisons/``. With ``--real R`` it also runs R sequential comparisons of identical code, each
right after a fixed one of identical code (F S F S ...; with ``--sequential-first`` right before it,
S F S F ..., so that a machine that slows down or speeds up over the runs weighs on either design in
turn), so that the two designs' wall times are measured interleaved on the same machine. ``analyse`` replays the sequential design on the recorded
pairs of each fixed comparison, so that both designs meet the same pairs, and writes gate_power.md and
its CSV tables: per design the comparisons failed and the benchmarks flagged, with 95% Wilson
intervals, per group and per benchmark; the power per benchmark and the smallest slowdown each could
have detected; the pairs and wall time to a verdict; and any side bias on identical code (a benchmark
whose pooled log ratios differ from 0, Holm over the benchmarks).
"""

from __future__ import annotations

import argparse
import csv
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from mnist_models.ab.paired import (  # noqa: E402
    OPEN,
    RESTART_EVERY,
    Design,
    compare_pairs,
    processes_of,
    stop_rule,
    within_rule,
)
from mnist_models.files import atomic_write_bytes  # noqa: E402
from mnist_models.results.machine import this_cpu  # noqa: E402
from mnist_models.stats.multiple import holm  # noqa: E402
from mnist_models.stats.paired import TRIM, trimmed_test  # noqa: E402

THRESHOLD = 0.10
SEQUENTIAL = Design(max_pairs=16)
FIXED = Design(max_pairs=16, fixed=True)
EARLIER_RULE = "95% at every look, 6 to 16 pairs"  # the within rule of real runs recorded before the rule was named
SCALED = (0.10, 0.15, 0.25)  # slowdowns replayed on identical pairs: at the threshold, between, and as injected


def _comparison(base: Path, args, name: str, slowdown: int, seed: int, design: str) -> dict:
    """One `mnist-models ab` run; its tables kept under comparisons/NAME, its wall time returned."""
    out = Path(tempfile.mkdtemp(prefix="gate-power-"))
    pairs = ["--pairs", "16"] if design == "fixed" else ["--max-pairs", "16", "--min-pairs", str(SEQUENTIAL.min_pairs)]
    command = [
        sys.executable, "-m", "mnist_models", "ab", "--base", str(base), "--profile", args.profile,
        "--models", args.models, *pairs, "--threshold", f"{THRESHOLD:.0%}", "--slowdown", f"{slowdown}%",
        "--seed", str(seed), "--out", str(out), *args.ab_args,
    ]  # fmt: skip
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode not in (0, 1):
        print(result.stdout[-2000:], result.stderr[-2000:], file=sys.stderr)
        raise SystemExit(2)
    kept = Path(args.out) / "comparisons" / name
    kept.mkdir(parents=True, exist_ok=True)
    for table in ("ab.csv", "pairs.csv", "ab.md"):
        shutil.copy(out / table, kept / table)
    shutil.rmtree(out, ignore_errors=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    row = {"name": name, "design": design, "slowdown_pct": slowdown, "seed": seed, "wall_s": round(wall, 1),
           "exit": result.returncode, "models": args.models, "profile": args.profile, "cpu": this_cpu(),
           "commit": commit.stdout.strip(), "within_rule": stop_rule(SEQUENTIAL if design == "sequential" else FIXED),
           "restart_every": _restart_every(args.ab_args)}  # fmt: skip
    print(f"{name}: exit {result.returncode} in {wall:.0f} s", flush=True)
    return row


def _restart_every(ab_args: list[str]) -> int:
    """The ``--restart-every`` the comparisons ran with (recorded: pairs.csv of older runs does not name the worker
    pair of each pair)."""
    return int(ab_args[ab_args.index("--restart-every") + 1]) if "--restart-every" in ab_args else RESTART_EVERY


def measure(args) -> int:
    plan = [(int(s), int(k)) for s, k in (item.split(":") for item in args.plan.split(","))]
    base = Path(tempfile.mkdtemp(prefix="gate-power-base-"))
    shutil.copytree(ROOT / "mnist_models", base / "mnist_models", ignore=shutil.ignore_patterns("__pycache__"))
    index = Path(args.out) / "comparisons.csv"
    rows = list(csv.DictReader(index.open())) if index.is_file() and args.append else []
    try:
        for slowdown, count in plan:
            done = sum(1 for r in rows if r["design"] == "fixed" and int(r["slowdown_pct"]) == slowdown)
            for k in range(done, done + count):  # --append: numbered (and seeded) after the comparisons kept
                seed = 100 * slowdown + k
                runs = [("fixed", f"fixed-{slowdown:02d}pct-{k:02d}")]
                if slowdown == 0 and k - done < args.real:  # the same code, beside it: the sequential design's wall
                    runs.append(("sequential", f"sequential-00pct-{k:02d}"))
                for design, name in reversed(runs) if args.sequential_first else runs:
                    row = _comparison(base, args, name, slowdown, seed, design)
                    rows.append({**row, "order": "sequential first" if args.sequential_first else "fixed first"})
                _write_index(index, rows)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return analyse(args)


def _write_index(index: Path, rows: list[dict]) -> None:
    atomic_write_bytes(index, pd.DataFrame(rows).to_csv(index=False).encode())


def _recorded(folder: Path, restart_every: int = RESTART_EVERY) -> tuple[dict, dict, list[int]]:
    """A comparison's pairs per side, and each pair's worker pair: as ``pairs.csv`` names it, else as the coordinator
    replaced the workers (``restart_every`` pairs; 0 for comparisons made before workers were replaced)."""
    pairs = pd.read_csv(folder / "pairs.csv").sort_values(["benchmark", "pair"])
    base = {b: list(g["base_s"]) for b, g in pairs.groupby("benchmark")}
    head = {b: list(g["head_s"]) for b, g in pairs.groupby("benchmark")}
    most = max(map(len, base.values()))
    if "process" in pairs:
        longest = pairs[pairs["benchmark"] == max(base, key=lambda b: len(base[b]))]
        return base, head, [int(v) - 1 for v in longest["process"]]
    return base, head, processes_of(most, restart_every)


def wilson(hits: int, total: int) -> tuple[float, float]:
    """The 95% Wilson interval of hits/total (Wilson 1927; Brown, Cai & DasGupta 2001 recommend it for small n)."""
    if total == 0:
        return math.nan, math.nan
    interval = stats.binomtest(int(hits), int(total)).proportion_ci(method="wilson")
    return interval.low, interval.high


def rate(hits: int, total: int) -> str:
    low, high = wilson(hits, total)
    return "–" if total == 0 else f"{hits} of {total}: {hits / total:.0%} ({low:.0%}–{high:.0%})"


def who(models: str) -> str:
    return "every built-in model" if models == "*" else "models " + str(models).replace(",", ", ")


def _with_studies(index: pd.DataFrame) -> pd.DataFrame:
    """A study: the comparisons of one model set, profile and CPU; rates are never pooled across studies."""
    index = index.fillna({"models": "?", "profile": "quick", "cpu": "?", "commit": "?"})
    # the worker pairs of recorded pairs that do not name theirs: the coordinator's default, unless the index says
    # otherwise (0: one worker per side, as before workers were replaced)
    index["restart_every"] = (index["restart_every"] if "restart_every" in index else
                              pd.Series(RESTART_EVERY, index=index.index)).fillna(RESTART_EVERY).astype(int)  # fmt: skip
    if "within_rule" not in index:
        index["within_rule"] = None
    earlier = index["within_rule"].isna()
    index.loc[earlier, "within_rule"] = [EARLIER_RULE if d == "sequential" else within_rule(FIXED)
                                         for d in index.loc[earlier, "design"]]  # fmt: skip
    index["study"] = [f"{who(m)}, profile {p}, {c}" for m, p, c in zip(index["models"], index["profile"], index["cpu"],
                                                                         strict=True)]  # fmt: skip
    return index


def analyse(args) -> int:
    out = Path(args.out)
    index = _with_studies(pd.read_csv(out / "comparisons.csv", dtype={"commit": str}))
    verdicts = []
    for row in index[index["design"] == "fixed"].itertuples():
        base, head, processes = _recorded(out / "comparisons" / row.name, row.restart_every)
        for design_name, design in (("fixed", FIXED), ("sequential (replayed)", SEQUENTIAL)):
            table = compare_pairs(base, head, THRESHOLD, design=design, processes=processes)
            verdicts.append(table.assign(comparison=row.name, design=design_name, slowdown_pct=row.slowdown_pct,
                                         study=row.study))  # fmt: skip
    for row in index[index["design"] == "sequential"].itertuples():
        table = pd.read_csv(out / "comparisons" / row.name / "ab.csv")
        design_name = "sequential (real run)" + ("" if row.within_rule == stop_rule(SEQUENTIAL) else
                                                 f", within {row.within_rule}")  # fmt: skip
        verdicts.append(table.assign(comparison=row.name, design=design_name, slowdown_pct=row.slowdown_pct,
                                     study=row.study))  # fmt: skip
    table = pd.concat(verdicts, ignore_index=True)
    table["group"] = table["benchmark"].str.split("/").str[0]
    tables = {"verdicts": table, "suites": suites(table), "groups": groups(table), "power": power(table),
              "walls": walls(index), "bias": bias(index, out), "scaled": scaled(index, out, table)}  # fmt: skip
    for name, frame in tables.items():
        atomic_write_bytes(out / f"{name}.csv", frame.to_csv(index=False).encode())
    lines = _lines(index, tables)
    atomic_write_bytes(out / "gate_power.md", ("\n".join(lines) + "\n").encode())
    print("\n".join(lines))
    return 0


def _counted(frame: pd.DataFrame, keys: list[str], hits: str = "failed") -> pd.DataFrame:
    """Per key: how many rows, how many hits, their share and its 95% Wilson interval."""
    counted = frame.groupby(keys, sort=False)[hits].agg(total="size", hits="sum").reset_index()
    counted["hits"] = counted["hits"].astype(int)
    counted["rate"] = counted["hits"] / counted["total"]
    counted[["low", "high"]] = [wilson(h, n) for h, n in zip(counted["hits"], counted["total"], strict=True)]
    return counted


def suites(table: pd.DataFrame) -> pd.DataFrame:
    """Per study, injected slowdown and design: the comparisons, and those that failed the gate (any benchmark)."""
    per = table.groupby(["study", "slowdown_pct", "design", "comparison"], sort=False)["failed"].any().reset_index()
    return _counted(per, ["study", "slowdown_pct", "design"])


def groups(table: pd.DataFrame) -> pd.DataFrame:
    """Per study, slowdown, design and group: the benchmark verdicts flagged, the pairs and the detectable slowdown."""
    keys = ["study", "slowdown_pct", "design", "group"]
    counted = _counted(table, keys)
    medians = table.groupby(keys, sort=False).agg(pairs_median=("pairs", "median"), pairs_mean=("pairs", "mean"),
                                                  detectable_median=("detectable", "median")).reset_index()  # fmt: skip
    return counted.merge(medians, on=keys)


def power(table: pd.DataFrame) -> pd.DataFrame:
    """Per study, injected slowdown, design and benchmark: how often the slowdown was flagged (its power), and the
    median slowdown the benchmark could have detected with 80% power at its pairs."""
    slow = table[(table["slowdown_pct"] > 0) & (table["design"] != "sequential (real run)")]
    keys = ["study", "slowdown_pct", "design", "benchmark"]
    detectable = slow.groupby(keys, sort=False)["detectable"].median().rename("detectable_median").reset_index()
    return _counted(slow, keys).merge(detectable, on=keys)


def walls(index: pd.DataFrame) -> pd.DataFrame:
    """Each sequential run with the fixed one run right beside it on the same code (before it, or after it with
    ``--sequential-first``): wall times and their ratio."""
    rows = []
    if "order" not in index:
        index = index.assign(order=None)
    for seq in index[index["design"] == "sequential"].itertuples():
        fixed = index[(index["design"] == "fixed") & (index["name"] == seq.name.replace("sequential", "fixed"))]
        if len(fixed):
            rows.append({"study": seq.study, "commit": seq.commit, "within_rule": seq.within_rule,
                         "current_rule": seq.within_rule == stop_rule(SEQUENTIAL), "fixed": fixed["name"].iloc[0],
                         "sequential": seq.name, "fixed_s": float(fixed["wall_s"].iloc[0]),
                         "sequential_s": float(seq.wall_s),
                         "order": seq.order if isinstance(seq.order, str) else "fixed first"})  # fmt: skip
    frame = pd.DataFrame(rows, columns=["study", "commit", "within_rule", "current_rule", "fixed", "sequential",
                                        "fixed_s", "sequential_s", "order"])  # fmt: skip
    frame["ratio"] = frame["sequential_s"] / frame["fixed_s"]
    return frame


def bias(index: pd.DataFrame, out: Path) -> pd.DataFrame:
    """A side bias, and whether one comparison's interval covers the comparison-to-comparison variation.

    The comparisons are the independent units (the pairs of one comparison share its processes and the machine's
    state), so per study and benchmark: each identical fixed comparison's estimate (trimmed mean of its log ratios)
    and standard error; the side bias is a one-sample t test of the estimates against 0 (two-sided, Holm over the
    study's benchmarks); the dispersion is the variance of the estimates over the mean squared standard error —
    about 1 when a comparison's interval covers what moves between comparisons, above 1 when it does not."""
    rows = []
    identical = index[(index["slowdown_pct"] == 0) & (index["design"] == "fixed")]
    for study, chosen in identical.groupby("study", sort=False):
        estimates: dict[str, list[tuple[float, float]]] = {}
        pooled_logs: dict[str, list[float]] = {}
        for name in chosen["name"]:
            pairs = pd.read_csv(out / "comparisons" / name / "pairs.csv")
            for bench, group in pairs.groupby("benchmark"):
                logs = group["log_ratio"].to_numpy()
                pooled_logs.setdefault(bench, []).extend(logs)
                center, half, _ = trimmed_test(logs)
                df = len(logs) - 2 * math.floor(TRIM * len(logs)) - 1
                estimates.setdefault(bench, []).append((center, half / stats.t.ppf(0.975, df)))
        names = sorted(estimates)
        if len(chosen) < 2:
            continue
        tests = [stats.ttest_1samp([e for e, _ in estimates[b]], 0.0) for b in names]
        adjusted = holm([float(t.pvalue) for t in tests])
        pooled = holm([2 * min(p, 1 - p) for _, _, p in (trimmed_test(np.array(pooled_logs[b])) for b in names)])
        for b, p, p_pooled in zip(names, adjusted, pooled, strict=True):
            centers = np.array([e for e, _ in estimates[b]])
            ses = np.array([se for _, se in estimates[b]])
            rows.append({"study": study, "benchmark": b, "comparisons": len(centers),
                         "slowdown": math.exp(centers.mean()) - 1, "holm_p": p, "biased": p < 0.05,
                         "dispersion": centers.var(ddof=1) / float(np.mean(ses**2)),
                         "pooled_pairs_holm_p": p_pooled})  # fmt: skip
    return pd.DataFrame(rows, columns=["study", "benchmark", "comparisons", "slowdown", "holm_p", "biased",
                                       "dispersion", "pooled_pairs_holm_p"])  # fmt: skip


def scaled(index: pd.DataFrame, out: Path, table: pd.DataFrame) -> pd.DataFrame:
    """Slowdowns replayed on the recorded pairs of identical code: every head time scaled by 1 + δ, the noise left
    as measured. Per study, δ and design, the benchmark verdicts *slower* (found), *within the threshold* (missed:
    an equivalence verdict on a slowdown at or beyond it) and *open* (at the cap, or stopped as undecidable), with
    Wilson intervals. Where the study
    also injected +δ for real (``--slowdown``), that measured rate stands beside the replayed one: the check that
    scaling recorded pairs stands in for extra work."""
    rows = []
    identical = index[(index["slowdown_pct"] == 0) & (index["design"] == "fixed")]
    for study, chosen in identical.groupby("study", sort=False):
        recorded = [_recorded(out / "comparisons" / r.name, r.restart_every) for r in chosen.itertuples()]
        for delta in SCALED:
            for design_name, design in (("fixed", FIXED), ("sequential (replayed)", SEQUENTIAL)):
                each = [
                    compare_pairs(base, {b: [t * (1 + delta) for t in ts] for b, ts in head.items()}, THRESHOLD,
                                  design=design, processes=processes)
                    for base, head, processes in recorded
                ]  # fmt: skip
                verdicts = pd.concat(each)
                injected = table[(table["study"] == study) & (table["design"] == design_name)
                                 & (table["slowdown_pct"] == round(100 * delta))]  # fmt: skip
                row = {"study": study, "slowdown": delta, "design": design_name, "comparisons": len(recorded),
                       "benchmarks": len(verdicts)}  # fmt: skip
                for verdict, kinds in (("slower", ["slower"]), ("within", ["within"]), ("open", list(OPEN))):
                    hits = int(verdicts["verdict"].isin(kinds).sum())
                    row[verdict] = hits
                    row[f"{verdict}_low"], row[f"{verdict}_high"] = wilson(hits, len(verdicts))
                row["within_per_comparison"] = " ".join(str(int((t["verdict"] == "within").sum())) for t in each)
                row["injected_benchmarks"] = len(injected)
                row["injected_slower"] = int(injected["failed"].sum()) if len(injected) else None
                rows.append(row)
    return pd.DataFrame(rows)


def _lines(index: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> list[str]:
    lines = [
        "# The A/B gate, measured",
        "",
        "`mnist-models ab` of one tree against a copy of itself, the head slowed by each injected percentage; "
        f"threshold +{THRESHOLD:.0%}, α 0.05. The fixed design (16 pairs of every benchmark) records every pair, and "
        f"the sequential design ({SEQUENTIAL.min_pairs} to {SEQUENTIAL.max_pairs} pairs) is replayed on those pairs, "
        "so both meet the same ones; real sequential runs of identical code each ran right beside a fixed one (the "
        "order is given per pair). "
        "Rates with 95% Wilson intervals; a study (one model set, profile and CPU) is never pooled with another. "
        "Comparisons are independent of each other; the benchmark verdicts of one comparison are not (they share its "
        "processes and the machine's state: see how the misses of a replayed slowdown gather in a few comparisons), "
        "so an interval over benchmark verdicts, which counts them as independent, is narrower than it should be; "
        "the comparisons' rates are the conservative ones.",
    ]
    for study, chosen in index.groupby("study", sort=False):
        lines += ["", f"## {study}", "", _plan(chosen)]
        lines += _study_lines(study, tables)
    return lines


def _plan(index: pd.DataFrame) -> str:
    """What was compared: per commit, the comparisons of each design and slowdown."""
    parts = []
    for commit, g in index.groupby("commit", sort=False):
        counts = g.groupby(["design", "slowdown_pct"]).size()
        parts.append(", ".join(f"{n} {d} at +{s}%" for (d, s), n in counts.items()) + f" (commit {commit})")
    return "Comparisons: " + "; ".join(parts) + "."


def _study_lines(study: str, tables: dict[str, pd.DataFrame]) -> list[str]:
    def of(name: str) -> pd.DataFrame:
        return tables[name][tables[name]["study"] == study]

    lines = ["", "### Comparisons that failed the gate", "", "| injected | design | failed |", "|---:|---|---|"]
    lines += [f"| +{r.slowdown_pct}% | {r.design} | {r.hits} of {r.total}: {r.rate:.0%} ({r.low:.0%}–{r.high:.0%}) |"
              for r in of("suites").itertuples()]  # fmt: skip
    lines += ["", "### Benchmark verdicts flagged, by group", "",
              "| injected | design | group | flagged | pairs (median, mean) | detectable slowdown (median) |",
              "|---:|---|---|---|---:|---:|"]  # fmt: skip
    lines += [f"| +{r.slowdown_pct}% | {r.design} | {r.group} | {r.hits} of {r.total}: {r.rate:.0%} "
              f"({r.low:.0%}–{r.high:.0%}) | {r.pairs_median:.0f}, {r.pairs_mean:.1f} | +{r.detectable_median:.0%} |"
              for r in of("groups").itertuples()]  # fmt: skip
    lines += (
        _power_lines(of("power")) + _scaled_lines(of("scaled")) + _wall_lines(of("walls")) + _bias_lines(of("bias"))
    )
    return lines


def _power_lines(power_: pd.DataFrame) -> list[str]:
    lines = []
    for (slowdown, design), g in power_.groupby(["slowdown_pct", "design"], sort=False):
        weak = g[g["rate"] < 0.95]
        lines += ["", f"### Power at +{slowdown}%, {design}: benchmarks flagged in fewer than 95% of comparisons", ""]
        if weak.empty:
            lines.append(f"None of {len(g)}: every benchmark was flagged in at least 95% of its comparisons.")
            continue
        lines += [f"{len(weak)} of {len(g)}:", "", "| benchmark | flagged | detectable slowdown (median) |",
                  "|---|---|---:|"]  # fmt: skip
        lines += [f"| {r.benchmark} | {r.hits} of {r.total}: {r.rate:.0%} ({r.low:.0%}–{r.high:.0%}) | "
                  f"+{r.detectable_median:.0%} |" for r in weak.itertuples()]  # fmt: skip
    return lines


def _scaled_lines(scaled_: pd.DataFrame) -> list[str]:
    if scaled_.empty:
        return []
    lines = [
        "", "### Slowdowns replayed on identical pairs: what the gate finds and what it misses", "",
        "Every head time of the identical comparisons scaled by 1 + δ, the noise as measured. *Missed*: a "
        f"benchmark declared within +{THRESHOLD:.0%} although it is δ slower.", "",
        "| δ | design | benchmark verdicts | found (slower) | missed (within) | missed, per comparison | open at the cap "
        "| injected for real: found |",
        "|---:|---|---:|---|---|---|---|---|",
    ]  # fmt: skip
    for r in scaled_.itertuples():
        injected = (f"{r.injected_slower:.0f} of {r.injected_benchmarks}: {r.injected_slower / r.injected_benchmarks:.0%} "
                    f"({wilson(r.injected_slower, r.injected_benchmarks)[0]:.0%}–"
                    f"{wilson(r.injected_slower, r.injected_benchmarks)[1]:.0%})" if r.injected_benchmarks else "–")  # fmt: skip
        cells = [f"{getattr(r, v)}: {getattr(r, v) / r.benchmarks:.1%} ({getattr(r, v + '_low'):.1%}–"
                 f"{getattr(r, v + '_high'):.1%})" for v in ("slower", "within", "open")]  # fmt: skip
        cells.insert(2, str(r.within_per_comparison))
        lines.append(f"| +{r.slowdown:.0%} | {r.design} | {r.benchmarks} | {' | '.join(cells)} | {injected} |")
    return lines


def _wall_lines(walls_: pd.DataFrame) -> list[str]:
    if walls_.empty:
        return []
    lines = ["", "### Wall time to a verdict, identical code, real runs interleaved"]
    for rule, chosen in walls_.groupby("within_rule", sort=False):
        current = "the design's" if chosen["current_rule"].all() else "an earlier"
        lines += [
            "", f"Sequential runs with {current} stopping rule ({rule}):", "",
            "| fixed run | wall | sequential run beside it | wall | order | ratio |", "|---|---:|---|---:|---|---:|",
            *[f"| {r.fixed} ({r.commit}) | {r.fixed_s:.0f} s | {r.sequential} | {r.sequential_s:.0f} s | {r.order} | "
              f"{r.ratio:.0%} |" for r in chosen.itertuples()],
            "", f"Median of the {len(chosen)} paired ratios: **{chosen['ratio'].median():.0%}** of the fixed design's "
            f"wall time (medians {chosen['sequential_s'].median():.0f} s against {chosen['fixed_s'].median():.0f} s).",
        ]  # fmt: skip
    return lines


def _bias_lines(bias_: pd.DataFrame) -> list[str]:
    if bias_.empty:
        return []
    biased = bias_[bias_["biased"]]
    comparisons = int(bias_["comparisons"].max())
    groups = bias_.assign(group=bias_["benchmark"].str.split("/").str[0]).groupby("group")["dispersion"].median()
    lines = ["", "### Side bias, and what moves between comparisons, on identical code", "",
             f"Each identical fixed comparison's estimate per benchmark ({comparisons} comparisons, the independent "
             f"units), a one-sample t test against 0 ({len(bias_)} benchmarks, two-sided, Holm): "]  # fmt: skip
    if biased.empty:
        lines[-1] += "no benchmark differs between the sides."
    else:
        lines[-1] += f"{len(biased)} differ:"
        lines += [f"- {r.benchmark}: {r.slowdown:+.1%} (Holm p={r.holm_p:.2g})" for r in biased.itertuples()]
    pooled = bias_[bias_["pooled_pairs_holm_p"] < 0.05]
    lines += [
        "",
        "Every pair pooled per benchmark instead (trimmed t, Holm; counts the pairs of one comparison as "
        "independent): "
        + (
            "no benchmark differs."
            if pooled.empty
            else ", ".join(
                f"{r.benchmark} {r.slowdown:+.1%} (Holm p={r.pooled_pairs_holm_p:.2g})" for r in pooled.itertuples()
            )
        ),
    ]
    lines += ["", "Dispersion: the variance of a benchmark's estimates across comparisons over their mean squared "
              "standard error (about 1 when one comparison's interval covers what moves between comparisons; above 1, "
              "the intervals are too narrow by its square root). Median per group: "
              + "; ".join(f"{g} {d:.2f}" for g, d in groups.items()) + f"; the largest {bias_['dispersion'].max():.2f} "
              f"({bias_.loc[bias_['dispersion'].idxmax(), 'benchmark']})."]  # fmt: skip
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stage", choices=("measure", "analyse"))
    parser.add_argument("--models", default="*")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--plan", default="0:6,25:6", help="slowdown%%:comparisons, ...")
    parser.add_argument("--real", type=int, default=3, help="sequential runs of identical code, interleaved")
    parser.add_argument("--append", action="store_true", help="add to the comparisons already under --out")
    parser.add_argument("--sequential-first", action="store_true",
                        help="run each real sequential comparison before its fixed one (the machine's drift, if it "
                        "slows or speeds up over the runs, then weighs on the other side: run both orders)")  # fmt: skip
    parser.add_argument("--out", default=str(ROOT / "reports" / "gate-power"))
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []  # more `mnist-models ab` options, after --
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    args.ab_args = extra
    return measure(args) if args.stage == "measure" else analyse(args)


if __name__ == "__main__":
    sys.exit(main())
