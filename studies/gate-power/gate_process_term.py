"""The A/B gate's false alarms and power when a worker process carries a persistent offset, by simulation.

    python studies/gate-power/gate_process_term.py [--reps 2000] [--seed 1] [--out reports/gate-power]

Each simulated comparison is the default design (``Design()``: 5 to 16 pairs, slower tested at 8 and 16 pairs,
α 0.05; beside it the fixed design, 16 pairs), threshold +10%, the suite's benchmarks (every one of the recorded
study's, 13 per group), both sides' workers replaced every ``RESTART_EVERY`` pairs as the coordinator replaces them.
A pair's log ratio is drawn from the recorded pairs of the same benchmark on identical code (every fixed +0%
comparison of the study under ``comparisons/``, each comparison's trimmed mean taken off, so the pairs keep their
heavy tails but no comparison's own shift), plus the injected slowdown, plus a process offset:

- *none*: the pairs as measured, independent;
- *one process +4%*: in each comparison one worker process, of either side and any of its lives, is 4% slow for
  its whole life, on every benchmark it times;
- *every process, SD 4%*: every worker process carries its own persistent offset, normal with SD 4%;
- *one worker pair, head +4%*: no restarts (a base tree whose worker cannot be replaced), the head's one process
  4% slow: the between-process term cannot be estimated, and the gate assumes one.

Three rules decide the same draws: the gate in force (one-sided test against no change, the estimate beyond the
threshold, the between-process term in the variance), the rule before it (the same test with the pairs taken as
independent), and the alternative considered (a one-sided test against the threshold itself, with the term). A
false alarm: a comparison in which some benchmark of the group fails at +0%; at +10% (the threshold itself) a
failure is not an error of the rule in force, whose H0 is no change, and the column shows how often it happens.
Power: the share of benchmark verdicts failed at +25%.
Writes ``process_term.csv`` and ``process_term.md``. The decisions are ``ab.paired``'s, for many comparisons at
once; a test checks them against ``compare_pairs`` comparison by comparison.
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

from mnist_models.ab.paired import (  # noqa: E402
    PROCESS_FALLBACK,
    RESTART_EVERY,
    UNDECIDABLE_POWER,
    Design,
    processes_of,
)
from mnist_models.files import atomic_write_bytes  # noqa: E402
from mnist_models.stats.paired import TRIM, clustered_parts  # noqa: E402

THRESHOLD = 0.10
OFFSET = 0.04
SLOWDOWNS = (0.0, 0.10, 0.25)
DESIGNS = {"sequential": Design(), "fixed": Design(fixed=True)}
# rule -> (the between-process term in the variance, what the slower test's H0 is)
RULES = {"in force": (True, "no change"), "before": (False, "no change"), "against +10%": (True, "threshold")}
VERDICT = {"open": 0, "slower": 1, "within": 2, "undecidable": 3}
STUDY = "fixed-00pct-"  # the study of every built-in model: its identical fixed comparisons


def recorded_noise(folder: Path, prefix: str = STUDY) -> dict[str, np.ndarray]:
    """Per benchmark, every recorded pair's log ratio on identical code, each comparison's trimmed mean taken off."""
    pools: dict[str, list[np.ndarray]] = {}
    for path in sorted(folder.glob(f"{prefix}*/pairs.csv")):
        for bench, group in pd.read_csv(path).groupby("benchmark"):
            logs = group.sort_values("pair")["log_ratio"].to_numpy()
            center = clustered_parts(logs, np.zeros(len(logs), int))[0]
            pools.setdefault(bench, []).append(logs - center)
    return {bench: np.concatenate(parts) for bench, parts in sorted(pools.items())}


def offsets(rng, scenario: str, reps: int, pairs: int, restart_every: int) -> np.ndarray:
    """Each simulated comparison's process offset on each pair's log ratio, shape (reps, pairs)."""
    process = np.asarray(processes_of(pairs, restart_every))
    lives = int(process.max()) + 1
    if scenario == "none":
        return np.zeros((reps, pairs))
    if scenario == "every process, SD 4%":
        per_life = rng.normal(0, OFFSET, (reps, lives)) - rng.normal(0, OFFSET, (reps, lives))  # head less base
        return per_life[:, process]
    slow = np.zeros((reps, lives))
    which = rng.integers(lives, size=reps)
    sign = np.where(rng.random(reps) < 0.5, 1.0, -1.0) if scenario == "one process +4%" else 1.0  # base or head
    slow[np.arange(reps), which] = sign * math.log1p(OFFSET)
    return slow[:, process]


SCENARIOS = {"none": RESTART_EVERY, "one process +4%": RESTART_EVERY, "every process, SD 4%": RESTART_EVERY,
             "one worker pair, head +4%": 0}  # fmt: skip


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm-adjusted p per row (``stats.multiple.holm`` for many rows)."""
    m = p.shape[1]
    order = np.argsort(p, axis=1)
    stepped = np.maximum.accumulate(np.take_along_axis(p, order, axis=1) * np.arange(m, 0, -1), axis=1)
    out = np.empty_like(p)
    np.put_along_axis(out, order, np.minimum(stepped, 1.0), axis=1)
    return out


def _df(n: np.ndarray) -> np.ndarray:
    return np.maximum(n - 2 * np.floor(TRIM * n) - 1, 1)


def replay(logs: np.ndarray, groups: list[str], design: Design, rule: str, processes: list[int]) -> tuple:
    """The design's verdicts on many comparisons at once: ``logs`` (reps, benchmarks, pairs); per comparison and
    benchmark the verdict (``VERDICT``'s codes) and the pairs it used."""
    reps, benches, cap = logs.shape
    bar = math.log1p(THRESHOLD)
    parts = {n: clustered_parts(logs[..., :n], np.asarray(processes[:n])) for n in range(2, cap + 1)}
    center, var_pairs, excess, k = (np.stack([np.broadcast_to(parts[n][i], (reps, benches)) if n in parts else
                                              np.full((reps, benches), np.nan) for n in range(cap + 1)], axis=-1)
                                    for i in range(4))  # fmt: skip
    group_of = np.array([sorted(set(groups)).index(g) for g in groups])
    verdict = np.zeros((reps, benches), int)
    used = np.zeros((reps, benches), int)
    p_kept = np.ones((reps, benches))
    looks = sorted(set(design.slower_looks) | set(design.within_looks))
    df_cap = _df(np.array(cap))
    for n in looks:
        open_ = verdict == 0
        eff = np.where(open_, n, used)[..., None]
        c, v, e, kk = (np.take_along_axis(a, eff, axis=-1)[..., 0] for a in (center, var_pairs, excess, k))
        df = _df(eff[..., 0].astype(float))
        process_term, null = RULES[rule]
        if process_term:
            tau2 = np.empty((reps, benches))
            for g in range(group_of.max() + 1):
                cols = group_of == g
                known = np.isfinite(e[:, cols])
                mean = np.where(known, e[:, cols], 0).sum(axis=1) / np.maximum(known.sum(axis=1), 1)
                tau2[:, cols] = np.where(known.any(axis=1), np.maximum(mean, 0), PROCESS_FALLBACK**2)[:, None]
            se = np.sqrt(v + tau2 / kk)
        else:
            se = np.sqrt(v)
        margin = c - bar if null == "threshold" else c
        with np.errstate(divide="ignore", invalid="ignore"):  # se 0: every kept pair alike, as ``_row`` decides it
            p = np.nan_to_num(stats.t.sf(margin / se, df), nan=1.0)
            spread_ok = np.errstate(divide="ignore", invalid="ignore")
        p = np.where(open_, p, p_kept)
        if n in design.slower_looks:
            slower = open_ & (_holm(p) < design.slower_looks[n])
            if null == "no change":
                slower &= c > bar
            verdict[slower] = VERDICT["slower"]
        still = verdict == 0
        if n in design.within_looks:
            upper = c + stats.t.ppf(1 - design.within_looks[n], df) * se
            verdict[still & (upper < bar)] = VERDICT["within"]
        if n in design.futility_looks:
            se_cap, spread = se * math.sqrt(n / cap), se * math.sqrt(n * (cap - n)) / cap
            below = bar - stats.t.ppf(1 - design.within_looks[cap], df_cap) * se_cap
            tail = stats.t.ppf(1 - design.final_alpha, df_cap) * se_cap
            above = bar + tail if null == "threshold" else np.maximum(bar, tail)
            with spread_ok:
                chance = stats.norm.cdf((below - c) / spread) + stats.norm.sf((above - c) / spread)
            verdict[(verdict == 0) & still & (chance < UNDECIDABLE_POWER)] = VERDICT["undecidable"]
        decided_now = open_ & (verdict != 0)
        used[decided_now], p_kept[decided_now] = n, p[decided_now]
        used[verdict == 0] = n
        if (verdict != 0).all():
            break
    return verdict, used


def simulate(noise: dict[str, np.ndarray], reps: int, seed: int = 1, scenarios=tuple(SCENARIOS)) -> pd.DataFrame:
    """Per scenario, slowdown, design, rule and group: the comparisons with a false alarm, the verdicts failed."""
    names = list(noise)
    groups = [b.split("/")[0] for b in names]
    rows = []
    for s_index, scenario in enumerate(scenarios):
        restart_every = SCENARIOS[scenario]
        for d_index, delta in enumerate(SLOWDOWNS):
            rng = np.random.default_rng([seed, s_index, d_index])
            cap = max(d.max_pairs for d in DESIGNS.values())
            draws = np.stack([rng.choice(noise[b], size=(reps, cap)) for b in names], axis=1)
            logs = draws + math.log1p(delta) + offsets(rng, scenario, reps, cap, restart_every)[:, None, :]
            for design_name, design in DESIGNS.items():
                for rule in RULES:
                    verdict, used = replay(logs, groups, design, rule, processes_of(cap, restart_every))
                    failed = verdict == VERDICT["slower"]
                    for group in (*sorted(set(groups)), "any"):
                        cols = np.array([group in ("any", g) for g in groups])
                        alarms = int(failed[:, cols].any(axis=1).sum())
                        rows.append({"scenario": scenario, "restart_every": restart_every, "slowdown": delta,
                                     "design": design_name, "rule": rule, "group": group, "comparisons": reps,
                                     "benchmarks": int(cols.sum()), "comparisons_failed": alarms,
                                     "verdicts_failed": int(failed[:, cols].sum()),
                                     "verdicts": int(failed[:, cols].size),
                                     "pairs_mean": float(used[:, cols].mean())})  # fmt: skip
    return pd.DataFrame(rows)


def _share(hits: int, total: int) -> str:
    low, high = stats.binomtest(hits, total).proportion_ci(method="wilson")
    return f"{hits / total:.1%} ({low:.1%}–{high:.1%})"


def table_lines(table: pd.DataFrame) -> list[str]:
    """One row per scenario, design and rule: false alarms at +0% and +10% (worst group, and any benchmark of the
    suite), and power at +25% per group."""
    groups = sorted(g for g in table["group"].unique() if g != "any")
    head = ("| process offset | design | rule | false alarms at +0%: worst group | any | at +10%: worst group | any | "
            + " | ".join(f"power at +25%: {g}" for g in groups) + " |")  # fmt: skip
    lines = [head, "|---|---|---|---|---|---|---|" + "---|" * len(groups)]
    for (scenario, design, rule), chosen in table.groupby(["scenario", "design", "rule"], sort=False):
        cells = []
        for delta in (0.0, 0.10):
            at = chosen[chosen["slowdown"] == delta].set_index("group")
            worst = at.drop("any")["comparisons_failed"].idxmax()
            cells += [f"{_share(at.loc[worst, 'comparisons_failed'], at.loc[worst, 'comparisons'])} ({worst})",
                      _share(at.loc["any", "comparisons_failed"], at.loc["any", "comparisons"])]  # fmt: skip
        at = chosen[chosen["slowdown"] == 0.25].set_index("group")
        cells += [_share(at.loc[g, "verdicts_failed"], at.loc[g, "verdicts"]) for g in groups]
        lines.append(f"| {scenario} | {design} | {rule} | " + " | ".join(cells) + " |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=2000, help="simulated comparisons per scenario and slowdown")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "gate-power")
    args = parser.parse_args()
    noise = recorded_noise(args.out / "comparisons")
    pools = {len(v) for v in noise.values()}
    table = simulate(noise, args.reps, args.seed)
    per_group = table[table["group"] != "any"].groupby("group")["benchmarks"].first()
    design = Design()
    lines = [
        "# The gate with a persistent process offset, by simulation",
        "",
        f"`python studies/gate-power/gate_process_term.py --reps {args.reps} --seed {args.seed}`: {args.reps} simulated "
        f"comparisons per process offset and slowdown (seeds ({args.seed}, scenario, slowdown)), each of "
        f"{len(noise)} benchmarks ({', '.join(f'{n} {g}' for g, n in per_group.items())}); the default design "
        f"({design.min_pairs} to {design.max_pairs} pairs, slower at pairs {', '.join(map(str, design.slower_looks))}) "
        f"and the fixed one (16 pairs), α {design.alpha}, threshold +{THRESHOLD:.0%}, both sides' workers replaced "
        f"every {RESTART_EVERY} pairs. Pair noise resampled from the recorded pairs of identical code "
        f"({min(pools)}–{max(pools)} per benchmark, `comparisons/{STUDY}*`). *In force*: one-sided test against "
        "no change, the estimate beyond +10%, variance with the between-process term; *before*: the same with the "
        "pairs taken as independent; *against +10%*: one-sided test of H0 'slowdown at most +10%', with the term. "
        "False alarms: comparisons with any benchmark failed (the worst group, and the whole suite); power: "
        "benchmark verdicts failed. 95% Wilson intervals. The offsets are described in the script's docstring.",
        "",
        *table_lines(table),
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(args.out / "process_term.csv", table.to_csv(index=False).encode())
    atomic_write_bytes(args.out / "process_term.md", ("\n".join(lines) + "\n").encode())
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
