"""The ``engine`` group as data: the train-step work by our loop and by a notebook-style loop."""

from __future__ import annotations

from ...results.groups import GroupSpec, Variants
from ..train_step.spec import STEP_FIELDS

NAME = "engine"
SPEC = GroupSpec(
    NAME,
    "the train-step work by our loop and by a notebook-style loop",
    rounds="step_rounds",
    order=40,
    fields=(*STEP_FIELDS, "engine_loop"),
    variants=Variants("engine_loop", ("notebook", "ours")),
    sections=("engine",),
)
