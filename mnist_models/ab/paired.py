"""Pair-by-pair comparison of two sides' block times, decided as soon as the evidence allows, with its gate.

Each pair holds one block of the base and one of the head, run back to back in a random order,
so drift and noisy neighbours hit both alike. Per benchmark the statistic is the log of head/base
block medians, pair by pair. Their noise is heavy-tailed: most pairs agree within a few percent,
and now and then a noisy neighbour lands on one block of a pair only (measured, identical code,
256 batch-1 latency pairs: the middle half within −2% to +1%, one in six off by more than 20%).
So the slowdown is the 20%-trimmed mean of the logs with Yuen's one-sample t test (``stats.paired``): a mean
and a t-test would let one wild pair swamp fifteen calm ones. Its standard error has two terms. Pairs that ran in
the same worker pair are not independent: a process keeps its luck (memory layout, thread placement) for its whole
life, and the coordinator replaces both sides' workers only every few pairs. So beside the Tukey-McLaughlin
variance of the pairs, the variance has a between-process term: per benchmark, the cluster-robust variance over
the worker pairs less the per-pair one (``stats.paired.clustered_parts``, on the winsorized logs, so a wild pair is
clipped first), pooled over the benchmarks of a group in the comparison (a worker pair has two or three looks'
worth of them, too few per benchmark; the offset is taken to be alike across a group's benchmarks), floored at 0,
and divided by the benchmark's number of worker pairs: a two-level model of the noise (Kalibera & Jones 2013).
Independent pairs give about the old standard error. Where no benchmark of a group has run in two worker pairs
(a base tree whose worker cannot be replaced, or a cap of at most ``--restart-every`` pairs) the term cannot be
estimated, and the gate assumes a worker pair offset by ``PROCESS_FALLBACK`` instead.

The design is sequential (``Design``). From ``min_pairs`` on, after every pair, each benchmark still
measured is looked at:

- *slower*: tested at a few looks only (half the cap, and the cap), one-sided against no change (H0: no
  slowdown), each look spending its share of ``alpha`` (20%, then 80%: by the union bound the chance of any false
  alarm over the looks is at most ``alpha``), Holm-corrected across the benchmarks at that look; a slowdown
  significant so and estimated beyond the threshold fails the gate, and the failure line says exactly that. A
  test against the threshold itself (H0: slowdown at most the threshold, as a non-inferiority test is against its
  margin: Wellek 2010, ch. 2) would add a guarantee at the threshold, but at these pair counts it finds +25% in
  only 84% of benchmarks (sequential design, by simulation: ``reports/gate-power/process_term.md``) against 97% or
  more for this rule; the *within* verdict is the threshold's test, in the other direction.
- *within the threshold*: the upper end of its one-sided interval is below ``1 + threshold`` (an
  equivalence verdict). Looked at after every pair, a 95% interval would give a benchmark slowed by
  exactly the threshold twelve chances (5 to 16 pairs): 16% of such benchmarks were called within, by
  simulation (14% with eleven, replayed on recorded pairs alike). So each look uses one nominal level, chosen so that the chance
  over all the looks is at most 5% (Pocock 1977): 99% per look, calibrated by simulation for this
  statistic and these looks (5 to 16 pairs) under normal, t(3) and contaminated noise
  (``studies/within-calibration/``, ``reports/gate-power/within_calibration.md``). It is a
  non-binding futility stop: it can only remove chances to fail, so the false-alarm rate stays at
  ``alpha``; what it costs in power is measured by ``studies/gate-power/gate_power.py``.
- *undecidable*: from ``UNDECIDABLE_FROM`` pairs on, an open benchmark whose chance of either verdict at the cap is
  below ``UNDECIDABLE_POWER``, if the slowdown seen so far is the truth and the pairs to come are as
  noisy as those so far (conditional power, stochastic curtailment: Lan, Simon & Halperin 1982; the
  seed rounds stop a comparison the same way, ``stats.sequential``). Its noise would leave it open at
  the cap; it stops now and passes, saying what it could have detected. Like the within verdict it
  only removes chances to fail; what it costs in power is measured.
- *open*: neither; measured again. At the cap an open benchmark passes and says the smallest
  slowdown it could have detected with 80% power.

A decided benchmark is not measured again; the comparison ends when all are decided or at the cap.
``--pairs N`` gives the fixed design: every benchmark N pairs, one look at alpha, within at 95%.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from ..stats.multiple import holm
from ..stats.paired import TRIM, clustered_parts
from .verdict import OPEN as OPEN  # re-exported: the scripts read the passing verdicts here
from .verdict import VERDICTS, Verdict, table_of

POWER = 0.8
WITHIN_LEVEL = 0.05  # a within verdict's error over all its looks: at exactly the threshold, called within <= 5%
WITHIN_PER_LOOK = 0.01  # each look's one-sided level: WITHIN_LEVEL over the looks (studies/within-calibration)
# An open benchmark stops as undecidable when the cap would bring it a verdict with less than this chance. Replayed
# on the recorded pairs of 7 identical and 5 +25% comparisons of every model (studies/gate-power/): 0.1 from
# half the cap on cut the sequential design's measuring time from 58% to 50% of the fixed design's at a cost of
# one benchmark in 195 found slower at +25%; 0.2 (the seed rounds' level) cut it to 49% but cost two.
UNDECIDABLE_POWER = 0.1
# ... and looks from this many pairs on: 6 pairs keep 3 degrees of freedom once trimmed, the fewest at which the
# standard error the conditional power rests on is worth trusting (with 5 pairs, 2). Replayed on 12 identical and
# 6 +25% comparisons of every model with the within verdict from 5 pairs: from 6 rather than 8, the measuring time
# fell from 51% to 49% of the fixed design's, and the benchmarks found slower at a replayed +25% from 459 to 454
# of 468 (every group at 95% or more).
UNDECIDABLE_FROM = 6
# The between-process standard deviation (log units) assumed where it cannot be estimated (one worker pair): a
# process slow by 4% for its whole life, the offset the gate's calibration covers (studies/gate-power/).
PROCESS_FALLBACK = 0.04
RESTART_EVERY = 4  # the coordinator's default: the worker pairs assumed for recorded pairs that do not name theirs


@dataclass(frozen=True)
class Design:
    """When to look and what each look may spend: the sequential design, or the fixed one (``fixed``)."""

    max_pairs: int = 16
    min_pairs: int = 5
    alpha: float = 0.05
    fixed: bool = False
    undecidable: bool = True  # whether an open benchmark may stop as undecidable (a bisect probe measures to the cap)

    @property
    def slower_looks(self) -> dict[int, float]:
        """Pairs at which a slowdown is tested -> the share of alpha that look spends."""
        if self.fixed:
            return {self.max_pairs: self.alpha}
        half = max(self.min_pairs, self.max_pairs // 2)
        return {half: 0.2 * self.alpha, self.max_pairs: 0.8 * self.alpha} if half < self.max_pairs else {
            self.max_pairs: self.alpha}  # fmt: skip

    @property
    def within_looks(self) -> dict[int, float]:
        """Pairs at which a benchmark may be called within the threshold -> the one-sided level of that look's
        interval: the fixed design's one look at WITHIN_LEVEL; the sequential design's every look at
        WITHIN_PER_LOOK, calibrated so that all of them together keep WITHIN_LEVEL."""
        if self.fixed:
            return {self.max_pairs: WITHIN_LEVEL}
        return dict.fromkeys(range(self.min_pairs, self.max_pairs + 1), WITHIN_PER_LOOK)

    @property
    def futility_looks(self) -> range:
        """Pairs at which an open benchmark whose verdict the cap would likely not bring stops as undecidable."""
        if self.fixed or not self.undecidable:
            return range(0)
        # the conditional power takes the estimate and its standard error as known: never before UNDECIDABLE_FROM
        return range(max(self.min_pairs, UNDECIDABLE_FROM), self.max_pairs)

    def looks_at(self, pairs: int) -> bool:
        return pairs in self.slower_looks or pairs in self.within_looks

    @property
    def final_alpha(self) -> float:
        return self.slower_looks[self.max_pairs]


def processes_of(pairs: int, restart_every: int = RESTART_EVERY) -> list[int]:
    """The worker pair of each of ``pairs`` pairs when both sides are replaced every ``restart_every`` pairs (0:
    never, one worker pair for all), as the coordinator replaces them."""
    return [(k // restart_every if restart_every else 0) for k in range(pairs)]


class _Parts(NamedTuple):
    """What one benchmark's pairs say before its group's between-process term is known."""

    pairs: int
    head_faster_pairs: int
    center: float  # the trimmed mean of the pairs' logs
    var_pairs: float  # its per-pair (Tukey-McLaughlin) variance
    excess: float  # the cluster-robust variance over the worker pairs less var_pairs; NaN with one worker pair
    processes: int


def _parts(base: np.ndarray, head: np.ndarray, processes: list[int]) -> _Parts:
    logs = np.log(head / base)
    n, faster = len(logs), int((head < base).sum())
    if n < 2:
        return _Parts(n, faster, float(logs.mean()) if n else 0.0, math.inf, math.nan, 1)
    center, var_pairs, excess, k = clustered_parts(logs, np.asarray(processes[:n]))
    return _Parts(n, faster, float(center), float(var_pairs), float(excess), k)


def between_process(excesses: list[float]) -> tuple[float, bool]:
    """A group's between-process variance per worker pair (log units squared) from its benchmarks' excesses, and
    whether it was estimated: their mean floored at 0; ``PROCESS_FALLBACK`` squared where no benchmark has run in
    two worker pairs (one worker pair cannot tell a process's offset from the slowdown)."""
    known = [e for e in excesses if math.isfinite(e)]
    if not known:
        return PROCESS_FALLBACK**2, False
    return max(0.0, float(np.mean(known))), True


def _row(bench: str, parts: _Parts, tau2: float, estimated: bool) -> Verdict:
    n, center, k = parts.pairs, parts.center, parts.processes
    se = math.sqrt(parts.var_pairs + tau2 / k) if n >= 2 else math.inf
    half = _t(0.975, _df(n)) * se
    if not math.isfinite(se):
        p_value = 1.0
    elif se > 0:
        p_value = float(stats.t.sf(center / se, _df(n)))  # one-sided, H0: no slowdown
    else:  # every pair identical (or the kept ones are), and no process term
        p_value = 0.0 if center > 0 else 1.0
    return Verdict(
        benchmark=bench,
        pairs=n,
        processes=k,
        ratio=math.exp(center),
        ratio_low=math.exp(center - half),
        ratio_high=math.exp(center + half),
        head_faster_pairs=parts.head_faster_pairs,
        p_value=p_value,
        process_sd=math.sqrt(tau2),
        process_estimated=estimated,
        log_se=se,
        excess=parts.excess,
    )


def _group(bench: str) -> str:
    """The group whose benchmarks share a between-process term (``latency`` of ``latency/mlp_64-seed0``)."""
    return bench.split("/")[0] if "/" in bench else ""


def _df(n: int) -> int:
    return max(n - 2 * math.floor(TRIM * n) - 1, 1)


@cache
def _t(q: float, df: int) -> float:
    """Student's t quantile (cached: the looks ask for the same few, after every pair of every benchmark)."""
    return float(stats.t.ppf(q, df))


def _upper(row: Verdict, level: float) -> float:
    """The upper end of the one-sided (1 - level) interval of the ratio."""
    return math.exp(math.log(row.ratio) + _t(1 - level, _df(row.pairs)) * row.log_se)


def detectable(row: Verdict, threshold: float, alpha: float, power: float = POWER) -> float:
    """The smallest slowdown the comparison would have found with ``power``: significant at ``alpha`` (one-sided)
    and estimated beyond the threshold, at its pairs' noise (the between-process term included)."""
    se, df = row.log_se, _df(row.pairs)
    if not math.isfinite(se):
        return math.inf
    needed = max(_t(1 - alpha, df) * se, math.log1p(threshold))
    return math.expm1(needed + _t(power, df) * se)


def chance_decided(row: Verdict, design: Design, threshold: float) -> float:
    """The chance that the cap brings a verdict (slower or within), if the slowdown observed so far is the truth
    and the pairs still to come are as noisy as those so far: conditional power (Lan, Simon & Halperin 1982)."""
    pairs, cap, se = row.pairs, design.max_pairs, row.log_se
    if not math.isfinite(se) or pairs >= cap:
        return 0.0
    center = math.log(row.ratio)
    se_cap = se * math.sqrt(pairs / cap)  # the standard error at the cap
    spread = se * math.sqrt(pairs * (cap - pairs)) / cap  # how far the pairs to come may move the estimate
    bar, df = math.log1p(threshold), _df(cap)
    within_below = bar - _t(1 - design.within_looks[cap], df) * se_cap
    slower_above = max(bar, _t(1 - design.final_alpha, df) * se_cap)  # Holm's most lenient step: the larger chance
    return float(stats.norm.cdf((within_below - center) / spread) + stats.norm.sf((slower_above - center) / spread))


def decide(base: dict[str, list[float]], head: dict[str, list[float]], design: Design, threshold: float,
           decided: Mapping[str, Verdict], processes: list[int] | None = None) -> dict[str, Verdict]:  # fmt: skip
    """One look, after the latest pair: each benchmark's verdict (slower, within, undecidable, open). ``decided``:
    the verdicts already reached, kept as they are; a benchmark measured at this look is decided here or stays open.
    ``processes``: the worker pair of each pair (a benchmark's pairs are the first ones; default: replaced every
    ``RESTART_EVERY`` pairs)."""
    processes = processes if processes is not None else processes_of(max(map(len, base.values()), default=0))
    fresh = {b: _parts(np.asarray(base[b], float), np.asarray(head[b], float), processes) for b in base
             if b not in decided}  # fmt: skip
    excesses: dict[str, list[float]] = {}
    for b in base:
        excesses.setdefault(_group(b), []).append(decided[b].excess if b in decided else fresh[b].excess)
    terms = {group: between_process(values) for group, values in excesses.items()}
    rows = {b: decided[b] if b in decided else _row(b, fresh[b], *terms[_group(b)]) for b in base}
    pairs = max((len(base[b]) for b in base if b not in decided), default=design.max_pairs)
    share = design.slower_looks.get(pairs)
    if share is not None:  # a look that may call a benchmark slower: Holm over every benchmark at its share
        names = list(rows)
        for name, adjusted in zip(names, holm([rows[n].p_value for n in names]), strict=True):
            if name in decided:
                continue
            row = replace(rows[name], holm_p=float(adjusted))
            if adjusted < share and row.ratio > 1 + threshold:  # a slowdown, and estimated beyond the threshold
                row = replace(row, verdict="slower", alpha_spent=share)
            rows[name] = row
    for name, row in list(rows.items()):
        if name in decided or row.failed:
            continue
        level = design.within_looks.get(row.pairs)
        if level is not None and _upper(row, level) < 1 + threshold:
            rows[name] = replace(row, verdict="within")
        elif row.pairs in design.futility_looks and chance_decided(row, design, threshold) < UNDECIDABLE_POWER:
            rows[name] = replace(row, verdict="undecidable")
        else:
            rows[name] = replace(row, verdict="open")  # at a look that did not test it, holm_p stays NaN
    return rows


def replay(base: dict[str, list[float]], head: dict[str, list[float]], threshold: float, alpha: float = 0.05,
           design: Design | None = None, processes: list[int] | None = None) -> list[Verdict]:  # fmt: skip
    """Replay the design on recorded pairs (the pairs in the order they were measured): one verdict per benchmark,
    with the pairs it used, slowdown and 95% interval, p, Holm p, the smallest slowdown it could have detected.
    ``design`` defaults to the fixed design on all the pairs given; ``processes``: the worker pair of each pair
    (default: replaced every ``RESTART_EVERY`` pairs, as the coordinator does)."""
    if not base:
        return []
    design = design or Design(max_pairs=max(len(v) for v in base.values()), alpha=alpha, fixed=True)
    decided: dict[str, Verdict] = {}
    rows: dict[str, Verdict] = {}
    for pairs in range(2, design.max_pairs + 1):
        if not design.looks_at(pairs):
            continue
        so_far = {b: (v[:pairs] if b not in decided else v) for b, v in base.items()}
        head_so_far = {b: (v[:pairs] if b not in decided else v) for b, v in head.items()}
        rows = decide(so_far, head_so_far, design, threshold, decided, processes)
        decided.update({b: r for b, r in rows.items() if r.verdict != "open"})
        if len(decided) == len(base) or pairs >= min(len(v) for v in base.values()):
            break
    return conclude(rows, design, threshold)


def compare_pairs(base: dict[str, list[float]], head: dict[str, list[float]], threshold: float,
                  alpha: float = 0.05, design: Design | None = None,
                  processes: list[int] | None = None) -> pd.DataFrame:  # fmt: skip
    """``replay``'s verdicts as ``ab.csv``'s table (for the scripts that pool many comparisons)."""
    return table_of(replay(base, head, threshold, alpha, design, processes))


def conclude(rows: Mapping[str, Verdict], design: Design, threshold: float) -> list[Verdict]:
    """The verdicts at the end, each with the smallest slowdown it could have detected (a benchmark still open at
    the end is open)."""
    alpha = design.final_alpha / max(len(rows), 1)  # the Bonferroni bound of the last look's Holm levels
    return [replace(row, detectable=detectable(row, threshold, alpha)) for row in rows.values()]


def pairs_table(medians: dict[str, dict[str, list]]) -> pd.DataFrame:
    """``pairs.csv``: every pair's block median per side (seconds), the evidence behind each row of ``ab.csv``, and
    where ``medians`` has them (``"process"``, as the coordinator records), the worker pair (1, 2, ...) it ran in."""
    process = medians.get("process", {})
    return pd.DataFrame(
        [
            {"benchmark": bench, "pair": k + 1, "base_s": base, "head_s": head, "log_ratio": math.log(head / base)}
            | ({"process": process[bench][k] + 1} if bench in process else {})
            for bench in medians["base"]
            for k, (base, head) in enumerate(zip(medians["base"][bench], medians["head"][bench], strict=True))
        ]
    )


def failures(verdicts: Sequence[Verdict], threshold: float, alpha: float) -> list[str]:
    """A readable line per failing benchmark saying what was tested (empty: the gate passes)."""
    return [
        f"{row.benchmark}: slower than +{threshold:.0%}: estimate {row.ratio - 1:+.1%} (95% interval "
        f"{row.ratio_low - 1:+.1%} to {row.ratio_high - 1:+.1%}, {row.pairs} pairs in {row.processes} worker "
        f"pair(s)), different from no change at Holm-adjusted p={row.holm_p:.2g} < "
        f"{row.alpha_spent:g} (this look's share of α {alpha:g})"
        for row in verdicts
        if row.failed
    ]


def markdown(verdicts: Sequence[Verdict], title: str, design: Design, threshold: float, slowdown: float) -> list[str]:
    """``ab.md``: how the comparison was made, then one row per benchmark with what it could have missed."""
    injected = f"; INJECTED slowdown on the head: +{slowdown:.0%}" if slowdown else ""
    how = (
        f"fixed design, {design.max_pairs} pairs per benchmark"
        if design.fixed
        else f"sequential design, {design.min_pairs} to {design.max_pairs} pairs per benchmark, decided benchmarks no "
        f"longer measured; slower tested at pairs {', '.join(map(str, design.slower_looks))} "
        f"(α shares {', '.join(f'{a:g}' for a in design.slower_looks.values())})"
    )
    if design.futility_looks:  # a cap too short for the undecidable stop, or a bisect probe, has none to name
        how += (
            f"; from {design.futility_looks.start} pairs an open benchmark stops as undecidable when the cap would "
            f"bring it a verdict with less than {UNDECIDABLE_POWER:.0%} chance at the slowdown seen so far "
            "(conditional power)"
        )
    within = within_rule(design)
    return [
        f"# A/B: {title}",
        "",
        f"{how}; slowdown = head/base block medians (20%-trimmed mean of the pairs' logs, 95% t interval whose "
        f"variance adds a between-process term to Tukey-McLaughlin's: pairs that share a worker pair are not "
        f"independent); slower: different from no change (Holm-adjusted one-sided p below the look's share of "
        f"α {design.alpha}) and estimated beyond +{threshold:.0%}; within: the upper end of the one-sided interval "
        f"({within}) below +{threshold:.0%}; process SD: the between-process offset per worker pair (estimated, or assumed where "
        f"one worker pair cannot tell it); detectable: the smallest slowdown found with 80% power at the "
        f"benchmark's pairs{injected}",
        "",
        "| benchmark | verdict | pairs | worker pairs | slowdown | 95% interval | head faster in | process SD | "
        "Holm p (H0: no slowdown) | detectable |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---:|",
        *(
            f"| {r.benchmark} | {VERDICTS[r.verdict]} | {r.pairs} | {r.processes} | {r.ratio - 1:+.1%} | "
            f"{r.ratio_low - 1:+.1%} to {r.ratio_high - 1:+.1%} | {r.head_faster_pairs}/{r.pairs} | "
            f"{r.process_sd:.1%}{'' if r.process_estimated else ' (assumed)'} | {_p(r.holm_p)} | {_pct(r.detectable)} |"
            for r in verdicts
        ),
    ]


def within_rule(design: Design) -> str:
    """The within verdict's looks and levels in words, e.g. "99% at every look, 5 to 16 pairs"."""
    parts = []
    for level in sorted(set(design.within_looks.values())):
        pairs = [n for n, v in design.within_looks.items() if v == level]
        where = f"{pairs[0]} pairs" if len(pairs) == 1 else f"every look, {pairs[0]} to {pairs[-1]} pairs"
        parts.append(f"{1 - level:.0%} at {where}")
    return " and ".join(parts)


def stop_rule(design: Design) -> str:
    """Every rule that stops a benchmark before the cap without failing it, in words: the within rule, and where
    the design has one, the undecidable stop (``studies/gate-power/gate_power.py`` labels its real runs with it)."""
    rule = within_rule(design)
    if design.futility_looks:
        rule += f"; undecidable below {UNDECIDABLE_POWER:.0%} chance from {design.futility_looks.start} pairs"
    return rule


def _p(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{value:.2g}"


def _pct(value: float) -> str:
    return "–" if not math.isfinite(value) else f"+{value:.0%}"
