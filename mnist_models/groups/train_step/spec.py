"""The ``train-step`` group as data: rounds of optimiser steps on a fresh model."""

from __future__ import annotations

from ...results.groups import GroupSpec, SummaryColumn

NAME = "train-step"
STEP_FIELDS = ("batch_size", "steps_per_round", "compile_time_s")  # what a train-step call fills (engine, levers too)
SPEC = GroupSpec(
    NAME,
    "a fixed number of optimiser steps on a fresh model: training images/s",
    rounds="step_rounds",
    timed=True,
    order=10,
    fields=STEP_FIELDS,
    summary=(
        SummaryColumn("train_step_img_s", "images_per_s", "train img/s", order=30),
        SummaryColumn("train_step_peak_fraction", "peak_fraction", "% peak train", "percent", order=31),
    ),
)
