"""``--mnist-seeds auto:N[,T]``: seeds trained in rounds, only for the models whose verdicts are still open.

pytest collects every case before any runs, so a session with auto seeds collects every seed up to the
cap, in rounds: all the ``train`` cases of seed 0 of every model, then of seed 1, and so on (the timed
groups measure the first seed's weights only). A seed's ``train`` case asks ``SeedRounds.why`` first:
the seeds of the first look run; a later seed runs when the look before its round (``stats.sequential``:
every pair tested, the error spent look by look) left its model open, or its model is the most accurate
while another is open, and the time budget, if any, is not spent; otherwise the case is skipped, saying
why. Every seed that runs leaves its own record in the pytest-benchmark JSON, with why it was added
(``seed_reason``); the looks and their verdicts go into the run's machine info (``seed_rounds``).
With shards, a shard decides among its own models (the merged report recomputes the verdicts).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

import numpy as np

from ..report.tables.significance import ALPHA
from ..stats import sequential

if TYPE_CHECKING:
    from .plan import Case, SuitePlan
    from .weights import Weights


class SeedRounds:
    """The looks of one session with auto seeds, and the decision for each seed beyond the first look."""

    def __init__(self, plan: SuitePlan, weights: Weights) -> None:
        self.plan, self.weights = plan, weights
        self.cap = plan.seed_plan.cap
        self.budget_s = plan.seed_plan.budget_s
        self.schedule = sequential.looks(self.cap)
        self.shares = sequential.spending(self.schedule, ALPHA)
        self.looks: list[dict] = []  # what each look found, for the run's machine info
        self._below: dict[str, str] = {}
        self._wanted: dict[int, dict[str, str]] = {}  # look index -> model -> why it gets that round's seeds

    def why(self, case: Case) -> tuple[bool, str]:
        """Whether ``case`` trains, and the reason (recorded with its seed, or said in the skip)."""
        if case.seed < self.schedule[0]:
            return True, f"first look: {self.schedule[0]} seeds of every model"
        index = next(i for i, k in enumerate(self.schedule) if case.seed < k)  # the round this seed belongs to
        if index not in self._wanted:
            self._wanted[index] = self._look(index - 1)
        spent = self.training_seconds()
        if self.budget_s is not None and spent >= self.budget_s:
            return False, f"time budget spent ({spent:.0f} s of {self.budget_s:.0f} s of training)"
        wanted = self._wanted[index]
        if case.model in wanted:
            return True, wanted[case.model]
        last = self.looks[-1]["verdicts"].get(case.model, {})
        return False, f"decided at the look at {self.schedule[index - 1]} seeds: {last.get('reason', 'not trained')}"

    def _look(self, index: int) -> dict[str, str]:
        """The look after round ``index``: every model's verdict on the seeds trained so far."""
        correct = {}
        for spec in self.plan.specs:
            seeds = [s for s in range(self.schedule[index]) if self.weights.has(spec.display_name, s)]
            if len(seeds) >= 2:
                correct[spec.display_name] = np.array([self.weights.correctness(spec.display_name, s) for s in seeds])
        verdicts, self._below = sequential.look(correct, self.shares[index], self.shares[-1], self.cap, self._below)
        self.looks.append({"seeds": self.schedule[index], "alpha": self.shares[index],
                           "verdicts": {v.model: asdict(v) for v in verdicts}})  # fmt: skip
        if index + 1 == len(self.schedule):
            return {}
        reason = {v.model: v.reason for v in verdicts}
        seeds, upto = self.schedule[index], self.schedule[index + 1]
        return {m: f"look at {seeds} seeds: {reason[m]}; seeds up to {upto}" for m in sequential.wanting(verdicts)}

    def training_seconds(self) -> float:
        return self.weights.training_seconds()

    def summary(self) -> dict:
        """The design and every look, the last one on every seed trained (for the run's machine info)."""
        last = len(self.schedule) - 1
        if not self.looks or self.looks[-1]["seeds"] != self.schedule[last]:
            self._look(last)
        return {"cap": self.cap, "budget_s": self.budget_s, "schedule": list(self.schedule),
                "alpha_per_look": list(self.shares), "training_s": self.training_seconds(),
                "looks": self.looks}  # fmt: skip
