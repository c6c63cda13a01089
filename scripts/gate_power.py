"""Measure the A/B gate itself: false alarms on identical code, power against injected slowdowns, time to a verdict.

    python scripts/gate_power.py measure [--plan 0:6,25:6,10:4] [--real 3] [--profile quick] [--models '*']
        [--out reports/gate-power] [-- more mnist-models ab options]
    python scripts/gate_power.py analyse [--out reports/gate-power]

``measure`` runs `mnist-models ab` of this tree against a copy of itself (both sides import the same
code), the head's timed calls slowed by each planned percentage (``--slowdown``), each comparison with
its own random block order (``--seed``), in the fixed design (16 pairs of every benchmark) so that
every pair is recorded; each comparison's ab.csv, pairs.csv and wall time are kept under
``comparisons/``. With ``--real R`` it also runs R sequential comparisons of identical code, each
right after a fixed one of identical code (F S F S ...), so that the two designs' wall times are
measured interleaved on the same machine. ``analyse`` replays the sequential design on the recorded
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
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mnist_models.ab.paired import Design, compare_pairs  # noqa: E402
from mnist_models.files import atomic_write_bytes  # noqa: E402
from mnist_models.stats.multiple import holm  # noqa: E402
from mnist_models.stats.paired import trimmed_test  # noqa: E402

THRESHOLD = 0.10
SEQUENTIAL = Design(max_pairs=16, min_pairs=6)
FIXED = Design(max_pairs=16, fixed=True)


def cpu() -> str:
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    isa = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_tile") if f in flags]
    return (
        f"{model} ({', '.join(isa)}), {len([line for line in info.splitlines() if line.startswith('processor')])} cores"
    )


def _comparison(base: Path, args, name: str, slowdown: int, seed: int, design: str) -> dict:
    """One `mnist-models ab` run; its tables kept under comparisons/NAME, its wall time returned."""
    out = Path(tempfile.mkdtemp(prefix="gate-power-"))
    pairs = ["--pairs", "16"] if design == "fixed" else ["--max-pairs", "16", "--min-pairs", "6"]
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
           "exit": result.returncode, "models": args.models, "profile": args.profile, "cpu": cpu(),
           "commit": commit.stdout.strip()}  # fmt: skip
    print(f"{name}: exit {result.returncode} in {wall:.0f} s", flush=True)
    return row


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
                rows.append(_comparison(base, args, f"fixed-{slowdown:02d}pct-{k:02d}", slowdown, seed, "fixed"))
                if slowdown == 0 and k - done < args.real:  # the same code, right after: the sequential design's wall
                    rows.append(_comparison(base, args, f"sequential-00pct-{k:02d}", 0, seed, "sequential"))
                _write_index(index, rows)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return analyse(args)


def _write_index(index: Path, rows: list[dict]) -> None:
    atomic_write_bytes(index, pd.DataFrame(rows).to_csv(index=False).encode())


def _recorded(folder: Path) -> tuple[dict, dict]:
    pairs = pd.read_csv(folder / "pairs.csv").sort_values(["benchmark", "pair"])
    base = {b: list(g["base_s"]) for b, g in pairs.groupby("benchmark")}
    head = {b: list(g["head_s"]) for b, g in pairs.groupby("benchmark")}
    return base, head


def wilson(hits: int, total: int) -> str:
    if total == 0:
        return "–"
    low, high = stats.binomtest(hits, total).proportion_ci(method="wilson")
    return f"{hits / total:.0%} ({low:.0%}–{high:.0%})"


def analyse(args) -> int:
    out = Path(args.out)
    index = pd.read_csv(out / "comparisons.csv", dtype={"commit": str})
    verdicts = []
    for row in index[index["design"] == "fixed"].itertuples():
        base, head = _recorded(out / "comparisons" / row.name)
        for design_name, design in (("fixed", FIXED), ("sequential (replayed)", SEQUENTIAL)):
            table = compare_pairs(base, head, THRESHOLD, design=design)
            table = table.assign(comparison=row.name, design=design_name, slowdown_pct=row.slowdown_pct)
            verdicts.append(table)
    for row in index[index["design"] == "sequential"].itertuples():
        table = pd.read_csv(out / "comparisons" / row.name / "ab.csv")
        verdicts.append(table.assign(comparison=row.name, design="sequential (real run)", slowdown_pct=0))
    table = pd.concat(verdicts, ignore_index=True)
    table["group"] = table["benchmark"].str.split("/").str[0]
    atomic_write_bytes(out / "verdicts.csv", table.to_csv(index=False).encode())
    lines = _lines(args, index, table, out)
    atomic_write_bytes(out / "gate_power.md", ("\n".join(lines) + "\n").encode())
    print("\n".join(lines))
    return 0


def _lines(args, index: pd.DataFrame, table: pd.DataFrame, out: Path) -> list[str]:
    lines = [
        "# The A/B gate, measured",
        "",
        f"{_plan(index)}: `mnist-models ab` of one tree against a "
        f"copy of itself, the head slowed by each injected percentage; threshold +{THRESHOLD:.0%}, α 0.05; the fixed design (16 pairs of every "
        "benchmark) records every pair, and the sequential design (6 to 16 pairs) is replayed on those pairs, so "
        f"both meet the same ones. Rates with 95% Wilson intervals.",
        "",
        "## Comparisons that failed the gate",
        "",
        "| injected | design | comparisons | failed |",
        "|---:|---|---:|---|",
    ]
    suite = table.groupby(["slowdown_pct", "design", "comparison"])["failed"].any().reset_index()
    for (slowdown, design), g in suite.groupby(["slowdown_pct", "design"]):
        lines.append(f"| +{slowdown}% | {design} | {len(g)} | {wilson(int(g['failed'].sum()), len(g))} |")
    lines += [
        "",
        "## Benchmarks flagged, by group",
        "",
        "| injected | design | group | flagged |",
        "|---:|---|---|---|",
    ]
    for (slowdown, design, group), g in table.groupby(["slowdown_pct", "design", "group"]):
        lines.append(f"| +{slowdown}% | {design} | {group} | {wilson(int(g['failed'].sum()), len(g))} |")
    lines += _power_lines(table) + _time_lines(index, table) + _bias_lines(index, out)
    return lines


def _plan(index: pd.DataFrame) -> str:
    """What was compared where: per commit, CPU, profile and models, the comparisons of each design and slowdown."""
    index = index.fillna({"models": "?", "profile": "quick", "cpu": "?", "commit": "?"})
    parts = []
    for (commit, cpu_name, profile, models), g in index.groupby(["commit", "cpu", "profile", "models"], sort=False):
        counts = g.groupby(["design", "slowdown_pct"]).size()
        runs = ", ".join(f"{n} {d} at +{s}%" for (d, s), n in counts.items())
        parts.append(f"{runs} (commit {commit}, profile {profile}, models '{models}', CPU {cpu_name})")
    return "Comparisons: " + "; ".join(parts)


def _power_lines(table: pd.DataFrame) -> list[str]:
    lines = ["", "## Benchmarks below 95% power at +25%, and what each could detect", ""]
    slow = table[(table["slowdown_pct"] == 25) & (table["design"] != "sequential (real run)")]
    if slow.empty:
        return [*lines, "No +25% comparisons were measured."]
    per = slow.groupby(["design", "benchmark"]).agg(power=("failed", "mean"), comparisons=("failed", "size"),
                                                     detectable=("detectable", "median")).reset_index()  # fmt: skip
    weak = per[per["power"] < 0.95]
    lines.append(f"Of {per['benchmark'].nunique()} benchmarks, below 95% power: " + (
        "none." if weak.empty else ""))  # fmt: skip
    if not weak.empty:
        lines += ["", "| design | benchmark | power | median detectable slowdown |", "|---|---|---:|---:|"]
        lines += [f"| {r.design} | {r.benchmark} | {r.power:.0%} of {r.comparisons} | +{r.detectable:.0%} |"
                  for r in weak.itertuples()]  # fmt: skip
    return lines


def _time_lines(index: pd.DataFrame, table: pd.DataFrame) -> list[str]:
    identical = table[table["slowdown_pct"] == 0]
    pairs = identical.groupby("design")["pairs"].agg(["median", "mean"])
    lines = ["", "## Pairs and wall time to a verdict, identical code", "", "| design | pairs per benchmark (median, mean) |",
             "|---|---:|"]  # fmt: skip
    lines += [f"| {d} | {r['median']:.0f}, {r['mean']:.1f} |" for d, r in pairs.iterrows()]
    real = index[(index["slowdown_pct"] == 0)]
    fixed = real[(real["design"] == "fixed") & real["name"].isin(
        [n.replace("sequential", "fixed") for n in real[real["design"] == "sequential"]["name"]])]  # fmt: skip
    sequential = real[real["design"] == "sequential"]
    if len(sequential):
        ratio = float(np.median(sequential["wall_s"])) / float(np.median(fixed["wall_s"]))
        lines += [
            "",
            f"Interleaved real runs (each sequential run right after a fixed one): fixed "
            f"{', '.join(f'{w:.0f}' for w in fixed['wall_s'])} s (median {np.median(fixed['wall_s']):.0f} s); "
            f"sequential {', '.join(f'{w:.0f}' for w in sequential['wall_s'])} s (median "
            f"{np.median(sequential['wall_s']):.0f} s): **{ratio:.0%}** of the fixed design's wall time.",
        ]
    return lines


def _bias_lines(index: pd.DataFrame, out: Path) -> list[str]:
    """A side bias: on identical code, a benchmark whose log ratios, pooled over the comparisons, are not 0."""
    logs: dict[str, list[float]] = {}
    for row in index[(index["slowdown_pct"] == 0) & (index["design"] == "fixed")].itertuples():
        pairs = pd.read_csv(out / "comparisons" / row.name / "pairs.csv")
        for bench, group in pairs.groupby("benchmark"):
            logs.setdefault(bench, []).extend(group["log_ratio"])
    if not logs:
        return []
    names = sorted(logs)
    tests = [trimmed_test(np.array(logs[b])) for b in names]
    p_two = [2 * min(p, 1 - p) for _, _, p in tests]
    adjusted = holm(p_two)
    biased = [(b, t, p) for b, t, p in zip(names, tests, adjusted, strict=True) if p < 0.05]
    lines = ["", "## Side bias on identical code", "",
             f"Every pair of the identical comparisons pooled per benchmark ({len(names)} benchmarks, two-sided, "
             "Holm): "]  # fmt: skip
    if not biased:
        return [*lines[:-1], lines[-1] + "no benchmark differs between the sides."]
    lines[-1] += f"{len(biased)} differ:"
    lines += [f"- {b}: {math.exp(t[0]) - 1:+.1%} (Holm p={p:.2g})" for b, t, p in biased]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stage", choices=("measure", "analyse"))
    parser.add_argument("--models", default="*")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--plan", default="0:6,25:6", help="slowdown%%:comparisons, ...")
    parser.add_argument("--real", type=int, default=3, help="sequential runs of identical code, interleaved")
    parser.add_argument("--append", action="store_true", help="add to the comparisons already under --out")
    parser.add_argument("--out", default=str(ROOT / "reports" / "gate-power"))
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []  # more `mnist-models ab` options, after --
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    args.ab_args = extra
    return measure(args) if args.stage == "measure" else analyse(args)


if __name__ == "__main__":
    sys.exit(main())
