"""The engine's levers as data: each a variant of the train-step or throughput work with one setting changed.

The ``levers`` benchmark group (``--mnist-levers``) times every variant that applies next to
the unchanged work, in the same session; each record names its baseline (``lever_baseline``)
and the report divides the rates. A variant's ratio below 1 means the suite's default pays.
Pure data (the group's spec reads the names): torch is imported only by ``applies``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..inference.spec import THROUGHPUT
from ..train_step.spec import NAME as TRAIN_STEP

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class Lever:
    """One variant. ``train`` changes a train-step benchmark's settings; ``batch_size`` a throughput one's."""

    name: str
    description: str
    group: str  # the group whose work it varies: TRAIN_STEP or THROUGHPUT
    train: dict[str, Any] = field(default_factory=dict)  # TrainConfig overrides
    threads: int | None = None  # torch threads while this variant runs
    batch_size: int | None = None  # throughput variants: inference batch size
    conv_only: bool = False  # only meaningful for models with convolutions

    @property
    def baseline(self) -> str:
        """The unchanged variant of the same work, whose rate this one's is divided by."""
        return f"default-{self.group}"

    def applies(self, model: nn.Module, suite_threads: int, precision: str, compiled: bool) -> str | None:
        """``None`` if this variant is worth timing for this model and session, else why not."""
        from torch import nn  # here: the levers are data the group's spec reads without torch

        if self.conv_only and not any(isinstance(m, nn.Conv2d) for m in model.modules()):
            return "no convolutions: memory format changes nothing"
        if self.threads is not None and self.threads >= suite_threads:
            return f"the session already runs {suite_threads} thread(s)"
        if self.train.get("compile") and compiled:
            return "the session already compiles (--mnist-compile)"
        if "precision" in self.train and precision != "fp32":
            return f"the session already runs {precision}"
        return None


def _levers(group: str, *variants: tuple[str, str, dict[str, Any]]) -> tuple[Lever, ...]:
    """The unchanged work of ``group`` first, then one lever per (name, description, fields)."""
    unchanged = Lever(f"default-{group}", f"the {group} work as the suite runs it", group)
    return (unchanged, *(Lever(name, text, group, **spec) for name, text, spec in variants))


LEVERS: tuple[Lever, ...] = (
    *_levers(
        TRAIN_STEP,
        ("foreach-optimizer", "the optimiser's foreach kernel instead of its fused one", {"train": {"fused": False}}),
        ("contiguous-format", "NCHW (contiguous) tensors instead of channels-last",
         {"train": {"channels_last": False}, "conv_only": True}),
        ("zero-grad-zeros", "zero_grad(set_to_none=False): gradients zeroed instead of dropped",
         {"train": {"zero_grad_to_none": False}}),
        ("host-sync-each-step", "loss.item() after every step, as the notebook's loop did",
         {"train": {"host_sync_each_step": True}}),
        ("one-thread", "one torch thread instead of the session's count", {"threads": 1}),
        ("compile", "torch.compile on the model (compile time recorded apart)", {"train": {"compile": True}}),
        ("bf16-autocast", "bf16 autocast for forward and loss", {"train": {"precision": "bf16"}}),
    ),
    *_levers(
        THROUGHPUT,
        ("inference-batch-64", "inference batch of 64", {"batch_size": 64}),
        ("inference-batch-2048", "inference batch of 2048", {"batch_size": 2048}),
        ("inference-one-thread", "one torch thread for inference", {"threads": 1}),
    ),
)  # fmt: skip

LEVER_NAMES = tuple(lever.name for lever in LEVERS)


def lever_names(config: object = None) -> tuple[str, ...]:
    """The levers group's variants (the same in every session)."""
    return LEVER_NAMES


def get_lever(name: str) -> Lever:
    for lever in LEVERS:
        if lever.name == name:
            return lever
    raise KeyError(f"unknown lever {name!r}; known: {', '.join(LEVER_NAMES)}")
