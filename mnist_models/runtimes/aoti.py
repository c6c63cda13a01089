"""torch.export + AOTInductor: the model compiled ahead of time into a package, loaded and called without
dynamo's guards or Python-side graph wrappers (inductor freezing, as for ``compiled``)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch

from ..training.device import synchronize
from .base import Prepared
from .compiled import fresh_cache_folder, inductor_cache


def prepare(model, x: torch.Tensor, device: torch.device, threads: int, precision: str):
    from torch._inductor import aoti_compile_and_package, aoti_load_package

    folder = tempfile.TemporaryDirectory(prefix="mnist-aoti-")
    package = Path(folder.name) / "model.pt2"

    def build() -> float:
        start = time.perf_counter()
        with torch.no_grad():
            program = torch.export.export(model, (x,))
            aoti_compile_and_package(program, package_path=str(package), inductor_configs={"freezing": True})
        return time.perf_counter() - start

    with inductor_cache(fresh_cache_folder()):  # kept to the process's end, as torch.compile's
        cold, warm = build(), build()
    runner = aoti_load_package(str(package))

    def call(batch: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return runner(batch)

    def run() -> torch.Tensor:
        out = call(x)
        synchronize(device)
        return out

    run()  # first call: the package's kernels loaded
    return Prepared(run, call, cold, warm, package.stat().st_size, keep=folder)
