"""Training with the original notebook's protocol as the default, timed honestly.

Clock boundaries: each epoch's training time runs from just before the epoch's
first batch is drawn to just after the last optimiser step, with the device
synchronised at both ends. Validation, history bookkeeping, best-weight copies
and progress display happen outside those boundaries. With ``compile=True`` the
compilation happens in ``Stepper.warm_up``, which callers run before any clock starts.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from ..data.dataset import MNISTData, shuffled_batches
from ..results.outcome import EpochRecord, TrainResult
from ..results.protocol import PROTOCOL, TrainConfig, target_key
from . import distributed
from .device import SyncTimer
from .distributed import World
from .evaluation import loss_and_accuracy
from .stepper import Stepper, make_stepper


def train(
    model: nn.Module,
    data: MNISTData,
    config: TrainConfig | None = None,
    *,
    bar: bool | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    on_progress: Callable[[EpochProgress], None] | None = None,
    progress_every_s: float = 10.0,
    description: str = "train",
    stepper: Stepper | None = None,
    world: World | None = None,
) -> TrainResult:
    """Train ``model`` on ``data.x_train`` with early stopping on validation loss.

    Seeded by ``config.seed`` (batch order and dropout). ``bar`` shows a tqdm progress bar
    (``None``: only when attached to a terminal); ``on_epoch`` is called with each epoch's
    record, and ``on_progress`` with where an epoch stands, at most every ``progress_every_s``
    seconds (display time is kept off the training clock). With ``restore_best`` the model
    ends with a real copy of the best epoch's weights. ``stepper`` is one made by
    ``make_stepper`` and already warmed up (the benchmark suite does that before its clock
    starts); without one, ``train`` makes and warms up its own. In a parallel ``world`` (the
    stepper's, when one is given; see ``mnist_models.training.distributed``) this process
    trains under DDP on its slice of every global batch; epoch losses and accuracies are
    summed over the processes.
    """
    config = config or PROTOCOL
    if stepper is None:
        stepper = make_stepper(model, data, config, world=world)
    elif stepper.model is not model or stepper.config != config:
        raise ValueError("the stepper was made for another model or config")
    torch.manual_seed(config.seed)  # dropout
    steps = config.max_epochs * math.ceil(len(data.y_train) / config.batch_size)
    shown = tqdm(
        total=steps, desc=description, unit="step", leave=False, disable=(not bar) if bar is not None else None
    )
    run = _Run(model, data, config, stepper, _Ticker(shown, on_progress, progress_every_s))
    try:
        for epoch in range(1, config.max_epochs + 1):
            record = run.epoch(epoch)
            shown.set_postfix(epoch=epoch, val_acc=f"{record.val_acc:.4f}", refresh=False)
            if on_epoch is not None:
                on_epoch(record)
            if run.stop_reason is not None:
                break
    finally:
        shown.close()
    return run.result()


class _Run:
    """One training run's state across its epochs: the clocks, the history, the best epoch and why it stopped."""

    def __init__(self, model: nn.Module, data: MNISTData, config: TrainConfig, stepper: Stepper, ticker) -> None:
        self.model, self.data, self.config, self.stepper, self.ticker = model, data, config, stepper, ticker
        self.x_train = data.x_train.contiguous(memory_format=config.memory_format)
        self.generator = torch.Generator().manual_seed(config.seed)  # batch order
        self.history: list[EpochRecord] = []
        self.best_loss, self.best_epoch, self.best_state = math.inf, 0, None
        self.reached: dict[str, float | None] = {target_key(t): None for t in config.accuracy_targets}
        self.elapsed, self.stop_reason = 0.0, None

    def epoch(self, epoch: int) -> EpochRecord:
        """Train one epoch on the clock, validate off it, and note the best weights and whether to stop."""
        config, data, world = self.config, self.data, self.stepper.world
        n = len(data.y_train)
        lr = self.stepper.optimizer.param_groups[0]["lr"]
        self.model.train()
        with SyncTimer(data.device) as clock:
            batches = shuffled_batches(self.x_train, data.y_train, config.batch_size, self.generator,
                                       (world.rank, world.size))  # fmt: skip
            loss_sum, correct = self.stepper.run(self.ticker.count(batches, epoch, config.max_epochs, n, world.size))
            if world.parallel:  # epoch figures over the whole global batch
                distributed.sum_over_processes(loss_sum, correct)
        with SyncTimer(data.device) as eval_clock:
            val_loss, val_acc = loss_and_accuracy(self.model, data.x_val, data.y_val)
        train_time = clock.elapsed - self.ticker.overhead_s
        self.elapsed += train_time
        record = EpochRecord(epoch, float(loss_sum) / n, float(correct) / n, val_loss, val_acc, train_time,
                             eval_clock.elapsed, lr)  # fmt: skip
        self.history.append(record)
        self._note(record)
        return record

    def _note(self, record: EpochRecord) -> None:
        config = self.config
        for target in config.accuracy_targets:
            if self.reached[target_key(target)] is None and record.val_acc >= target:
                self.reached[target_key(target)] = self.elapsed
        if record.val_loss < self.best_loss:
            self.best_loss, self.best_epoch = record.val_loss, record.epoch
            if config.restore_best:
                self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        if config.patience is not None and record.epoch - self.best_epoch >= config.patience:
            self.stop_reason = "early_stopping"
        elif config.max_time_s is not None and self.elapsed >= config.max_time_s:
            self.stop_reason = "max_time"

    def result(self) -> TrainResult:
        """The outcome, the best epoch's weights restored (keeping the last epoch's beside them) when asked."""
        last_state, best_epoch = None, self.best_epoch
        if self.config.restore_best and self.best_state is not None:
            if best_epoch != len(self.history):
                last_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            self.model.load_state_dict(self.best_state)
        else:
            best_epoch = len(self.history)
        return TrainResult(self.model, self.config, tuple(self.history), best_epoch, self.stop_reason or "max_epochs",
                           self.reached, self.stepper.compile_time_s, last_state)  # fmt: skip


@dataclass(frozen=True)
class EpochProgress:
    """Where a training epoch stands, for a progress display."""

    epoch: int
    max_epochs: int
    images: int  # images of this epoch stepped through so far
    images_per_epoch: int
    elapsed_s: float  # this epoch's training time so far, display time excluded

    @property
    def images_per_s(self) -> float:
        return self.images / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float:
        """Seconds left in this epoch at the rate so far."""
        rate = self.images_per_s
        return (self.images_per_epoch - self.images) / rate if rate > 0 else math.inf


class _Ticker:
    """Counts an epoch's steps for a progress bar and an occasional progress report.

    Runs between optimiser steps, so inside the epoch's clock: the time it spends is
    measured and taken off the epoch's training time, which keeps displays out of it.
    """

    def __init__(self, bar, on_progress: Callable[[EpochProgress], None] | None, interval_s: float) -> None:
        self.bar = bar
        self.on_progress = on_progress
        self.interval_s = interval_s
        self.overhead_s = 0.0

    def count(self, batches, epoch: int, max_epochs: int, images_per_epoch: int, processes: int = 1):
        """Yield ``batches`` unchanged, counting them; ``overhead_s`` holds this epoch's display time.

        With data-parallel ``processes``, each batch is this process's slice of a global one.
        """
        self.overhead_s = 0.0
        start = last = time.perf_counter()
        images = 0
        for xb, yb in batches:
            yield xb, yb
            now = time.perf_counter()
            images = min(images + len(yb) * processes, images_per_epoch)
            self.bar.update(1)
            if self.on_progress is not None and now - last >= self.interval_s:
                elapsed = now - start - self.overhead_s
                self.on_progress(EpochProgress(epoch, max_epochs, images, images_per_epoch, elapsed))
                last = time.perf_counter()
            self.overhead_s += time.perf_counter() - now
