"""Model facts computed from the built model: parameter count and FLOPs (not MACs)."""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

INPUT_SHAPE = (1, 28, 28)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def inference_flops(model: nn.Module) -> int:
    """FLOPs of one forward pass for one image (a multiply-add counts as two)."""
    model = copy.deepcopy(model).cpu().eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, *INPUT_SHAPE))
    return int(counter.get_total_flops())


def training_flops(model: nn.Module, batch_size: int = 64) -> int:
    """FLOPs of one training step (forward, loss, backward) per image, at ``batch_size``.

    The optimiser update is element-wise and not counted, as is usual.
    """
    model = copy.deepcopy(model).cpu().train()
    x = torch.zeros(batch_size, *INPUT_SHAPE)
    y = torch.zeros(batch_size, dtype=torch.long)
    with FlopCounterMode(display=False) as counter:
        nn.functional.cross_entropy(model(x), y).backward()
    return int(counter.get_total_flops()) // batch_size


def matmul_peak_flops(device: torch.device, size: int = 2048, min_time_s: float = 1.0) -> float:
    """The sustained fp32 matrix-multiply rate of ``device`` in FLOP/s: the ceiling for dense layers.

    Multiplies two ``size`` x ``size`` matrices repeatedly for at least ``min_time_s``
    after a warm-up, synchronising the device before each clock read, and reports the
    best of three such measurements.
    """
    import time

    from ..training.device import synchronize

    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    flops_per_call = 2 * size**3
    a @ b  # warm-up: library initialisation, thread pool start
    best = 0.0
    for _ in range(3):
        calls = 0
        synchronize(device)
        start = time.perf_counter()
        while True:
            a @ b
            calls += 1
            synchronize(device)
            elapsed = time.perf_counter() - start
            if elapsed >= min_time_s / 3:
                break
        best = max(best, calls * flops_per_call / elapsed)
    return best
