"""Derive accuracy floors from a multi-seed run: median test accuracy per model minus a margin.

Usage: python scripts/floors_from_run.py RUN.json [--margin-pp 0.5]
Prints a Markdown table (per-seed accuracies, median, floor) for docs/floors.md.
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict
from statistics import median

from mnist_models.results.runs import load_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("--margin-pp", type=float, default=0.5)
    args = parser.parse_args()
    run = load_run(args.run)
    accuracy: dict[str, dict[int, float]] = defaultdict(dict)
    epochs: dict[str, int] = {}
    for bench in run.benches:
        record = bench.record
        accuracy[record.model][record.seed] = record.outcome.test.accuracy
        epochs[record.model] = record.outcome.epochs_run
    seeds = sorted({s for by_seed in accuracy.values() for s in by_seed})
    print("| model | epochs | " + " | ".join(f"seed {s}" for s in seeds) + " | median | floor |")
    print("|---|---:|" + "---:|" * len(seeds) + "---:|---:|")
    for model in sorted(accuracy):
        values = accuracy[model]
        mid = median(values.values())
        # round up to 0.01 pp so the floor is never more than the margin below the median
        floor = math.ceil((mid - args.margin_pp / 100) * 1e4) / 1e4
        cells = " | ".join(f"{values[s]:.2%}" if s in values else "–" for s in seeds)
        print(f"| {model} | {epochs[model]} | {cells} | {mid:.2%} | {floor:.4f} |")


if __name__ == "__main__":
    main()
