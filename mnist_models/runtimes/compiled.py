"""torch.compile (inductor) for inference, with settings chosen for small models.

``dynamic=False`` (one graph per input shape, as the benchmark times one shape) and inductor's
``freezing``: the weights become constants of the graph, folded and, on the CPU, prepacked for
oneDNN's linear and convolution kernels. Dynamo's guards stay on (skipping their evaluation,
``torch.compiler.set_stance(skip_guard_eval_unsafe=True)``, measured no faster on a 2-core CPU:
the time goes to the compiled region's wrapper and the kernels). On CUDA, ``mode="reduce-overhead"``
replays the graph as a CUDA graph, which is what batch-1 latency needs there. The cold and warm
compile times are both measured: the first in an empty inductor cache, the second (after
dynamo's reset) from the cache the first filled.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path

import torch

from ..training.device import synchronize
from .base import Prepared


@contextlib.contextmanager
def inductor_cache(folder: str):
    """Inductor's on-disk cache in ``folder`` for the duration (it reads the variable at each use)."""
    before = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = folder
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TORCHINDUCTOR_CACHE_DIR", None)
        else:
            os.environ["TORCHINDUCTOR_CACHE_DIR"] = before


_CACHES: list[str] = []


def fresh_cache_folder() -> str:
    """An empty folder for one model's inductor cache, removed when the process ends, not before: some torch
    releases (2.5) remember a header written into the first cache folder and include it in later builds."""
    if not _CACHES:
        _CACHES.append(tempfile.mkdtemp(prefix="mnist-inductor-"))
        atexit.register(shutil.rmtree, _CACHES[0], ignore_errors=True)
    return tempfile.mkdtemp(dir=_CACHES[0])


def folder_bytes(folder: str | Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def prepare(model, x: torch.Tensor, device: torch.device, threads: int, precision: str):
    import torch._inductor.config as inductor

    mode = "reduce-overhead" if device.type == "cuda" else None

    def compiled():
        torch._dynamo.reset()  # every nn.Sequential shares one forward code object: start clean (see compile_model)
        forward = torch.compile(model, dynamic=False, mode=mode)
        start = time.perf_counter()
        with torch.inference_mode():
            for _ in range(3 if mode else 1):  # CUDA graphs are recorded on the third call
                forward(x)
        synchronize(device)
        return forward, time.perf_counter() - start

    cache = fresh_cache_folder()
    with inductor_cache(cache):
        with inductor.patch(freezing=True):
            _, cold = compiled()
            forward, warm = compiled()
        size = folder_bytes(cache)

    def call(batch: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return forward(batch)

    def run() -> torch.Tensor:
        out = call(x)
        synchronize(device)
        return out

    return Prepared(run, call, cold, warm, size)
