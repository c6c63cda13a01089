"""Training with the original notebook's protocol as the default, timed honestly.

Clock boundaries: each epoch's training time runs from just before the first
batch is drawn to just after the last optimiser step, with the device
synchronised at both ends. Validation, history bookkeeping, best-weight copies
and progress display happen outside those boundaries.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from .data import MNISTData, iterate_batches
from .device import SyncTimer
from .evaluation import loss_and_accuracy

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "onecycle", "cosine")


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
    seed: int = 0
    accuracy_targets: tuple[float, ...] = (0.97, 0.98, 0.99)

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
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


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    train_time_s: float  # training loop only
    eval_time_s: float  # validation pass
    lr: float


@dataclass(frozen=True)
class TrainResult:
    model: nn.Module
    config: TrainConfig
    history: tuple[EpochRecord, ...]
    best_epoch: int  # 1-based epoch whose weights the model holds (the last one if not restored)
    stop_reason: str
    time_to_accuracy: dict[str, float | None] = field(default_factory=dict)

    @property
    def epochs_run(self) -> int:
        return len(self.history)

    @property
    def train_time_s(self) -> float:
        return sum(r.train_time_s for r in self.history)


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    params = model.parameters()
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(
        params, lr=config.lr, momentum=config.momentum, nesterov=True, weight_decay=config.weight_decay
    )


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, total_steps: int):
    """A per-step learning-rate schedule, or ``None`` for a constant rate."""
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=total_steps)
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    return None


def train_steps(model, optimizer, scheduler, x, y, batches, label_smoothing: float = 0.0):
    """Run optimiser steps over ``batches`` (index tensors); return (loss sum, correct) as device tensors.

    Metrics accumulate on the device: nothing here waits for the host.
    """
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    for idx in batches:
        xb, yb = x[idx], y[idx]
        logits = model(xb)
        loss = F.cross_entropy(logits, yb, label_smoothing=label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        loss_sum += loss.detach() * len(idx)
        correct += (logits.detach().argmax(1) == yb).sum()
    return loss_sum, correct


def train(
    model: nn.Module,
    data: MNISTData,
    config: TrainConfig | None = None,
    *,
    progress: bool | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    description: str = "train",
) -> TrainResult:
    """Train ``model`` on ``data.x_train`` with early stopping on validation loss.

    Seeded by ``config.seed`` (batch order and dropout). ``progress`` shows a tqdm
    bar (``None``: only when attached to a terminal); ``on_epoch`` is called with
    each epoch's record. With ``restore_best`` the model ends with a real copy of
    the best epoch's weights.
    """
    from tqdm.auto import tqdm

    config = config or TrainConfig()
    device = data.device
    model.to(device)
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    model.to(memory_format=memory_format)
    x_train = data.x_train.contiguous(memory_format=memory_format)
    torch.manual_seed(config.seed)  # dropout
    generator = torch.Generator().manual_seed(config.seed)  # batch order
    n = len(data.y_train)
    steps_per_epoch = math.ceil(n / config.batch_size)
    optimizer = make_optimizer(model, config)
    scheduler = make_scheduler(optimizer, config, steps_per_epoch * config.max_epochs)

    history: list[EpochRecord] = []
    best_loss, best_epoch, best_state = math.inf, 0, None
    reached: dict[str, float | None] = {f"{t:.4g}": None for t in config.accuracy_targets}
    stop_reason = "max_epochs"
    elapsed = 0.0
    bar = tqdm(
        total=config.max_epochs * steps_per_epoch,
        desc=description,
        unit="step",
        leave=False,
        disable=(not progress) if progress is not None else None,
    )
    try:
        for epoch in range(1, config.max_epochs + 1):
            lr = optimizer.param_groups[0]["lr"]
            model.train()
            batches = _counted(iterate_batches(n, config.batch_size, generator, device), bar)
            with SyncTimer(device) as clock:
                loss_sum, correct = train_steps(
                    model, optimizer, scheduler, x_train, data.y_train, batches, config.label_smoothing
                )
            with SyncTimer(device) as eval_clock:
                val_loss, val_acc = loss_and_accuracy(model, data.x_val, data.y_val)
            elapsed += clock.elapsed
            record = EpochRecord(
                epoch, float(loss_sum) / n, float(correct) / n, val_loss, val_acc, clock.elapsed, eval_clock.elapsed, lr
            )
            history.append(record)
            for key in reached:
                if reached[key] is None and val_acc >= float(key):
                    reached[key] = elapsed
            if val_loss < best_loss:
                best_loss, best_epoch = val_loss, epoch
                if config.restore_best:
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            bar.set_postfix(epoch=epoch, val_acc=f"{val_acc:.4f}", refresh=False)
            if on_epoch is not None:
                on_epoch(record)
            if config.patience is not None and epoch - best_epoch >= config.patience:
                stop_reason = "early_stopping"
                break
            if config.max_time_s is not None and elapsed >= config.max_time_s:
                stop_reason = "max_time"
                break
    finally:
        bar.close()
    if config.restore_best and best_state is not None:
        model.load_state_dict(best_state)
    else:
        best_epoch = len(history)
    return TrainResult(model, config, tuple(history), best_epoch, stop_reason, reached)


def _counted(batches, bar):
    for idx in batches:
        yield idx
        bar.update(1)
