"""Blocks on the gates: the A/B gate's measured error rates, power and time (reports/gate-power), a real bisect
(reports/bisect-demo), the history's detector (reports/history)."""

from __future__ import annotations

import re

import pandas as pd
from scipy import stats

from .common import ROOT, table

GATE = ROOT / "reports" / "gate-power"


def _csv(name: str) -> pd.DataFrame:
    """One of the tables `studies/gate-power/gate_power.py analyse` writes (its rates, intervals and walls; nothing recomputed)."""
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
    """The README's table of the rule in force, one row per study (model set, profile, CPU): false alarms on
    identical code, detection at +25%, and the wall time against the fixed design, each with its interval."""
    rows = []
    design = "sequential (replayed)"  # the default design, replayed on the recorded pairs
    for study, suites in _studies():
        identical, slowed = _pick(suites, 0, design), _pick(suites, 25, design)
        walls = _csv("walls")
        walls = walls[(walls["study"] == study) & walls["current_rule"].astype(bool)]
        rows.append({
            "study (models, profile, CPU)": study,
            "comparisons failed, identical code": "–" if identical is None else _rate(identical),
            "verdicts flagged, identical code": _verdicts_flagged(study, 0, design),
            "verdicts flagged at +25%": "–" if slowed is None else _verdicts_flagged(study, 25, design),
            "wall time vs the fixed design": (
                "–" if walls.empty else f"{walls['ratio'].median():.0%} ({walls['sequential_s'].median() / 60:.1f} "
                f"against {walls['fixed_s'].median() / 60:.1f} min; median of {len(walls)} real pairs)"
            ),
        })  # fmt: skip
    return (
        "The sequential design in force, measured by `studies/gate-power/gate_power.py` "
        "([reports/gate-power](reports/gate-power/gate_power.md); earlier rules in its "
        "[HISTORY.md](reports/gate-power/HISTORY.md)).\n\n" + table(rows)
    )


def _commits(study: str) -> str:
    index = _csv("comparisons").fillna({"commit": "?"})
    verdicts = _csv("verdicts")
    names = set(verdicts.loc[verdicts["study"] == study, "comparison"])
    commits = sorted(set(index.loc[index["name"].isin(names), "commit"]))
    return "commit" + ("s " if len(commits) > 1 else " ") + ", ".join(f"`{c}`" for c in commits)


# The designs of the rule in force; a real run made under an earlier rule is labelled "design, within ..." and
# belongs to the study's own history (reports/gate-power/HISTORY.md), not to the docs.
CURRENT_DESIGNS = ("fixed", "sequential (replayed)", "sequential (real run)")


def _study_line(study: str, what: str) -> str:
    """A study's name, its evidence and what the table below shows: one sentence, no commit hashes (the folder
    names them)."""
    return f"**{study}** ([reports/gate-power](reports/gate-power/gate_power.md)): {what}.\n\n"


def _walls_table(study: str) -> str:
    """The interleaved real runs on identical code under the rule in force: each pair's wall times and ratio."""
    walls = _csv("walls")
    chosen = walls[(walls["study"] == study) & walls["current_rule"]]
    if chosen.empty:
        return ""
    rows = [{"run first": "sequential" if r.order == "sequential first" else "fixed",
             "fixed design (min)": f"{r.fixed_s / 60:.1f}", "sequential design (min)": f"{r.sequential_s / 60:.1f}",
             "sequential / fixed": f"{r.ratio:.0%}"} for r in chosen.itertuples()]  # fmt: skip
    rows.append({"run first": "median", "fixed design (min)": f"{chosen['fixed_s'].median() / 60:.1f}",
                 "sequential design (min)": f"{chosen['sequential_s'].median() / 60:.1f}",
                 "sequential / fixed": f"{chosen['ratio'].median():.0%}"})  # fmt: skip
    return "\nWall time on identical code, each sequential comparison run right beside a fixed one:\n\n" + table(rows)


def _bias_table(study: str) -> str:
    """On identical code, per group: benchmarks with a side bias (the comparisons as units, Holm) and the median
    dispersion (variance of the estimates across comparisons over their mean squared standard error)."""
    bias = _csv("bias")
    bias = bias[bias["study"] == study]
    if bias.empty:
        return ""
    bias = bias.assign(group=bias["benchmark"].str.split("/").str[0])
    rows = [{"group": group, "benchmarks": len(chosen), "with a side bias (Holm)": int(chosen["biased"].sum()),
             "dispersion (median)": f"{chosen['dispersion'].median():.2f}"}
            for group, chosen in bias.groupby("group")]  # fmt: skip
    return (
        f"\nSide bias and dispersion on identical code, {int(bias['comparisons'].max())} comparisons as the units:\n\n"
        + table(rows)
    )


def gate_power() -> str:
    """Per study, the rule in force: per design, injected slowdown and group, the benchmarks flagged, pairs used and
    detectable slowdown; the interleaved wall times; side bias and dispersion on identical code."""
    groups = _csv("groups")
    parts = []
    for study, _ in _studies():
        chosen = groups[(groups["study"] == study) & groups["design"].isin(CURRENT_DESIGNS)]
        rows = [{
            "injected": f"+{r.slowdown_pct}%", "design": r.design, "group": r.group, "benchmarks flagged": _rate(r),
            "pairs per benchmark (median)": f"{r.pairs_median:.0f}",
            "detectable slowdown (median)": f"+{r.detectable_median:.0%}",
        } for r in chosen.itertuples()]  # fmt: skip
        text = _study_line(study, "benchmark verdicts flagged, by design and group") + table(rows)
        parts.append(text + _walls_table(study) + _bias_table(study))
    return "\n".join(parts)


def _replayed_slowdowns() -> str:
    """Per study, slowdowns replayed on the identical comparisons' pairs: found, missed (called within) and open."""
    scaled = _csv("scaled")
    parts = []
    for study, _ in _studies():
        chosen = scaled[scaled["study"] == study]
        if chosen.empty:
            continue
        rows = [{
            "replayed": f"+{r.slowdown:.0%}", "design": r.design, "benchmark verdicts": r.benchmarks,
            "found slower": _share(r.slower, r.benchmarks, 1), "missed (called within)": _share(r.within, r.benchmarks, 1),
            "open at the cap": _share(r.open, r.benchmarks, 1),
        } for r in chosen.itertuples()]  # fmt: skip
        parts.append(
            _study_line(study, "each head time of the identical comparisons scaled by the slowdown") + table(rows)
        )
    return "\n".join(parts)


def weak_benchmarks() -> str:
    """What the gate misses: per study, slowdowns replayed on identical pairs (found, called within, left open), then
    the benchmarks below 95% power at +25% in the fixed design, with the slowdown each could detect."""
    power = _csv("power")
    rows = []
    for study, _ in _studies():
        per = power[(power["study"] == study) & (power["slowdown_pct"] == 25) & (power["design"] == "fixed")]
        if per.empty:
            continue
        weak = per[per["rate"] < 0.95]
        if weak.empty:
            rows.append({"study": study, "benchmark": f"none of the {len(per)}", "flagged at +25%": "–",
                         "detectable slowdown (median)": "–"})  # fmt: skip
        rows += [{"study": study, "benchmark": f"`{r.benchmark}` (of {len(per)})", "flagged at +25%": _rate(r),
                  "detectable slowdown (median)": f"+{r.detectable_median:.0%}"} for r in weak.itertuples()]  # fmt: skip
    return (
        _replayed_slowdowns()
        + "\nBenchmarks flagged in fewer than 95% of the +25% comparisons, fixed design:\n\n"
        + table(rows)
    )


def within_calibration() -> str:
    """The within verdict at exactly the threshold, by simulation: the design's looks against 95% at every look."""
    frame = pd.read_csv(GATE / "within_calibration.csv")
    rows = [
        {"noise": r.noise, "looks": r.schedule, "called within at the threshold": f"{r.called_within:.1%}",
         "95% interval": f"{r.low:.1%}–{r.high:.1%}", "simulated benchmarks": f"{r.reps}"}
        for r in frame.itertuples() if r.schedule.startswith("the design's") or r.schedule == "95.00% at every look"
    ]  # fmt: skip
    return table(rows)


def bisect_demo() -> str:
    """The probes and verdict of the committed real bisect (studies/bisect-demo/bisect_demo.sh), each commit named by its subject
    and each probe by a link to its folder (the hashes stay in reports/bisect-demo)."""
    folder = ROOT / "reports" / "bisect-demo"
    subjects = dict(line.split(" ", 1) for line in (folder / "commits.txt").read_text().strip().splitlines())

    def name(commit: str) -> str:
        return next((s for h, s in subjects.items() if commit.startswith(h) or h.startswith(commit)), "the good commit")

    summary = (folder / "bisect.md").read_text()
    probes = re.findall(r"^\| (\w+) \| (\w+) \| (\w+) \| (\w+) \| ([^|]+) \| ([\w-]+) \|$", summary, flags=re.M)
    rows = [{"probe": probe, "commit": name(commit), "measured against": name(against), "verdict": verdict,
             "detail": detail.strip(), "evidence": f"[ab.md](reports/bisect-demo/{evidence}/ab.md)"}
            for probe, commit, against, verdict, detail, evidence in probes if probe != "probe"]  # fmt: skip
    first = re.search(r"First bad commit: \*\*(\w+)\*\*(.*)$", summary, flags=re.M)
    found = f"First bad commit: **{name(first[1])}**{first[2]}." if first else "No commit was named."
    searched = ", ".join(subjects.values())
    return f"Commits searched, newest first: {searched}.\n\n" + table(rows) + f"\n{found}\n"


def history_power(path: str = "reports/history/power.csv") -> str:
    """The change-point detector on synthetic series drawn from this project's measured noise: the noise sources,
    then the detector's rates."""
    frame = pd.read_csv(ROOT / path)
    how = (ROOT / path).with_name("power.md").read_text(encoding="utf-8").splitlines()[0]
    sources = re.findall(r"([A-Za-z/ -]+): (\d+) (?:samples|log residuals), sd ([\d.]+%)", how.removeprefix("Noise:"))
    noise = [{"noise": n.strip(" ;(").removeprefix("pooled").strip() or "pooled", "log residuals": k, "sd of the logs": sd}
             for n, k, sd in sources]  # fmt: skip
    series = int(frame["series"].max())
    rows = [
        {
            "noise": r.noise,
            "step": f"+{r.step:.0%}",
            "with any change point": _share(r.with_change, r.series, 1),
            "with a regression step": _share(r.with_regression, r.series, 1),
            "of those, within one commit": _share(int(r.within_one_commit), r.with_regression)
            if r.with_regression and r.step
            else "–",
        }
        for r in frame.itertuples()
    ]
    return table(noise) + f"\nSeries of 20 points, a step after the 10th, {series} series per row:\n\n" + table(rows)


def history_real() -> str:
    """Per committed real history (+25% injected from run 7 on): its machine and runs, then the change points found."""
    histories, rows = [], []
    for name in ("real", "real-ab"):
        folder = ROOT / "reports" / "history" / name
        points = pd.read_csv(folder / "history.csv")
        changes = pd.read_csv(folder / "changes.csv") if (folder / "changes.csv").stat().st_size > 1 else None
        timed = changes[changes["metric"].isin(["time", "ab_ratio"])] if changes is not None else pd.DataFrame()
        histories.append({"history": f"[{name}](reports/history/{name}/index.html)", "runs": points["run"].nunique(),
                          "machine": ", ".join(sorted(points["machine"].unique())),
                          "change points in time": len(timed)})  # fmt: skip
        rows += [{"history": name, "model": r.model, "benchmark": r.benchmark, "metric": r.metric,
                  "between": r.between, "step (95% interval)": r.step, "verdict": r.verdict}
                 for r in timed.itertuples()]  # fmt: skip
    return table(histories) + ("\nThe change points found:\n\n" + table(rows) if rows else "")
