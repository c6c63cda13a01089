"""The engine's levers as data: each a variant of the train-step or throughput case with one setting changed.

The ``levers`` benchmark group (``--mnist-levers``) times every variant that applies
next to the unchanged case, in the same session; the report divides the rates. A
variant's ``ratio`` below 1 means the suite's default setting pays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class Lever:
    """One variant. ``train`` and ``stepper`` change a train-step case; ``batch_size`` a throughput case."""

    name: str
    description: str
    case: str  # the group it varies: Group.TRAIN_STEP or Group.THROUGHPUT's value
    train: dict[str, Any] = field(default_factory=dict)  # TrainConfig overrides
    stepper: dict[str, Any] = field(default_factory=dict)  # Stepper switches
    threads: int | None = None  # torch threads while this variant runs
    batch_size: int | None = None  # throughput variants: inference batch size
    conv_only: bool = False  # only meaningful for models with convolutions

    @property
    def baseline(self) -> str:
        return BASELINES[self.case]

    def applies(self, model: nn.Module, suite_threads: int, precision: str, compiled: bool) -> str | None:
        """``None`` if this variant is worth timing for this model and session, else why not."""
        from torch import nn

        if self.conv_only and not any(isinstance(m, nn.Conv2d) for m in model.modules()):
            return "no convolutions: memory format changes nothing"
        if self.threads is not None and self.threads >= suite_threads:
            return f"the session already runs {suite_threads} thread(s)"
        if self.train.get("compile") and compiled:
            return "the session already compiles (--mnist-compile)"
        if "precision" in self.train and precision != "fp32":
            return f"the session already runs {precision}"
        return None


BASELINES = {"train-step": "default-train-step", "throughput": "default-throughput"}

LEVERS: tuple[Lever, ...] = (
    Lever("default-train-step", "the train-step case as the suite runs it", "train-step"),
    Lever("foreach-optimizer", "the optimiser's foreach kernel instead of its fused one", "train-step",
          train={"fused": False}),
    Lever("contiguous-format", "NCHW (contiguous) tensors instead of channels-last", "train-step",
          train={"channels_last": False}, conv_only=True),
    Lever("zero-grad-zeros", "zero_grad(set_to_none=False): gradients zeroed instead of dropped", "train-step",
          stepper={"set_to_none": False}),
    Lever("host-sync-each-step", "loss.item() after every step, as the notebook's loop did", "train-step",
          stepper={"sync_each_step": True}),
    Lever("one-thread", "one torch thread instead of the session's count", "train-step", threads=1),
    Lever("compile", "torch.compile on the model (compile time recorded apart)", "train-step",
          train={"compile": True}),
    Lever("bf16-autocast", "bf16 autocast for forward and loss", "train-step", train={"precision": "bf16"}),
    Lever("default-throughput", "the throughput case as the suite runs it", "throughput"),
    Lever("inference-batch-64", "inference batch of 64", "throughput", batch_size=64),
    Lever("inference-batch-2048", "inference batch of 2048", "throughput", batch_size=2048),
    Lever("inference-one-thread", "one torch thread for inference", "throughput", threads=1),
)  # fmt: skip

LEVER_NAMES = tuple(lever.name for lever in LEVERS)


def get_lever(name: str) -> Lever:
    for lever in LEVERS:
        if lever.name == name:
            return lever
    raise KeyError(f"unknown lever {name!r}; known: {', '.join(LEVER_NAMES)}")
