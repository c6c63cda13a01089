"""Seeds until decided: a group-sequential design over seed rounds for the architecture comparisons.

Seeds are added in rounds, to the models whose verdicts are still open, and the comparisons are
looked at after each round. To keep the family-wise error rate at ``alpha`` across the repeated
looks, the error is spent look by look with the Lan-DeMets O'Brien-Fleming-type spending function
(Lan & DeMets 1983, Biometrika 70:659), at the information fraction ``k / cap`` of each look, and
each look's share is tested with Holm's procedure over every pair of models (Holm 1979): by the
union bound over the looks the chance of any false "significantly below" in the whole run is at
most the sum of the shares, ``alpha``. (Exact group-sequential boundaries assume a normal statistic;
ours is a t with a handful of degrees of freedom, for which the union bound stays valid.)

A model stops getting seeds when its verdict is decided: it is significantly below another model
(it cannot be the best), or no number of seeds up to the cap is likely to separate it from the
best: the conditional power at the cap, at the difference observed so far, is below
``FUTILITY_POWER`` (stochastic curtailment, Lan, Simon & Halperin 1982). Stopping for futility
only removes chances to reject, so it cannot raise the error rate. The most accurate model keeps
getting seeds while any comparison with it is open. ``studies/seed-test/seed_test_calibration.py`` simulates
the whole procedure under the nulls and alternatives of the fixed test.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy import stats

from .multiple import holm
from .seeds import architecture_test, detectable

FIRST_LOOK = 3  # seeds of every model before the first look: two leave each seed variance one degree of freedom
FUTILITY_POWER = 0.2  # below this conditional power at the cap, more seeds are not worth their cost
GROWTH = 1.6  # each look has about this many times the seeds of the one before


def looks(cap: int, first: int = FIRST_LOOK) -> tuple[int, ...]:
    """Seeds per model at each look: ``first``, then about ``GROWTH`` times more each time, ending at ``cap``."""
    if cap <= first:
        return (max(cap, 2),)
    out = [first]
    while out[-1] < cap:
        out.append(min(cap, max(out[-1] + 1, round(out[-1] * GROWTH))))
    return tuple(out)


def spending(schedule: tuple[int, ...], alpha: float) -> tuple[float, ...]:
    """The error spent at each look: increments of 2 - 2 Phi(z_{alpha/2} / sqrt(t)) at t = k / cap."""
    cap = schedule[-1]
    z = stats.norm.ppf(1 - alpha / 2)
    spent = [2 - 2 * stats.norm.cdf(z / math.sqrt(k / cap)) for k in schedule]
    spent[-1] = alpha  # the last look spends whatever is left
    return tuple(b - a for a, b in zip([0.0, *spent[:-1]], spent, strict=True))


@dataclass(frozen=True)
class Verdict:
    """Where one model stands after a look."""

    model: str
    status: str  # "below" (significantly below another model), "futile", "open", "best" (most accurate so far)
    reason: str
    seeds: int


def _conditional_power(comparison, seeds_now: int, cap: int, alpha: float) -> float:
    """Chance that the comparison is significant at the cap if the difference observed now is the truth."""
    variance = comparison.variance.at(cap, cap) if seeds_now < cap else comparison.variance
    se = math.sqrt(variance.total)
    if se == 0:
        return 1.0
    critical = stats.t.ppf(1 - alpha / 2, variance.df())
    return float(stats.norm.sf(critical - abs(comparison.difference) / se))


def look(correct: Mapping[str, np.ndarray], alpha_now: float, alpha_last: float, cap: int,
         below: Mapping[str, str]) -> tuple[list[Verdict], dict[str, str]]:  # fmt: skip
    """One look: every pair tested, Holm at this look's share ``alpha_now``; returns each model's verdict and the
    models found below another so far (``below``: earlier looks' findings, kept).

    ``correct``: model -> its seeds x images correctness; ``alpha_last``: the share the last look will have
    (what the futility rule's conditional power is computed at).
    """
    means = {m: float(np.mean(c)) for m, c in correct.items()}
    best = max(means, key=means.get)
    pairs = list(combinations(sorted(correct), 2))
    tests = {pair: architecture_test(correct[pair[0]], correct[pair[1]]) for pair in pairs}
    adjusted = holm([tests[p].p_value for p in pairs]) if pairs else []
    found = dict(below)
    for (a, b), p in zip(pairs, adjusted, strict=True):
        if p < alpha_now:
            loser, winner = (a, b) if means[a] < means[b] else (b, a)
            found.setdefault(loser, f"significantly below {winner} (look at {len(correct[loser])} seeds)")
    verdicts = []
    for model, matrix in correct.items():
        seeds = len(matrix)
        if model in found:
            verdicts.append(Verdict(model, "below", found[model], seeds))
        elif model == best:
            verdicts.append(Verdict(model, "best", "most accurate so far", seeds))
        else:
            pair = (model, best) if (model, best) in tests else (best, model)
            power = _conditional_power(tests[pair], seeds, cap, alpha_last / max(len(pairs), 1))
            if power < FUTILITY_POWER:
                mdd = detectable(tests[pair].variance.at(cap, cap), alpha_last / max(len(pairs), 1))
                reason = f"not separable from {best} with up to {cap} seeds (at the cap it detects {mdd:.2%})"
                verdicts.append(Verdict(model, "futile", reason, seeds))
            else:
                verdicts.append(Verdict(model, "open", f"open against {best}", seeds))
    if not any(v.status == "open" for v in verdicts):
        verdicts = [
            Verdict(v.model, "decided", "every comparison with it decided", v.seeds) if v.status == "best" else v
            for v in verdicts
        ]
    return verdicts, found


def wanting(verdicts: list[Verdict]) -> list[str]:
    """The models that get seeds in the next round: the open ones, and the best while any is open."""
    open_ = [v.model for v in verdicts if v.status == "open"]
    return open_ + [v.model for v in verdicts if v.status == "best"] if open_ else []
