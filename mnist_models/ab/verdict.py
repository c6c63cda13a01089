"""One benchmark's A/B verdict as a typed record (``Verdict``), and its one conversion to ``ab.csv``'s table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

Outcome = Literal["slower", "within", "open", "undecidable"]

VERDICTS: dict[str, str] = {
    "slower": "FAILED: slower beyond the threshold",
    "within": "within the threshold",
    "open": "open at the cap",
    "undecidable": "open: undecidable by the cap, stopped",
}
OPEN = ("open", "undecidable")  # the verdicts that pass without deciding: each says what it could have detected


@dataclass(frozen=True)
class Verdict:
    """What one benchmark's pairs say at a look, and what was decided from it (``ab.paired.decide``)."""

    benchmark: str  # latency/mlp_64-seed0
    pairs: int  # the pairs it used
    processes: int  # the worker pairs those pairs ran in
    ratio: float  # head/base: exp of the trimmed mean of the pairs' logs
    ratio_low: float  # the 95% interval of the ratio
    ratio_high: float
    head_faster_pairs: int
    p_value: float  # one-sided, H0: no slowdown
    process_sd: float  # the between-process offset per worker pair (log units)
    process_estimated: bool  # False: process_sd is PROCESS_FALLBACK, assumed
    log_se: float  # the standard error of the log ratio, both terms (not in ab.csv)
    excess: float  # its cluster-robust excess over the worker pairs, pooled per group (not in ab.csv)
    holm_p: float = math.nan  # Holm-adjusted p at a look that may call it slower; NaN at any other
    verdict: Outcome = "open"
    alpha_spent: float = math.nan  # the look's share of alpha, where it was found slower
    detectable: float = math.nan  # the smallest slowdown found with 80% power (``ab.paired.conclude``)

    @property
    def failed(self) -> bool:
        return self.verdict == "slower"


# ab.csv's columns, in order (log_se and excess stay inside the comparison)
COLUMNS = ("benchmark", "pairs", "processes", "ratio", "ratio_low", "ratio_high", "head_faster_pairs", "p_value",
           "process_sd", "process_estimated", "holm_p", "verdict", "alpha_spent", "failed", "detectable")  # fmt: skip


def table_of(verdicts: Sequence[Verdict]) -> pd.DataFrame:
    """The verdicts as ``ab.csv``, one row each; ``alpha_spent`` only where a benchmark was found slower (as
    ``ab.csv`` has always had it)."""
    table = pd.DataFrame([{name: getattr(v, name) for name in COLUMNS} for v in verdicts], columns=list(COLUMNS))
    return table if any(v.failed for v in verdicts) else table.drop(columns="alpha_spent")
