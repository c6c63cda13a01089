"""Model facts computed from the built model: parameter count and FLOPs (not MACs)."""

from __future__ import annotations

import copy
from typing import NamedTuple

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

INPUT_SHAPE = (1, 28, 28)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


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


class ModelFacts(NamedTuple):
    """What a model costs, from its architecture alone: the same on every machine."""

    params: int
    flops_inference: int  # per image
    flops_train_step: int  # per image, at the training batch size

    @classmethod
    def of(cls, model: nn.Module, batch_size: int) -> ModelFacts:
        return cls(count_parameters(model), inference_flops(model), training_flops(model, batch_size))
