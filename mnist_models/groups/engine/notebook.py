"""A faithful notebook-style training loop, kept only to measure our engine against it.

The original notebook trained with a ``TensorDataset`` and ``DataLoader(shuffle=True)``,
log-softmax and ``NLLLoss``, ``loss.item()`` and an accuracy ``.item()`` every step, and
a tqdm postfix update every step. Each of those is a host round trip or Python work that
our engine (``training.Stepper``) avoids.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset
from tqdm.auto import tqdm

from ...training.device import synchronize


def notebook_step_runner(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, batch_size: int, seed: int, device: torch.device
) -> Callable[[], None]:
    """A callable running ``steps`` notebook-style optimiser steps per call (device synchronised at the end)."""
    loader = DataLoader(
        TensorDataset(x.cpu(), y.cpu()),
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.NLLLoss()
    # The notebook drew its bar on screen; here it draws into a buffer, paying the same formatting cost.
    bar = tqdm(total=None, file=io.StringIO(), leave=False)
    state = {"batches": iter(loader), "loss": 0.0, "correct": 0, "seen": 0}

    def next_batch():
        try:
            return next(state["batches"])
        except StopIteration:
            state["batches"] = iter(loader)
            return next(state["batches"])

    def run() -> None:
        model.train()
        for _ in range(steps):
            images, labels = next_batch()
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            output = F.log_softmax(model(images), dim=1)
            loss = criterion(output, labels)
            loss.backward()
            optimizer.step()
            state["loss"] += loss.item()
            state["correct"] += (output.argmax(1) == labels).sum().item()
            state["seen"] += len(labels)
            bar.set_postfix(loss=state["loss"] / state["seen"] * batch_size, acc=state["correct"] / state["seen"])
            bar.update(1)
        synchronize(device)

    run()  # warm-up, outside the timer, like our engine's
    return run
