"""Blocks on the gates: the A/B gate's measured error rates, power and time (reports/gate-power), a real bisect
(reports/bisect-demo), the history's detector (reports/history)."""

from __future__ import annotations

import pandas as pd
from scipy import stats

from .common import ROOT, table

GATE = ROOT / "reports" / "gate-power"


def _rate(hits: int, total: int) -> str:
    low, high = stats.binomtest(int(hits), int(total)).proportion_ci(method="wilson")
    return f"{hits} of {total} ({hits / total:.0%}; 95% interval {low:.0%}–{high:.0%})"


def _verdicts() -> pd.DataFrame:
    return pd.read_csv(GATE / "verdicts.csv")


def _index() -> pd.DataFrame:
    return pd.read_csv(GATE / "comparisons.csv", dtype={"commit": str})


def _who(models: str) -> str:
    return "every built-in model" if models == "*" else "models " + models.replace(",", ", ")


def _sources() -> str:
    """What was measured where: per commit, CPU and models, the comparisons of each design and slowdown."""
    parts = []
    for (commit, cpu, models), g in _index().groupby(["commit", "cpu", "models"], sort=False):
        counts = ", ".join(f"{n} {d} at +{s}%" for (d, s), n in g.groupby(["design", "slowdown_pct"]).size().items())
        parts.append(f"{counts} ({_who(models)}; commit `{commit}`; {cpu})")
    return "; ".join(parts)


def _wall() -> tuple[list[float], list[float], str]:
    """The interleaved real runs' wall times, fixed and sequential, and the CPU they ran on."""
    index = _index()
    sequential = index[index["design"] == "sequential"]
    fixed = index[index["name"].isin(sequential["name"].str.replace("sequential", "fixed"))]
    return list(fixed["wall_s"]), list(sequential["wall_s"]), ", ".join(sorted(set(sequential["cpu"])))


def _scope(slowdown: int) -> str:
    index = _index()
    chosen = index[(index["slowdown_pct"] == slowdown) & (index["design"] == "fixed")]
    return "; ".join(f"{_who(m)}, {c}" for (m, c), _ in chosen.groupby(["models", "cpu"], sort=False))


def gate_summary() -> str:
    """The README's sentences: what was measured, false alarms, power at +25% and time, with intervals."""
    table_ = _verdicts()
    suite = table_.groupby(["design", "slowdown_pct", "comparison"])["failed"].any().reset_index()

    def comparisons(design: str, slowdown: int) -> str:
        chosen = suite[(suite["design"] == design) & (suite["slowdown_pct"] == slowdown)]
        return _rate(int(chosen["failed"].sum()), len(chosen))

    def benchmarks(design: str, slowdown: int) -> str:
        chosen = table_[(table_["design"] == design) & (table_["slowdown_pct"] == slowdown)]
        return _rate(int(chosen["failed"].sum()), len(chosen))

    fixed_wall, sequential_wall, cpu = _wall()
    ratio = pd.Series(sequential_wall).median() / pd.Series(fixed_wall).median()
    return (
        f"Measured by `scripts/gate_power.py`: {_sources()}. On identical code the fixed design failed "
        f"{comparisons('fixed', 0)} comparisons and flagged {benchmarks('fixed', 0)} benchmark verdicts; the "
        f"sequential design, replayed on the same pairs, {comparisons('sequential (replayed)', 0)} and "
        f"{benchmarks('sequential (replayed)', 0)}. With +25% injected ({_scope(25)}) the fixed design flagged "
        f"{benchmarks('fixed', 25)} benchmarks, the sequential design on the same pairs "
        f"{benchmarks('sequential (replayed)', 25)}. On identical code, every built-in model, the sequential design "
        f"took {ratio:.0%} of the fixed design's wall time (medians of {len(sequential_wall)} interleaved run(s) "
        f"each, {pd.Series(sequential_wall).median() / 60:.1f} against {pd.Series(fixed_wall).median() / 60:.1f} "
        f"min; {cpu}) ([reports/gate-power](reports/gate-power/gate_power.md)).\n"
    )


def gate_power() -> str:
    """What was measured, then per design, injected slowdown and group: the benchmarks flagged and pairs used."""
    table_ = _verdicts()
    table_["group"] = table_["benchmark"].str.split("/").str[0]
    rows = []
    for (slowdown, design, group), g in table_.groupby(["slowdown_pct", "design", "group"]):
        rows.append({
            "injected": f"+{slowdown}%", "design": design, "group": group,
            "benchmarks flagged": _rate(int(g["failed"].sum()), len(g)),
            "pairs per benchmark (median)": f"{g['pairs'].median():.0f}",
            "detectable slowdown (median)": f"+{g['detectable'].median():.0%}",
        })  # fmt: skip
    fixed_wall, sequential_wall, cpu = _wall()
    walls = (
        f"\nWall time on identical code, every built-in model, interleaved: fixed "
        f"{', '.join(f'{w / 60:.1f}' for w in fixed_wall)} min; sequential "
        f"{', '.join(f'{w / 60:.1f}' for w in sequential_wall)} min ({cpu}).\n"
    )
    return f"What was measured: {_sources()}.\n\n" + table(rows) + walls


def weak_benchmarks() -> str:
    """The benchmarks below 95% power at +25% in the fixed design, with the slowdown each could detect."""
    table_ = _verdicts()
    slow = table_[(table_["slowdown_pct"] == 25) & (table_["design"] == "fixed")]
    per = slow.groupby("benchmark").agg(
        power=("failed", "mean"), n=("failed", "size"), detectable=("detectable", "median")
    )
    weak = per[per["power"] < 0.95].reset_index()
    if weak.empty:
        return f"Every one of the {len(per)} benchmarks was flagged in at least 95% of the +25% comparisons.\n"
    rows = [{"benchmark": f"`{r.benchmark}`", "flagged at +25%": f"{r.power:.0%} of {r.n}",
             "detectable slowdown (median)": f"+{r.detectable:.0%}"} for r in weak.itertuples()]  # fmt: skip
    return f"{len(weak)} of the {len(per)} benchmarks fall below 95% power at +25%:\n\n" + table(rows)


def bisect_demo() -> str:
    """The probes and verdict of the committed real bisect (scripts/bisect_demo.sh)."""
    folder = ROOT / "reports" / "bisect-demo"
    summary = (folder / "bisect.md").read_text().split("\n", 2)[2].strip()
    commits = (folder / "commits.txt").read_text().strip()
    return f"The commits searched, newest first:\n\n```\n{commits}\n```\n\n{summary}\n"


def history_power(path: str = "reports/history/power.csv") -> str:
    """The change-point detector on synthetic series drawn from this project's measured noise."""
    frame = pd.read_csv(ROOT / path)
    rows = [
        {
            "noise": r.noise,
            "step": f"+{r.step:.0%}",
            "series (20 points, step after the 10th)": r.series,
            "with any change point": f"{r.with_change} ({r.with_change / r.series:.1%})",
            "with a regression step": f"{r.with_regression} ({r.with_regression / r.series:.1%})",
            "of those, within one commit": f"{r.within_one_commit / r.with_regression:.0%}"
            if r.with_regression and r.step
            else "–",
        }
        for r in frame.itertuples()
    ]
    how = (ROOT / path).with_name("power.md").read_text(encoding="utf-8").splitlines()[0]
    return how + "\n\n" + table(rows)


def history_real() -> str:
    """Per committed real history (+25% injected from run 7 on): its machine and runs, and the change points found."""
    rows = []
    for name in ("real", "real-ab"):
        folder = ROOT / "reports" / "history" / name
        points = pd.read_csv(folder / "history.csv")
        changes = pd.read_csv(folder / "changes.csv") if (folder / "changes.csv").stat().st_size > 1 else None
        where = f"{points['run'].nunique()} runs; {', '.join(sorted(points['machine'].unique()))}"
        timed = changes[changes["metric"].isin(["time", "ab_ratio"])] if changes is not None else pd.DataFrame()
        if timed.empty:
            rows.append({"history": name, "runs, machine": where, "model": "–", "benchmark": "–", "metric": "–",
                         "between": "–", "step": "–", "verdict": "no change point found"})  # fmt: skip
        for r in timed.itertuples():
            rows.append({"history": name, "runs, machine": where, "model": r.model, "benchmark": r.benchmark,
                         "metric": r.metric, "between": r.between, "step": r.step, "verdict": r.verdict})  # fmt: skip
    return table(rows)
