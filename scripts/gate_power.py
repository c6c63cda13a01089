"""Measure the A/B gate itself: its false alarms on identical code and its power per injected slowdown, per group.

    python scripts/gate_power.py [--models mlp_256_128,cnn_32_64_fc64] [--profile quick]
        [--plan 0:20,25:10] [--out reports/gate-power] [-- more mnist-models ab options]

Each comparison is one `mnist-models ab` run of this tree against a copy of itself (so both
sides import the same code), the head's timed calls slowed by the given percentage with
`--slowdown`, each with its own random block order (`--seed`). A comparison at +0% that fails
is a false alarm; at +N%, each benchmark the gate flags is a catch, and the share of
benchmarks flagged, group by group, is the gate's power for that group (the suite-wide rate:
the share of comparisons that failed). Run the suite once first so the models' weights are
cached. Prints a line per comparison and the tables, written as CSV and Markdown to --out,
with the CPU named.
"""

from __future__ import annotations

import argparse
import csv
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cpu() -> str:
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    isa = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_tile") if f in flags]
    return f"{model} ({', '.join(isa)})"


def compare(base: Path, args, slowdown: int, seed: int) -> list[dict]:
    """One `mnist-models ab` comparison; its ab.csv rows (exit 2 stops the script)."""
    out = base / "out"
    command = [
        sys.executable, "-m", "mnist_models", "ab", "--base", str(base), "--profile", args.profile,
        "--models", args.models, "--pairs", str(args.pairs), "--threshold", args.threshold,
        "--slowdown", f"{slowdown}%", "--seed", str(seed), "--out", str(out), *args.ab_args,
    ]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode not in (0, 1):
        print(result.stdout[-2000:], result.stderr[-2000:], file=sys.stderr)
        raise SystemExit(2)
    with (out / "ab.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    if args.keep:  # the comparison's verdicts and its pairs, for reading the noise afterwards
        kept = Path(args.keep) / f"{slowdown:02d}pct-{seed:02d}"
        kept.mkdir(parents=True, exist_ok=True)
        for name in ("ab.csv", "pairs.csv"):
            shutil.copy(out / name, kept / name)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="mlp_256_128,cnn_32_64_fc64")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--pairs", type=int, default=16)
    parser.add_argument("--threshold", default="10%")
    parser.add_argument("--plan", default="0:20,25:10", help="slowdown%%:comparisons, ...")
    parser.add_argument("--out", default="reports/gate-power")
    parser.add_argument("--keep", metavar="DIR", help="keep each comparison's ab.csv and pairs.csv under DIR")
    parser.add_argument("ab_args", nargs="*", help="more `mnist-models ab` options, after --")
    args = parser.parse_args()
    plan = [(int(s), int(k)) for s, k in (item.split(":") for item in args.plan.split(","))]
    base = Path(tempfile.mkdtemp(prefix="gate-power-base-"))
    shutil.copytree(ROOT / "mnist_models", base / "mnist_models", ignore=shutil.ignore_patterns("__pycache__"))
    suite_rows, group_rows = [], []
    try:
        for slowdown, comparisons in plan:
            failed = 0
            flagged: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # group -> flagged, benchmarks, failed runs
            widest: dict[str, tuple[float, float]] = {}
            for k in range(comparisons):
                start = time.perf_counter()
                rows = compare(base, args, slowdown, k)
                failed += any(r["failed"] == "True" for r in rows)
                for group in {r["benchmark"].split("/")[0] for r in rows}:
                    mine = [r for r in rows if r["benchmark"].startswith(group + "/")]
                    flagged[group][0] += sum(r["failed"] == "True" for r in mine)
                    flagged[group][1] += len(mine)
                    flagged[group][2] += any(r["failed"] == "True" for r in mine)
                    for r in mine:
                        interval = (float(r["ratio_low"]) - 1, float(r["ratio_high"]) - 1)
                        widest[group] = max(widest.get(group, (0.0, 0.0)), interval, key=lambda w: w[1] - w[0])
                worst = max(rows, key=lambda r: float(r["ratio"]))
                print(
                    f"+{slowdown}% #{k + 1}: {'FAILED' if any(r['failed'] == 'True' for r in rows) else 'passed'} in "
                    f"{time.perf_counter() - start:.0f} s; slowest {worst['benchmark']} {float(worst['ratio']) - 1:+.1%}",
                    flush=True,
                )
            suite_rows.append((slowdown, comparisons, failed))
            for group, (hits, total, runs_failed) in sorted(flagged.items()):
                low, high = widest[group]
                group_rows.append(
                    (slowdown, group, comparisons, runs_failed, hits, total, f"{low:+.0%} to {high:+.0%}")
                )
    finally:
        shutil.rmtree(base, ignore_errors=True)
    lines = [
        f"Gate: `mnist-models ab --pairs {args.pairs} --threshold {args.threshold}`, profile {args.profile}, "
        f"models {args.models}; CPU: {cpu()}",
        "",
        "| injected slowdown | comparisons | gate failed | rate |",
        "|---:|---:|---:|---:|",
        *(f"| +{s}% | {k} | {f} | {f / k:.0%} |" for s, k, f in suite_rows),
        "",
        "| injected slowdown | group | comparisons failed | benchmarks flagged | widest 95% interval |",
        "|---:|---|---:|---:|---|",
        *(f"| +{s}% | {g} | {rf} of {k} | {h} of {t} ({h / t:.0%}) | {w} |" for s, g, k, rf, h, t, w in group_rows),
    ]
    print("\n".join(lines))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gate_power.md").write_text("\n".join(lines) + "\n")
    (out / "gate_power.csv").write_text(
        "slowdown_pct,comparisons,failed\n" + "".join(f"{s},{k},{f}\n" for s, k, f in suite_rows)
    )
    (out / "gate_power_groups.csv").write_text(
        "slowdown_pct,group,comparisons,comparisons_failed,flagged,benchmarks,widest_interval\n"
        + "".join(f"{s},{g},{k},{rf},{h},{t},{w}\n" for s, g, k, rf, h, t, w in group_rows)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
