"""Training settings: ``TrainConfig`` (the original notebook's protocol as defaults) and precision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "onecycle", "cosine")
PRECISIONS = ("fp32", "bf16", "fp16")
ACCURACY_TARGETS = (0.97, 0.98, 0.99)  # validation accuracies whose training time is recorded (time to accuracy)


def target_key(target: float) -> str:
    """How a target is named in ``TrainResult.time_to_accuracy`` and the report: 0.97 -> "0.97"."""
    return f"{target:.4g}"


@dataclass(frozen=True)
class TrainConfig:
    """Training settings. The defaults are the original notebook's protocol."""

    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9  # SGD only (Nesterov)
    batch_size: int = 64
    max_epochs: int = 100
    patience: int | None = 10  # epochs without a lower validation loss; None disables early stopping
    restore_best: bool = True
    max_time_s: float | None = None  # checked after each epoch, against training time
    schedule: str = "constant"
    label_smoothing: float = 0.0
    channels_last: bool = True  # a no-op for MLPs; much faster convolutions on CPU
    fused: bool = True  # the optimiser's fused kernel (else its foreach one)
    zero_grad_to_none: bool = True  # zero_grad(set_to_none=...): drop gradients rather than write zeros
    host_sync_each_step: bool = False  # read the loss on the host every step, as the notebook's loop did
    precision: str = "fp32"  # bf16/fp16: autocast for forward and loss (fp16 with a gradient scaler)
    compile: bool = False  # torch.compile the model's training forward and backward
    seed: int = 0
    accuracy_targets: tuple[float, ...] = ACCURACY_TARGETS

    def __post_init__(self) -> None:
        object.__setattr__(self, "accuracy_targets", tuple(self.accuracy_targets))  # a list when read from JSON
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.batch_size < 1 or self.max_epochs < 1 or self.lr <= 0:
            raise ValueError("batch_size and max_epochs must be >= 1 and lr > 0")

    def updated(self, overrides: Mapping[str, Any]) -> TrainConfig:
        """A copy with ``overrides`` applied; unknown keys are an error naming the valid ones."""
        valid = {f.name for f in fields(self)}
        unknown = set(overrides) - valid
        if unknown:
            raise ValueError(f"unknown training setting(s) {sorted(unknown)}; valid: {sorted(valid)}")
        return replace(self, **overrides)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TrainConfig:
        """Read ``to_dict``'s output (keys this version does not know, from a newer one, are left out)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    @property
    def memory_format(self) -> torch.memory_format:
        import torch

        return torch.channels_last if self.channels_last else torch.contiguous_format


PROTOCOL = TrainConfig()  # the original notebook's protocol: every setting at its default
