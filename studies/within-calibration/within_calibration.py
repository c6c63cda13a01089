"""Calibrate the A/B gate's "within the threshold" verdict over its repeated looks, by simulation.

    python studies/within-calibration/within_calibration.py [--reps 40000] [--out reports/gate-power]

The sequential design looks at a benchmark after every pair from the sixth to the sixteenth and calls it
*within the threshold* as soon as the upper end of a one-sided interval on the trimmed mean of its log
ratios falls below log(1 + threshold). Each look alone at 95% is right 95% of the time, but eleven
correlated looks give eleven chances: a benchmark slowed by exactly the threshold is called within far
more often than 5%. The remedy is Pocock's (1977): one nominal level at every look, chosen so that the
chance over all looks is the target (5%). The statistic (Yuen's trimmed t) is scale-free, so at the
boundary that chance depends only on the looks, the level and the shape of the noise; this script
measures it for the design's looks (``Design.within_looks``) under three shapes (normal, Student t with
3 df, and normal with one pair in six from a neighbour eight times as noisy: the shape measured on
identical code, see mnist_models/ab/paired.py) and beside it for a grid of per-look levels, and writes
``within_calibration.csv`` and ``within_calibration.md``. The same computation, at fewer repetitions,
is a test.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from mnist_models.ab.paired import WITHIN_LEVEL, Design, within_rule  # noqa: E402
from mnist_models.files import atomic_write_bytes  # noqa: E402
from mnist_models.stats.paired import TRIM  # noqa: E402

LEVELS = (0.05, 0.02, 0.015, 0.01, 0.0075)


def trimmed_upper(logs: np.ndarray, level: float, trim: float = TRIM) -> np.ndarray:
    """Per row of ``logs``: the upper end of the one-sided (1 - level) interval of the trimmed mean — the numbers
    of ``stats.paired.trimmed_test``, for many rows at once (a test checks that they agree)."""
    x = np.sort(logs, axis=1)
    n = x.shape[1]
    g = math.floor(trim * n)
    center = x[:, g : n - g].mean(axis=1)
    se = np.clip(x, x[:, [g]], x[:, [n - g - 1]]).std(axis=1, ddof=1) / ((1 - 2 * trim) * math.sqrt(n))
    return center + stats.t.ppf(1 - level, n - 2 * g - 1) * se


SHAPES = {
    "normal": lambda rng, size: rng.normal(size=size),
    "Student t, 3 df": lambda rng, size: rng.standard_t(3, size=size),
    "one pair in six 8x noisier": lambda rng, size: np.where(
        rng.random(size) < 1 / 6, rng.normal(scale=8, size=size), rng.normal(size=size)
    ),
}


def called_within(noise: np.ndarray, looks: dict[int, float]) -> float:
    """The share of benchmarks slowed by exactly the threshold (noise centred on the boundary: 0 here, the
    statistic being scale- and shift-equivariant) that some look calls within."""
    called = np.zeros(noise.shape[0], bool)
    for pairs, level in looks.items():
        called |= trimmed_upper(noise[:, :pairs], level) < 0
    return float(called.mean())


def calibrate(reps: int, seed: int = 1, design: Design | None = None) -> pd.DataFrame:
    design = design or Design()
    rows = []
    for shape, draw in SHAPES.items():
        noise = draw(np.random.default_rng(seed), (reps, design.max_pairs))
        every = range(design.min_pairs, design.max_pairs + 1)
        schedules = {f"the design's: {within_rule(design)}": design.within_looks}
        schedules |= {f"{1 - lv:.2%} at every look": dict.fromkeys(every, lv) for lv in LEVELS}
        for name, looks in schedules.items():
            rate = called_within(noise, looks)
            low, high = stats.binomtest(round(rate * reps), reps).proportion_ci(method="wilson")
            rows.append({"noise": shape, "schedule": name, "looks": len(looks), "reps": reps,
                         "called_within": rate, "low": low, "high": high})  # fmt: skip
    return pd.DataFrame(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=40000)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "gate-power")
    args = parser.parse_args()
    table = calibrate(args.reps)
    design = Design()
    lines = [
        "# The within verdict over repeated looks, calibrated by simulation",
        "",
        f"`python studies/within-calibration/within_calibration.py --reps {args.reps}`: a benchmark slowed by exactly the threshold, "
        f"looked at after every pair from {design.min_pairs} to {design.max_pairs}; the share of benchmarks some look "
        f"calls within (target: at most {WITHIN_LEVEL:.0%}), with 95% Wilson intervals. The design's looks: "
        f"{within_rule(design)}.",
        "",
        "| noise | schedule | looks | called within at the threshold |",
        "|---|---|---:|---|",
        *[f"| {r.noise} | {r.schedule} | {r.looks} | {r.called_within:.1%} ({r.low:.1%}–{r.high:.1%}) |"
          for r in table.itertuples()],
    ]  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(args.out / "within_calibration.csv", table.to_csv(index=False).encode())
    atomic_write_bytes(args.out / "within_calibration.md", ("\n".join(lines) + "\n").encode())
    print("\n".join(lines))
    worst = table[table["schedule"].str.startswith("the design's")]["called_within"].max()
    return 0 if worst <= WITHIN_LEVEL else 1


if __name__ == "__main__":
    sys.exit(main())
