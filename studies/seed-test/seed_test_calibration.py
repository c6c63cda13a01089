"""Measure the architecture test (``mnist_models.stats.seeds``) and the seed rounds (``stats.sequential``) by simulation.

    python studies/seed-test/seed_test_calibration.py RUN.json [--out reports/seed-test] [--repeats 2000]

The population is taken from a committed multi-seed run: for each model, every test image's
chance of being classified right by a random seed (the seeds' correct counts, shrunk by a
beta-binomial fitted to all of them), and the seeds' spread of test accuracy (a per-seed shift of
every image's log-odds, its size set so that the simulated seeds spread as the run's did). Each
repeat draws a fresh test set of as many images from that population (with replacement), fresh
seeds for each architecture, and their 0/1 correctness, then tests. Two nulls:

- identical: both architectures are the same model's population;
- equal: two different models' populations, the second's log-odds shifted so that both are equally
  accurate over the population, while they still err on different images.

False-positive rates (alpha 0.05) of this test, of the old one (the Welch test plus the
seed-averaged test-set term, Satterthwaite df with that term at infinite df) and of Welch on the
seeds alone, at k = 2, 3, 5, 10 seeds per side, each with its 95% Wilson interval; the power curve
against the true difference; and the seed rounds (``--mnist-seeds auto:N``) under the same nulls and
alternatives: their error rate under optional stopping, their power and the seeds they used.
Writes calibration.csv, power.csv, rounds.csv and calibration.md into --out.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from mnist_models.files import atomic_write_bytes  # noqa: E402
from mnist_models.results.runs import load_run  # noqa: E402
from mnist_models.stats import sequential  # noqa: E402
from mnist_models.stats.seeds import architecture_test  # noqa: E402

ALPHA = 0.05
PAIRS = (("cnn_32_64_fc64", "lenet5"), ("mlp_256_128", "mlp_128_64"), ("speedrun_cnn", "mlp_256_128"))
SEEDS = (2, 3, 5, 10)
DIFFERENCES_PP = (0.05, 0.1, 0.2, 0.3, 0.5, 1.0)


class Population:
    """One model's images (their chance of being right for a random seed) and its seeds' log-odds spread."""

    def __init__(self, name: str, correct: np.ndarray) -> None:
        self.name = name
        k, n = correct.shape
        counts = correct.sum(axis=0)
        a, b = _beta_binomial_fit(counts, k)
        self.logit = special.logit((counts + a) / (k + a + b))
        self.spread = _seed_spread(self.logit, correct.mean(axis=1).std(ddof=1), n)

    def shifted(self, shift: float) -> np.ndarray:
        return self.logit + shift

    def mean(self, shift: float = 0.0) -> float:
        return float(special.expit(self.logit + shift).mean())

    def shift_to(self, accuracy: float) -> float:
        """The log-odds shift that makes this population's mean accuracy ``accuracy``."""
        return float(optimize.brentq(lambda s: self.mean(s) - accuracy, -8, 8))


def _beta_binomial_fit(counts: np.ndarray, k: int) -> tuple[float, float]:
    """Maximum-likelihood beta prior of the per-image chance of being right, from counts of k seeds."""

    def nll(params):
        a, b = np.exp(params)
        return -np.sum(special.betaln(counts + a, k - counts + b) - special.betaln(a, b))

    fit = optimize.minimize(nll, x0=[np.log(10.0), np.log(0.2)], method="Nelder-Mead")
    return tuple(np.exp(fit.x))


def _seed_spread(logit: np.ndarray, accuracy_sd: float, n: int) -> float:
    """The sd of a per-seed log-odds shift for which a seed's accuracy spreads ``accuracy_sd`` (Bernoulli noise
    of n images included)."""
    p = special.expit(logit)
    slope = float(np.mean(p * (1 - p)))  # d accuracy / d shift
    bernoulli = float(np.mean(p * (1 - p))) / n
    return math.sqrt(max(accuracy_sd**2 - bernoulli, 1e-12)) / slope


def _seeds(rng, logit: np.ndarray, spread: float, k: int) -> np.ndarray:
    shifts = rng.normal(0.0, spread, size=(k, 1))
    return (rng.random((k, len(logit))) < special.expit(logit[None, :] + shifts)).astype(np.float64)


def _old_test(a: np.ndarray, b: np.ndarray) -> float:
    """The test before this one: Welch plus the seed-averaged test-set term, Satterthwaite with it at infinite df."""
    acc_a, acc_b = a.mean(1), b.mean(1)
    ka, kb = len(acc_a), len(acc_b)
    va, vb = acc_a.var(ddof=1) / ka, acc_b.var(ddof=1) / kb
    vt = float((a.mean(0) - b.mean(0)).var(ddof=1) / a.shape[1])
    diff, se = acc_a.mean() - acc_b.mean(), math.sqrt(va + vb + vt)
    pieces = va**2 / (ka - 1) + vb**2 / (kb - 1)
    df = (va + vb + vt) ** 2 / pieces if pieces > 0 else math.inf
    return float(2 * stats.t.sf(abs(diff) / se, df)) if se > 0 else 1.0


def _welch(a: np.ndarray, b: np.ndarray) -> float:
    return float(stats.ttest_ind(a.mean(1), b.mean(1), equal_var=False).pvalue)


def _draw(rng, pair, shifts, n):
    """A fresh test set: n images drawn from the population, as each side's log-odds."""
    images = rng.integers(0, len(pair[0].logit), n)
    return pair[0].shifted(shifts[0])[images], pair[1].shifted(shifts[1])[images]


def fixed_design(rng, pair, shifts, k: int, repeats: int, n: int) -> dict[str, int]:
    rejections = {"this test": 0, "old test": 0, "Welch on the seeds": 0}
    for _ in range(repeats):
        logit_a, logit_b = _draw(rng, pair, shifts, n)
        a, b = _seeds(rng, logit_a, pair[0].spread, k), _seeds(rng, logit_b, pair[1].spread, k)
        rejections["this test"] += architecture_test(a, b).p_value < ALPHA
        rejections["old test"] += _old_test(a, b) < ALPHA
        rejections["Welch on the seeds"] += _welch(a, b) < ALPHA
    return rejections


def rounds_design(rng, pair, shifts, cap: int, repeats: int, n: int) -> tuple[int, float]:
    """The seed rounds on two models: how often a difference is declared, and the mean seeds used (both sides)."""
    schedule = sequential.looks(cap)
    shares = sequential.spending(schedule, ALPHA)
    declared, seeds_used = 0, 0
    for _ in range(repeats):
        logit = _draw(rng, pair, shifts, n)
        pools = [_seeds(rng, logit[i], pair[i].spread, cap) for i in range(2)]
        have = {"a": schedule[0], "b": schedule[0]}
        below: dict[str, str] = {}
        for index, share in enumerate(shares):
            correct = {"a": pools[0][: have["a"]], "b": pools[1][: have["b"]]}
            verdicts, below = sequential.look(correct, share, shares[-1], cap, below)
            more = sequential.wanting(verdicts)
            if below or not more or index + 1 == len(schedule):
                break
            for model in more:
                have[model] = schedule[index + 1]
        declared += bool(below)
        seeds_used += have["a"] + have["b"]
    return declared, seeds_used / repeats


def wilson(hits: int, total: int) -> tuple[float, float]:
    low, high = stats.binomtest(hits, total).proportion_ci(method="wilson")
    return float(low), float(high)


def _populations(run_path: Path) -> dict[str, Population]:
    run = load_run(run_path)
    by_model: dict[str, dict[int, np.ndarray]] = {}
    for bench in run.benches:
        test = bench.record.outcome.test
        by_model.setdefault(bench.record.model, {})[bench.record.seed] = test.predictions == test.labels
    wanted = {m for pair in PAIRS for m in pair}
    return {m: Population(m, np.array([s[k] for k in sorted(s)], float)) for m, s in by_model.items() if m in wanted}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "seed-test")
    parser.add_argument("--repeats", type=int, default=2000)
    parser.add_argument("--power-repeats", type=int, default=500)
    parser.add_argument("--caps", default="5,8")
    args = parser.parse_args()
    start = time.perf_counter()
    rng = np.random.default_rng(20261203)
    pops = _populations(args.run)
    n = len(next(iter(pops.values())).logit)
    rows, power_rows, round_rows = [], [], []
    for first, second in PAIRS:
        a, b = pops[first], pops[second]
        nulls = {
            f"identical ({first})": ((a, a), (0.0, 0.0)),
            f"equal ({first} vs {second})": ((a, b), (0.0, b.shift_to(a.mean()))),
        }
        for null, (pair, shifts) in nulls.items():
            for k in SEEDS:
                for test, hits in fixed_design(rng, pair, shifts, k, args.repeats, n).items():
                    low, high = wilson(hits, args.repeats)
                    rows.append({"null": null, "seeds": k, "test": test, "repeats": args.repeats,
                                 "false_positives": hits, "rate": hits / args.repeats, "low": low, "high": high})  # fmt: skip
            for cap in map(int, args.caps.split(",")):
                hits, used = rounds_design(rng, pair, shifts, cap, args.repeats, n)
                low, high = wilson(hits, args.repeats)
                round_rows.append({"truth": null, "cap": cap, "difference_pp": 0.0, "repeats": args.repeats,
                                   "declared": hits, "rate": hits / args.repeats, "low": low, "high": high,
                                   "mean_seeds_per_model": used / 2})  # fmt: skip
        for difference in DIFFERENCES_PP:
            shifts = (0.0, b.shift_to(a.mean() - difference / 100))
            for k in SEEDS:
                hits = fixed_design(rng, (a, b), shifts, k, args.power_repeats, n)["this test"]
                power_rows.append({"pair": f"{first} vs {second}", "difference_pp": difference, "seeds": k,
                                   "repeats": args.power_repeats, "power": hits / args.power_repeats})  # fmt: skip
            for cap in map(int, args.caps.split(",")):
                hits, used = rounds_design(rng, (a, b), shifts, cap, args.power_repeats, n)
                low, high = wilson(hits, args.power_repeats)
                round_rows.append({"truth": f"{first} − {difference} pp vs {second}", "cap": cap,
                                   "difference_pp": difference, "repeats": args.power_repeats, "declared": hits,
                                   "rate": hits / args.power_repeats, "low": low, "high": high,
                                   "mean_seeds_per_model": used / 2})  # fmt: skip
        print(f"{first} vs {second}: done after {time.perf_counter() - start:.0f} s", flush=True)
    write(args, pops, pd.DataFrame(rows), pd.DataFrame(power_rows), pd.DataFrame(round_rows), n)


def write(args, pops, calibration, power, rounds, n) -> None:
    out = args.out
    for name, frame in (("calibration.csv", calibration), ("power.csv", power), ("rounds.csv", rounds)):
        atomic_write_bytes(out / name, frame.to_csv(index=False).encode())
    lines = [
        "# The architecture test, measured by simulation",
        "",
        f"`python studies/seed-test/seed_test_calibration.py {args.run.relative_to(ROOT) if args.run.is_relative_to(ROOT) else args.run}"
        f" --repeats {args.repeats} --power-repeats {args.power_repeats} --caps {args.caps}`: populations from that "
        f"run's seeds ({n:,} test images each); α = {ALPHA}; a fresh test set of {n:,} images per repeat.",
        "",
        "Seed spread (per-seed log-odds shift, sd) and population accuracy of each model: "
        + "; ".join(f"{p.name} {p.mean():.2%} (shift sd {p.spread:.3f})" for p in pops.values())
        + ".",
        "",
        "## False-positive rate of the fixed test (95% Wilson interval)",
        "",
        _pivot(calibration, "rate", "low", "high").to_markdown(),
        "",
        "## Power of this test against the true difference",
        "",
        power.pivot_table(index=["pair", "difference_pp"], columns="seeds", values="power").to_markdown(floatfmt=".2f"),
        "",
        "## Seed rounds (`--mnist-seeds auto:N`): differences declared, and seeds used per model",
        "",
        rounds.assign(interval=rounds.apply(lambda r: f"{r.rate:.1%} ({r.low:.1%}–{r.high:.1%})", axis=1))[
            ["truth", "cap", "repeats", "interval", "mean_seeds_per_model"]
        ].to_markdown(index=False, floatfmt=".1f"),
        "",
    ]
    atomic_write_bytes(out / "calibration.md", "\n".join(lines).encode())
    print(f"written: {out / 'calibration.md'}")


def _pivot(frame: pd.DataFrame, rate: str, low: str, high: str) -> pd.DataFrame:
    cells = frame.assign(cell=frame.apply(lambda r: f"{r[rate]:.1%} ({r[low]:.1%}–{r[high]:.1%})", axis=1))
    return cells.pivot_table(index=["null", "test"], columns="seeds", values="cell", aggfunc="first")


if __name__ == "__main__":
    main()
