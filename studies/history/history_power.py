"""Measure the history's change-point detector on series with known steps and this project's own noise.

    python studies/history/history_power.py --reruns RUN.json [RUN.json ...] [--ab DIR ...] [--k 400] [--out reports/history]

Noise: the log residuals of the median times of the same benchmarks in same-machine reruns
(``--reruns``: saved runs of one machine, each benchmark's residual from its own mean across
the runs) and the log slowdown ratios of identical-code A/B comparisons (``--ab``: folders
holding an ``ab.csv``), pooled. Each synthetic series draws 20 points from that noise
(bootstrap) and, for a step, multiplies the last 10 by (1 + step); the detector
(``mnist_models.history.detect.time_changes``) runs on each. Each source of noise is measured
apart (a history of A/B ratios and one of raw times are different series), then both pooled.
Prints, and writes as ``power.md``/``power.csv``: the false-alarm rate (step-free series with any
change point), the power (series with a step in which a regression step was found) and how often
the change point lands within one commit of the true one.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

from mnist_models.history.detect import time_changes
from mnist_models.history.series import Point, Series
from mnist_models.results.record import benchmark_key
from mnist_models.results.runs import load_run


def rerun_residuals(paths: list[str]) -> np.ndarray:
    """Each benchmark's log median time minus its mean over the runs (runs of one machine)."""
    by_benchmark: dict[tuple, list[float]] = {}
    for path in paths:
        for bench in load_run(path).benches:
            median = bench.stats.get("median")
            if median:
                by_benchmark.setdefault(benchmark_key(bench.record), []).append(np.log(median))
    residuals = [np.array(v) - np.mean(v) for v in by_benchmark.values() if len(v) >= 3]
    # the mean is estimated from the same points: scale up so the residuals have the points' own spread
    return np.concatenate([r * np.sqrt(len(r) / (len(r) - 1)) for r in residuals]) if residuals else np.array([])


def ab_log_ratios(folders: list[str]) -> np.ndarray:
    values = []
    for folder in folders:
        with (Path(folder) / "ab.csv").open() as fh:
            values += [np.log(float(r["ratio"])) for r in csv.DictReader(fh)]
    return np.array(values) - (np.mean(values) if values else 0.0)


def simulate(noise: np.ndarray, step: float, k: int, rng: np.random.Generator, n: int = 20) -> tuple[int, int, int]:
    """(series with a change point, of which a regression, of those within one commit of the true one)."""
    found = regressions = placed = 0
    for _ in range(k):
        logs = rng.choice(noise, n) + np.where(np.arange(n) >= n // 2, np.log1p(step), 0.0)
        points = [Point(f"c{i:02d}", f"2026-01-{i + 1:02d}", f"run{i}", float(np.exp(v))) for i, v in enumerate(logs)]
        changes = time_changes(Series("m", "model", "latency", "time", 0, points))
        found += bool(changes)
        slower = [c for c in changes if c.regression]
        regressions += bool(slower)
        placed += any(abs(c.index - n // 2) <= 1 for c in slower)
    return found, regressions, placed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reruns", nargs="*", default=[], help="saved runs of one machine, of the same benchmarks")
    parser.add_argument("--ab", nargs="*", default=[], help="folders of identical-code A/B comparisons (ab.csv)")
    parser.add_argument("--k", type=int, default=400, help="series per step size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="reports/history")
    args = parser.parse_args()
    sources = {"same-machine reruns": rerun_residuals(args.reruns), "identical A/B comparisons": ab_log_ratios(args.ab)}
    noise = np.concatenate([v for v in sources.values() if len(v)])
    if len(noise) < 10:
        print("history_power: fewer than 10 noise samples; give --reruns and/or --ab", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    named = {**{name: v for name, v in sources.items() if len(v)}, "pooled": noise}
    rows = []
    for name, values in named.items():  # each source apart (their spreads differ ~8x), then pooled as asked
        for step in (0.0, 0.10, 0.25):
            found, regressions, placed = simulate(values, step, args.k, rng)
            rows.append((name, step, args.k, found, regressions, placed))
    described = "; ".join(f"{name}: {len(v)} samples, sd {np.std(v):.1%}" for name, v in sources.items() if len(v))
    lines = [
        f"Noise: {described} (pooled: {len(noise)} log residuals, sd {np.std(noise):.1%}); "
        f"series of 20 points, a step after the 10th; {args.k} series per row.",
        "",
        "| noise | step | series | with a change point | with a regression step | of those, within one commit |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, step, k, found, regressions, placed in rows:
        within = f"{placed / regressions:.0%}" if regressions and step else "–"  # no true step: nothing to place
        lines.append(
            f"| {name} | +{step:.0%} | {k} | {found} ({found / k:.1%}) | {regressions} ({regressions / k:.1%}) "
            f"| {within} |"
        )
    print("\n".join(lines))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "power.md").write_text("\n".join(lines) + "\n")
    with (out / "power.csv").open("w") as fh:
        fh.write("noise,step,series,with_change,with_regression,within_one_commit\n")
        fh.writelines(f"{n},{s},{k},{f},{r},{p}\n" for n, s, k, f, r, p in rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
