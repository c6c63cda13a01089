"""Training with the original notebook's protocol as the default, timed honestly.

Clock boundaries: each epoch's training time runs from just before the epoch's
first batch is drawn to just after the last optimiser step, with the device
synchronised at both ends. Validation, history bookkeeping, best-weight copies
and progress display happen outside those boundaries. With ``compile=True`` the
compilation happens in ``Stepper.warm_up``, which callers run before any clock starts.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..data.dataset import MNISTData, shuffled_batches
from . import distributed
from .device import SyncTimer, synchronize
from .distributed import World
from .evaluation import loss_and_accuracy

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "onecycle", "cosine")
PRECISIONS = ("fp32", "bf16", "fp16")
AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


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
    precision: str = "fp32"  # bf16/fp16: autocast for forward and loss (fp16 with a gradient scaler)
    compile: bool = False  # torch.compile the model's training forward and backward
    seed: int = 0
    accuracy_targets: tuple[float, ...] = (0.97, 0.98, 0.99)

    def __post_init__(self) -> None:
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

    @property
    def memory_format(self) -> torch.memory_format:
        return torch.channels_last if self.channels_last else torch.contiguous_format


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
    compile_time_s: float | None = None  # with config.compile: the warm-up that compiled, outside every clock
    # the last epoch's weights when the model holds an earlier (restored) epoch's: what the original
    # notebook reported, since its shallow-copy "restore" kept the last epoch
    last_state: dict[str, torch.Tensor] | None = None

    @property
    def epochs_run(self) -> int:
        return len(self.history)

    @property
    def train_time_s(self) -> float:
        return sum(r.train_time_s for r in self.history)


FUSED_DEVICES = ("cpu", "cuda", "mps")  # where torch (>= 2.5) has fused Adam, AdamW and SGD kernels


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """The configured optimiser; its fused kernel when ``config.fused`` and the device has one, else foreach.

    torch checks fused support only at the first step, so the choice is made here
    from the parameters' devices and dtypes.
    """
    kinds = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
    settings: dict[str, Any] = {"lr": config.lr, "weight_decay": config.weight_decay}
    if config.optimizer == "sgd":
        settings.update(momentum=config.momentum, nesterov=True)
    params = list(model.parameters())
    fusable = all(p.device.type in FUSED_DEVICES and p.is_floating_point() for p in params)
    if config.fused and params and fusable:
        return kinds[config.optimizer](params, fused=True, **settings)
    return kinds[config.optimizer](params, foreach=True if params else None, **settings)


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, total_steps: int):
    """A per-step learning-rate schedule, or ``None`` for a constant rate."""
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=total_steps)
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    return None


def check_precision(precision: str, device: torch.device) -> None:
    """fp16 autocast needs an accelerator; bf16 runs everywhere (slowly on CPUs without bf16 units)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "fp16" and device.type not in ("cuda", "mps"):
        raise ValueError(f"fp16 autocast needs a CUDA or MPS device, not {device.type}; use bf16 or fp32")


def autocast(precision: str, device: torch.device):
    """The autocast context for ``precision`` (a no-op context for fp32)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=AUTOCAST_DTYPES[precision])


def compile_model(model: nn.Module) -> Callable:
    """``torch.compile`` for one model measured on its own.

    Dynamo's in-memory caches are cleared first: every ``nn.Sequential`` shares one
    ``forward`` code object, and after a few models its recompile limit silently
    falls back to eager (measured: the compile lever of the 9th model was eager).
    Inductor's on-disk cache is left as found, so a second session compiles faster.
    Callers compile and warm up right before timing, so no clock sees a reset.
    """
    torch._dynamo.reset()
    return torch.compile(model, dynamic=False)


class Stepper:
    """The hot loop: optimiser steps for one model, shared by training and the train-step benchmarks.

    Metrics accumulate on the device; nothing in ``run`` waits for the host (with
    fp16 the gradient scaler's inf check is the one exception, as in any AMP loop).
    """

    def __init__(
        self,
        model: nn.Module,
        config: TrainConfig,
        device: torch.device,
        total_steps: int | None = None,
        world: World | None = None,
    ):
        check_precision(config.precision, device)
        self.model = model
        self.config = config
        self.device = device
        self.world = world or World()
        forward = distributed.wrap(model, device) if self.world.parallel else model  # DDP: gradients averaged
        self.forward = compile_model(forward) if config.compile else forward
        self.optimizer = make_optimizer(model, config)
        self.scheduler = make_scheduler(self.optimizer, config, total_steps) if total_steps else None
        self.scaler = torch.amp.GradScaler(device.type) if config.precision == "fp16" else None
        self.compile_time_s: float | None = None
        # switches kept only so the levers benchmark can measure what each habit costs
        self.set_to_none = True  # zero_grad(set_to_none=False) writes zeros into every gradient
        self.sync_each_step = False  # True: read the loss on the host every step, as the notebook did

    def run(self, batches: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Run one optimiser step per ``(images, labels)`` batch; return (loss sum, correct) as device tensors."""
        model, optimizer, scheduler, scaler = self.forward, self.optimizer, self.scheduler, self.scaler
        smoothing, set_to_none, sync = self.config.label_smoothing, self.set_to_none, self.sync_each_step
        loss_sum = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        for xb, yb in batches:
            with autocast(self.config.precision, self.device):
                logits = model(xb)
                loss = F.cross_entropy(logits, yb, label_smoothing=smoothing)
            optimizer.zero_grad(set_to_none=set_to_none)
            if scaler is None:
                loss.backward()
                optimizer.step()
            else:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            if scheduler is not None:
                scheduler.step()
            loss_sum += loss.detach() * len(yb)
            if sync:
                loss.item()
            correct += (logits.detach().argmax(1) == yb).sum()
        return loss_sum, correct

    def warm_up(self, x: torch.Tensor, y: torch.Tensor, batch_sizes: Iterable[int], steps: int = 3) -> None:
        """Run ``steps`` steps per batch size, then put the weights back as they were.

        This initialises kernels and, with ``compile``, compiles the model for each
        shape (timed into ``compile_time_s``), so that no clock pays for either. The
        steps use a throwaway optimiser; weights and buffers are restored in place
        (the compiled code stays valid), the real optimiser and schedule are untouched.
        """
        saved = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        real = self.optimizer, self.scheduler, self.scaler
        self.optimizer = make_optimizer(self.model, self.config)
        self.scheduler = None
        self.scaler = torch.amp.GradScaler(self.device.type) if real[2] is not None else None
        self.model.train()
        start = time.perf_counter()
        try:
            for size in dict.fromkeys(batch_sizes):
                self.run([(x[:size], y[:size])] * steps)
            synchronize(self.device)
        finally:
            self.optimizer, self.scheduler, self.scaler = real
            with torch.no_grad():
                self.model.load_state_dict(saved)
        if self.config.compile:
            self.compile_time_s = time.perf_counter() - start


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


def make_stepper(
    model: nn.Module, data: MNISTData, config: TrainConfig, warm_up: bool = True, world: World | None = None
) -> Stepper:
    """A ``Stepper`` for training ``model`` on ``data`` with ``config`` (model moved to the device and format).

    With ``warm_up`` it runs a few throwaway steps at each batch shape an epoch has
    (compiling there with ``config.compile``); the weights are put back afterwards.
    """
    device = data.device
    model.to(device).to(memory_format=config.memory_format)
    n = len(data.y_train)
    steps = math.ceil(n / config.batch_size) * config.max_epochs
    stepper = Stepper(model, config, device, total_steps=steps, world=world)
    if warm_up:
        x = data.x_train.contiguous(memory_format=config.memory_format)
        stepper.warm_up(x, data.y_train, [config.batch_size, n % config.batch_size or config.batch_size])
    return stepper


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
