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

from ..data.dataset import MNISTData, shuffled_batches
from ..results.outcome import EpochRecord, TrainResult
from ..results.protocol import TrainConfig, target_key
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
    progress: bool | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    progress_interval_s: float = 10.0,
    description: str = "train",
    stepper: Stepper | None = None,
    world: World | None = None,
) -> TrainResult:
    """Train ``model`` on ``data.x_train`` with early stopping on validation loss.

    Seeded by ``config.seed`` (batch order and dropout). ``progress`` shows a tqdm
    bar (``None``: only when attached to a terminal); ``on_epoch`` is called with
    each epoch's record, and ``on_progress`` inside an epoch, at most every
    ``progress_interval_s`` seconds (display time is kept off the training clock).
    With ``restore_best`` the model ends with a real copy of the best epoch's weights.
    ``stepper`` is one made by ``make_stepper`` and already warmed up (the benchmark
    suite does that before its clock starts); without one, ``train`` makes and warms up
    its own. In a parallel ``world`` (the stepper's, when one is given; see
    ``mnist_models.training.distributed``) this process trains under DDP on its slice of every
    global batch; epoch losses and accuracies are summed over the processes.
    """
    from tqdm.auto import tqdm

    config = config or TrainConfig()
    device = data.device
    if stepper is None:
        stepper = make_stepper(model, data, config, world=world)
    elif stepper.model is not model or stepper.config != config:
        raise ValueError("the stepper was made for another model or config")
    world = stepper.world
    memory_format = config.memory_format
    x_train = data.x_train.contiguous(memory_format=memory_format)
    torch.manual_seed(config.seed)  # dropout
    generator = torch.Generator().manual_seed(config.seed)  # batch order
    n = len(data.y_train)
    steps_per_epoch = math.ceil(n / config.batch_size)
    optimizer = stepper.optimizer

    history: list[EpochRecord] = []
    best_loss, best_epoch, best_state = math.inf, 0, None
    reached: dict[str, float | None] = {target_key(t): None for t in config.accuracy_targets}
    stop_reason = "max_epochs"
    elapsed = 0.0
    bar = tqdm(
        total=config.max_epochs * steps_per_epoch,
        desc=description,
        unit="step",
        leave=False,
        disable=(not progress) if progress is not None else None,
    )
    ticker = _Ticker(bar, on_progress, progress_interval_s)
    try:
        for epoch in range(1, config.max_epochs + 1):
            lr = optimizer.param_groups[0]["lr"]
            model.train()
            with SyncTimer(device) as clock:
                batches = shuffled_batches(
                    x_train, data.y_train, config.batch_size, generator, (world.rank, world.size)
                )
                loss_sum, correct = stepper.run(ticker.count(batches, epoch, config.max_epochs, n, world.size))
                if world.parallel:  # epoch figures over the whole global batch
                    distributed.sum_over_processes(loss_sum, correct)
            with SyncTimer(device) as eval_clock:
                val_loss, val_acc = loss_and_accuracy(model, data.x_val, data.y_val)
            train_time = clock.elapsed - ticker.overhead_s
            elapsed += train_time
            record = EpochRecord(
                epoch, float(loss_sum) / n, float(correct) / n, val_loss, val_acc, train_time, eval_clock.elapsed, lr
            )
            history.append(record)
            for target in config.accuracy_targets:
                if reached[target_key(target)] is None and val_acc >= target:
                    reached[target_key(target)] = elapsed
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
    last_state = None
    if config.restore_best and best_state is not None:
        if best_epoch != len(history):
            last_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.load_state_dict(best_state)
    else:
        best_epoch = len(history)
    return TrainResult(
        model, config, tuple(history), best_epoch, stop_reason, reached, stepper.compile_time_s, last_state
    )


@dataclass(frozen=True)
class Progress:
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

    def __init__(self, bar, on_progress: Callable[[Progress], None] | None, interval_s: float) -> None:
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
                self.on_progress(Progress(epoch, max_epochs, images, images_per_epoch, elapsed))
                last = time.perf_counter()
            self.overhead_s += time.perf_counter() - now
