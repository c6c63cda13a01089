"""Blocks on the gates: the A/B gate's measured error rates, power and time (reports/gate-power), a real bisect
(reports/bisect-demo), the history's detector (reports/history)."""

from __future__ import annotations

import pandas as pd
from scipy import stats

from .common import ROOT, table

GATE = ROOT / "reports" / "gate-power"


def _csv(name: str) -> pd.DataFrame:
    """One of the tables `scripts/gate_power.py analyse` writes (its rates, intervals and walls; nothing recomputed)."""
    return pd.read_csv(GATE / f"{name}.csv", dtype={"commit": str})


def _rate(r) -> str:
    return f"{r.hits} of {r.total} ({r.rate:.0%}; 95% interval {r.low:.0%}–{r.high:.0%})"


def _studies() -> list[tuple[str, pd.DataFrame]]:
    """Each study (model set, profile, CPU) with its comparisons, the one over every built-in model first."""
    suites = _csv("suites")
    order = sorted(suites["study"].unique(), key=lambda s: (not s.startswith("every built-in model"), s))
    return [(study, suites[suites["study"] == study]) for study in order]


def _pick(frame: pd.DataFrame, slowdown: int, design: str):
    chosen = frame[(frame["slowdown_pct"] == slowdown) & (frame["design"] == design)]
    return next(chosen.itertuples(), None)


def _share(hits: int, total: int, digits: int = 0) -> str:
    """hits of total, its share and 95% Wilson interval."""
    low, high = stats.binomtest(int(hits), int(total)).proportion_ci(method="wilson")
    return f"{hits} of {total} ({hits / total:.{digits}%}; 95% interval {low:.{digits}%}–{high:.{digits}%})"


def _verdicts_flagged(study: str, slowdown: int, design: str) -> str:
    """Benchmark verdicts flagged over every group of one study, slowdown and design, with the Wilson interval."""
    table_ = _csv("verdicts")
    chosen = table_[(table_["study"] == study) & (table_["slowdown_pct"] == slowdown) & (table_["design"] == design)]
    return _share(int(chosen["failed"].sum()), len(chosen))


def _orders(walls: pd.DataFrame) -> str:
    """Which design ran first in each pair of real runs, in words: "after it" or "2 after it, 2 before it"."""
    counts = walls["order"].fillna("fixed first").value_counts()
    words = {"fixed first": "after it", "sequential first": "before it"}
    if len(counts) == 1:
        return words[counts.index[0]]
    return ", ".join(f"{n} {words[order]}" for order, n in counts.items())


def _wall_sentence(study: str) -> str:
    """The sequential design's wall time against the fixed one's, from interleaved real runs: with the design's
    within rule, and apart from them any runs made with an earlier one."""
    walls = _csv("walls")
    walls = walls[walls["study"] == study]
    text = ""
    for (current, rule), chosen in walls.groupby(["current_rule", "within_rule"], sort=False):
        which = "" if current else f" (an earlier rule: {rule})"
        text += (
            f" On identical code the sequential design{which} took **{chosen['ratio'].median():.0%}** of the fixed "
            f"design's wall time (median of {len(chosen)} paired ratio(s), each sequential run right beside a fixed "
            f"one, {_orders(chosen)}: {', '.join(f'{r:.0%}' for r in chosen['ratio'])}; medians "
            f"{chosen['sequential_s'].median() / 60:.1f} "
            f"against {chosen['fixed_s'].median() / 60:.1f} min)."
        )
    return text


def gate_summary() -> str:
    """The README's sentences, one paragraph per study: false alarms, power at +25% and wall time, with intervals."""
    paragraphs = []
    for study, suites in _studies():
        text = f"**{study}** ({_commits(study)}):"
        fixed0, sequential0 = _pick(suites, 0, "fixed"), _pick(suites, 0, "sequential (replayed)")
        if fixed0 is not None:
            text += (
                f" on identical code the fixed design failed {_rate(fixed0)} comparisons and flagged "
                f"{_verdicts_flagged(study, 0, 'fixed')} benchmark verdicts; the sequential design, replayed on the same "
                f"pairs, {_rate(sequential0)} and {_verdicts_flagged(study, 0, 'sequential (replayed)')}."
            )
        if _pick(suites, 25, "fixed") is not None:
            text += (
                f" With +25% injected the fixed design flagged {_verdicts_flagged(study, 25, 'fixed')} benchmark "
                f"verdicts, the sequential design on the same pairs {_verdicts_flagged(study, 25, 'sequential (replayed)')}."
            )
        paragraphs.append(text + _wall_sentence(study))
    return (
        "Measured by `scripts/gate_power.py` ([reports/gate-power](reports/gate-power/gate_power.md)); "
        "a study is one model set, profile and CPU, never pooled with another.\n\n" + "\n\n".join(paragraphs) + "\n"
    )


def _commits(study: str) -> str:
    index = _csv("comparisons").fillna({"commit": "?"})
    verdicts = _csv("verdicts")
    names = set(verdicts.loc[verdicts["study"] == study, "comparison"])
    commits = sorted(set(index.loc[index["name"].isin(names), "commit"]))
    return "commit" + ("s " if len(commits) > 1 else " ") + ", ".join(f"`{c}`" for c in commits)


def gate_power() -> str:
    """Per study: per design, injected slowdown and group, the benchmarks flagged, pairs used and detectable slowdown;
    then the interleaved wall times."""
    groups = _csv("groups")
    walls = _csv("walls")
    parts = []
    for study, _ in _studies():
        rows = [{
            "injected": f"+{r.slowdown_pct}%", "design": r.design, "group": r.group, "benchmarks flagged": _rate(r),
            "pairs per benchmark (median)": f"{r.pairs_median:.0f}",
            "detectable slowdown (median)": f"+{r.detectable_median:.0%}",
        } for r in groups[groups["study"] == study].itertuples()]  # fmt: skip
        text = f"**{study}** ({_commits(study)}):\n\n" + table(rows)
        chosen = walls[(walls["study"] == study) & walls["current_rule"]]
        if len(chosen):
            runs = [
                f"fixed {r.fixed_s / 60:.1f}, sequential {r.sequential_s / 60:.1f} min ({r.ratio:.0%}; "
                f"{'sequential' if r.order == 'sequential first' else 'fixed'} first)"
                for r in chosen.itertuples()
            ]
            text += "\nWall time on identical code, interleaved: " + "; ".join(runs) + ".\n"
        parts.append(text + _bias_sentence(study))
    return "\n".join(parts)


def _bias_sentence(study: str) -> str:
    """On identical code: any side bias (the comparisons as units), and whether one comparison's interval covers
    what moves between comparisons (the dispersion: about 1 when it does)."""
    bias = _csv("bias")
    bias = bias[bias["study"] == study]
    if bias.empty:
        return ""
    biased = bias[bias["biased"]]
    said = "no benchmark differs between the sides" if biased.empty else ", ".join(
        f"{r.benchmark} {r.slowdown:+.1%} (Holm p={r.holm_p:.2g})" for r in biased.itertuples())  # fmt: skip
    groups = bias.assign(group=bias["benchmark"].str.split("/").str[0]).groupby("group")["dispersion"].median()
    return (
        f"\nOn identical code, {int(bias['comparisons'].max())} comparisons as the units: {said}. Variance of the "
        "estimates across comparisons over their mean squared standard error (about 1 when one comparison's "
        "interval covers what moves between comparisons), median per group: "
        + "; ".join(f"{g} {d:.2f}" for g, d in groups.items())
        + ".\n"
    )


def weak_benchmarks() -> str:
    """Per study, the benchmarks below 95% power at +25% in the fixed design, with the slowdown each could detect."""
    power = _csv("power")
    parts = []
    for study, _ in _studies():
        per = power[(power["study"] == study) & (power["slowdown_pct"] == 25) & (power["design"] == "fixed")]
        if per.empty:
            continue
        weak = per[per["rate"] < 0.95]
        if weak.empty:
            parts.append(f"{study}: every one of the {len(per)} benchmarks was flagged in at least 95% of the +25% "
                         "comparisons.\n")  # fmt: skip
            continue
        rows = [{"benchmark": f"`{r.benchmark}`", "flagged at +25%": _rate(r),
                 "detectable slowdown (median)": f"+{r.detectable_median:.0%}"} for r in weak.itertuples()]  # fmt: skip
        parts.append(
            f"{study}: {len(weak)} of the {len(per)} benchmarks fall below 95% power at +25%:\n\n" + table(rows)
        )
    return "\n".join(parts)


def within_calibration() -> str:
    """The within verdict at exactly the threshold, by simulation: the design's looks against 95% at every look."""
    frame = pd.read_csv(GATE / "within_calibration.csv")
    rows = [
        {"noise": r.noise, "looks": r.schedule, "called within at the threshold": f"{r.called_within:.1%} "
         f"(95% interval {r.low:.1%}–{r.high:.1%}, {r.reps} simulated benchmarks)"}
        for r in frame.itertuples() if r.schedule.startswith("the design's") or r.schedule == "95.00% at every look"
    ]  # fmt: skip
    return table(rows)


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
            "with any change point": _share(r.with_change, r.series, 1),
            "with a regression step": _share(r.with_regression, r.series, 1),
            "of those, within one commit": _share(int(r.within_one_commit), r.with_regression)
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
