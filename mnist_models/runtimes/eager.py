"""PyTorch eager mode: the trained module itself, at its training precision (compiled with --mnist-compile)."""

from __future__ import annotations

import time

import torch

from ..training.device import autocast, synchronize
from ..training.stepper import compile_model
from .base import Prepared


def prepare(model, x: torch.Tensor, device: torch.device, threads: int, precision: str, compile: bool = False):
    """The model in eval and inference mode under autocast at ``precision``; the first call, which
    compiles under ``compile`` (``--mnist-compile``), happens here, outside any timer."""
    forward = compile_model(model) if compile else model

    def call(batch: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode(), autocast(precision, device):
            return forward(batch)

    def run() -> torch.Tensor:
        out = call(x)
        synchronize(device)
        return out

    start = time.perf_counter()
    run()  # lazy initialisation, compilation
    compile_time = time.perf_counter() - start if compile else None
    return Prepared(run, call, conversion_time_s=compile_time)
