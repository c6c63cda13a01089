"""Data-parallel training across processes: torchrun's environment in, a process group and DDP out.

``torchrun --nproc-per-node N -m pytest benchmarks ...`` starts N pytest sessions with
``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` set. Each joins one process group (gloo on the CPU,
nccl on CUDA, one GPU per process), trains the same seeded model on its slice of every
global batch, and DDP averages the gradients: the same global batch, learning rate and
number of steps as one process. Rank 0 alone writes the weight cache, the saved run and
the report, and runs the inference cases.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from torch import nn


@dataclass(frozen=True)
class World:
    """This process's place among the data-parallel processes (one process: rank 0 of 1)."""

    rank: int = 0
    size: int = 1
    backend: str | None = None

    @property
    def parallel(self) -> bool:
        return self.size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_world() -> World:
    """What torchrun's environment says, without importing torch (no process group yet)."""
    return World(int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1")))


def join(device: torch.device) -> tuple[World, torch.device]:
    """Join the launcher's process group when there is more than one process; return it and this rank's device.

    On CUDA each process takes the GPU of its ``LOCAL_RANK`` and nccl; elsewhere gloo.
    """
    launched = launched_world()
    if not launched.parallel:
        return World(), device
    import torch
    import torch.distributed as dist

    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend)
    return World(dist.get_rank(), dist.get_world_size(), backend), device


def leave() -> None:
    """Leave the process group, if this process joined one."""
    import sys

    dist = sys.modules.get("torch.distributed")
    if dist is not None and dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def wrap(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` under DistributedDataParallel: gradients averaged over the processes at each backward."""
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def sum_over_processes(*tensors: torch.Tensor) -> None:
    """Sum each tensor over the processes, in place (a no-op without a process group)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        for tensor in tensors:
            dist.all_reduce(tensor)
