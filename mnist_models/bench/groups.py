"""The suite's benchmark groups: one enumeration, used by the cases, the report and the gate."""

from __future__ import annotations

import enum


class Group(str, enum.Enum):
    """A pytest-benchmark group of the suite; its value is the group's name in saved runs."""

    TRAIN = "train"  # the whole training run, once
    TRAIN_STEP = "train-step"  # rounds of optimiser steps
    LATENCY = "latency"  # batch-1 inference
    THROUGHPUT = "throughput"  # batched inference
    ENGINE = "engine"  # our training loop against the notebook's
    LEVERS = "levers"  # one engine setting changed (--mnist-levers)

    def __str__(self) -> str:
        return self.value


GROUPS = tuple(group.value for group in Group)
TIMED_GROUPS = (Group.TRAIN_STEP.value, Group.LATENCY.value, Group.THROUGHPUT.value)  # rounds of one timed call
# the test function of each group, in the order a session runs them: training first, since the
# other groups measure the trained weights
CASE_FUNCTIONS = {f"test_{group.value.replace('-', '_')}": group for group in Group}
