"""Device choice, thread settings and a clock that synchronises the accelerator before it is read."""

from __future__ import annotations

import time

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then MPS, then the CPU; an explicit choice that is unavailable is an error."""
    name = (name or "auto").lower()
    kind = name.split(":")[0]
    if kind not in DEVICE_CHOICES:
        raise ValueError(f"unknown device {name!r}; choose one of {', '.join(DEVICE_CHOICES)} (or cuda:N)")
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but torch.cuda.is_available() is False on this machine")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device 'mps' requested but the MPS backend is not available on this machine")
    return torch.device(name)


def synchronize(device: torch.device) -> None:
    """Wait for queued work on ``device`` so that a clock read afterwards covers it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def set_threads(threads: int | None) -> int:
    """Set the intra-op thread count (when given) and return the count in force."""
    if threads is not None:
        if threads < 1:
            raise ValueError(f"thread count must be >= 1, got {threads}")
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple MPS"
    import platform

    try:
        import cpuinfo  # py-cpuinfo, a dependency of pytest-benchmark

        brand = cpuinfo.get_cpu_info().get("brand_raw")
    except Exception:  # cpuinfo probes the OS in many ways; a name is not worth a crash
        brand = None
    return brand or platform.processor() or platform.machine()


class SyncTimer:
    """``perf_counter`` that synchronises ``device`` at start and stop.

    Usage: ``with SyncTimer(device) as t: ...`` then ``t.elapsed`` (seconds).
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.elapsed = 0.0

    def __enter__(self) -> SyncTimer:
        synchronize(self.device)
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        synchronize(self.device)
        self.elapsed = time.perf_counter() - self._start
