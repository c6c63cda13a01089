"""The hot loop: optimiser steps for one model, shared by training and the train-step benchmarks."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..data.dataset import MNISTData
from ..results.protocol import TrainConfig
from . import distributed
from .device import autocast, check_precision, synchronize
from .distributed import World

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

    def run(self, batches: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Run one optimiser step per ``(images, labels)`` batch; return (loss sum, correct) as device tensors."""
        model, optimizer, scheduler, scaler = self.forward, self.optimizer, self.scheduler, self.scaler
        config = self.config
        smoothing, set_to_none, sync = config.label_smoothing, config.zero_grad_to_none, config.host_sync_each_step
        loss_sum = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        for xb, yb in batches:
            with autocast(config.precision, self.device):
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
