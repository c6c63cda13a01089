"""The ``levers`` group as data: the train-step or throughput work with one engine setting changed."""

from __future__ import annotations

from ...results.groups import GroupSpec, Variants
from ..inference.spec import INFERENCE_FIELDS
from ..train_step.spec import STEP_FIELDS
from .levers import LEVER_NAMES

NAME = "levers"
SPEC = GroupSpec(
    NAME,
    "the train-step or throughput work with one engine setting changed",
    rounds="step_rounds",
    order=50,
    option="levers",
    fields=tuple(dict.fromkeys((*STEP_FIELDS, *INFERENCE_FIELDS, "lever", "lever_baseline"))),
    variants=Variants("lever", LEVER_NAMES),
    sections=("levers",),
)
