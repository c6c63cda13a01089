"""Accuracy floors from a tested rule, derived from committed multi-seed runs: never copied by hand.

    python studies/floors/floors.py [RUN.json ...]     # the floors table (Markdown) of the committed runs
    python studies/floors/floors.py --check           # exit 1 if a floor in mnist_models/models/architectures.py differs

The rule, per model and profile: the seeds' mean test accuracy m and their spread s, taken as the
larger of the model's own standard deviation and the one pooled over every model of the run (a few
seeds estimate a spread poorly, and the same seed trains to other weights on another CPU kind); the
floor is m - z(0.99) s, rounded down to 0.01 points, so that a normal seed fails it with probability
1% at most. Beside each floor, computed from the same spread: the chance that a normal seed fails
it, and the chance that a seed 1 point less accurate does (a 1-point regression caught). Where the
spread makes both a 1% false failure and a 90% catch impossible (s above 1 / (z(0.99) + z(0.9))
points), the table says so for that model instead of widening the floor silently.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from mnist_models.models.registry import get_spec  # noqa: E402
from mnist_models.results.runs import Run, load_run  # noqa: E402

RUNS = {"quick": "reports/seeds/[0-9]*.json"}  # profile -> its committed multi-seed run(s)
FALSE_FAILURE = 0.01
DROP = 0.01  # a 1-point regression
CATCH = 0.90
Z = float(stats.norm.ppf(1 - FALSE_FAILURE))
WIDEST = DROP / (Z + float(stats.norm.ppf(CATCH)))  # above this spread no floor does both


def accuracies(runs: list[Run]) -> dict[str, np.ndarray]:
    by_model: dict[str, dict[int, float]] = {}
    for run in runs:
        for bench in run.benches:
            by_model.setdefault(bench.record.model, {})[bench.record.seed] = bench.record.outcome.test.accuracy
    return {m: np.array([v[s] for s in sorted(v)]) for m, v in sorted(by_model.items())}


def floors(runs: list[Run]) -> list[dict]:
    """Each model's floor by the rule, with the two probabilities it was chosen by."""
    accs = accuracies(runs)
    pooled = math.sqrt(float(np.mean([a.var(ddof=1) for a in accs.values()])))
    rows = []
    for model, values in accs.items():
        mean, own = float(values.mean()), float(values.std(ddof=1))
        spread = max(own, pooled)
        floor = math.floor((mean - Z * spread) * 1e4) / 1e4
        rows.append({
            "model": model, "seeds": len(values), "accuracies": values, "mean": mean, "sd": own, "spread": spread,
            "floor": floor, "false_failure": float(stats.norm.cdf((floor - mean) / spread)),
            "catch": float(stats.norm.cdf((floor - (mean - DROP)) / spread)), "feasible": spread <= WIDEST,
        })  # fmt: skip
    return rows


def table(profile: str, runs: list[Run]) -> str:
    rows = floors(runs)
    lines = [
        "| model | seeds | mean | sd | spread used | floor | a normal seed fails | a 1-point drop caught |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        caught = f"{r['catch']:.1%}" + (
            "" if r["feasible"] else " — under 90%: the spread allows no floor that does both"
        )
        lines.append(
            f"| `{r['model']}` | {', '.join(f'{a:.2%}' for a in r['accuracies'])} | {r['mean']:.2%} | {r['sd'] * 100:.2f} pp"
            f" | {r['spread'] * 100:.2f} pp | {r['floor']:.2%} | {r['false_failure']:.1%} | {caught} |"
        )
    return "\n".join(lines) + "\n"


def check() -> int:
    wrong = []
    for profile, pattern in RUNS.items():
        runs = [load_run(p) for p in sorted(ROOT.glob(pattern))]
        for row in floors(runs):
            registered = get_spec(row["model"]).floor(profile)
            if registered is None or abs(registered - row["floor"]) > 1e-9:
                wrong.append(f"{row['model']} ({profile}): registered {registered}, the rule gives {row['floor']:.4f}")
    print("\n".join(wrong) if wrong else "every floor follows the rule")
    return 1 if wrong else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", type=Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if args.check:
        return check()
    runs = [load_run(p) for p in (args.runs or sorted(ROOT.glob(RUNS["quick"])))]
    print(table(runs[0].profile, runs), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
