"""The ``train`` group as data: the profile's whole training run, once."""

from __future__ import annotations

from ...results.groups import GroupSpec

NAME = "train"
SPEC = GroupSpec(
    NAME,
    "the profile's whole training run, validation included, once",
    trains=True,
    order=0,
    fields=("batch_size", "world_size", "backend", "images_per_s_per_process", "compile_time_s"),
)
