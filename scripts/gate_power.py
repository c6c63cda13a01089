"""Measure the A/B gate itself: its false-alarm rate on identical code and its power per injected slowdown.

    python scripts/gate_power.py [--models mlp_256_128,cnn_32_64_fc64] [--profile quick]
        [--plan 0:20,25:20,20:10,15:10,10:10] [--out reports/gate-power]

Each comparison is one `mnist-models ab` run of this tree against a copy of itself (so
both sides import the same code), the head's timed calls slowed by the given percentage
with `--slowdown`, each with its own random block order (`--seed`). A comparison at 0%
that fails is a false alarm; at +N% one that fails is a catch. Run the suite once first
so the models' weights are cached; prints one line per comparison and a table at the end
(also written as CSV and Markdown to --out), with the CPU named.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import tempfile
import time
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="mlp_256_128,cnn_32_64_fc64")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--threshold", default="10%")
    parser.add_argument("--plan", default="0:20,25:20,20:10,15:10,10:10", help="slowdown%%:comparisons, ...")
    parser.add_argument("--out", default="reports/gate-power")
    parser.add_argument("ab_args", nargs="*", help="more `mnist-models ab` options, after --")
    args = parser.parse_args()
    plan = [(int(s), int(k)) for s, k in (item.split(":") for item in args.plan.split(","))]
    base = Path(tempfile.mkdtemp(prefix="gate-power-base-"))
    shutil.copytree(ROOT / "mnist_models", base / "mnist_models")
    rows = []
    try:
        for slowdown, comparisons in plan:
            failed = 0
            for k in range(comparisons):
                command = [
                    sys.executable,
                    "-m",
                    "mnist_models",
                    "ab",
                    "--base",
                    str(base),
                    "--profile",
                    args.profile,
                    "--models",
                    args.models,
                    "--pairs",
                    str(args.pairs),
                    "--threshold",
                    args.threshold,
                    "--slowdown",
                    f"{slowdown}%",
                    "--seed",
                    str(k),
                    "--out",
                    str(base / "out"),
                    *args.ab_args,
                ]
                start = time.perf_counter()
                result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
                if result.returncode not in (0, 1):
                    print(result.stdout[-2000:], result.stderr[-2000:], file=sys.stderr)
                    return 2
                failed += result.returncode == 1
                worst = max(
                    (
                        line
                        for line in result.stdout.splitlines()
                        if line.startswith("| ") and "/" in line.split("|")[1]
                    ),
                    key=lambda line: float(line.split("|")[2].strip().rstrip("%")),
                )
                print(
                    f"+{slowdown}% #{k + 1}: exit {result.returncode} in {time.perf_counter() - start:.0f} s; "
                    f"slowest case {worst.split('|')[1].strip()} {worst.split('|')[2].strip()}",
                    flush=True,
                )
            rows.append((slowdown, comparisons, failed))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    lines = [
        f"Gate: `mnist-models ab --pairs {args.pairs} --threshold {args.threshold}`, profile {args.profile}, "
        f"models {args.models}, groups train-step, latency, throughput; CPU: {cpu()}",
        "",
        "| injected slowdown | comparisons | gate failed | rate |",
        "|---:|---:|---:|---:|",
        *(f"| +{s}% | {k} | {f} | {f / k:.0%} |" for s, k, f in rows),
    ]
    print("\n".join(lines))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gate_power.md").write_text("\n".join(lines) + "\n")
    (out / "gate_power.csv").write_text(
        "slowdown_pct,comparisons,failed\n" + "".join(f"{s},{k},{f}\n" for s, k, f in rows)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
