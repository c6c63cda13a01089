"""Device choice, thread settings and a clock that synchronises the accelerator before it is read."""

from __future__ import annotations

import contextlib
import platform
import time

import cpuinfo  # py-cpuinfo, a dependency of pytest-benchmark
import torch

from ..results.protocol import PRECISIONS

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
    try:
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
    return torch.autocast(device.type, dtype={"bf16": torch.bfloat16, "fp16": torch.float16}[precision])


PEAK_SIZES = (512, 1024, 2048)  # square fp32 matrix products the peak is the best of


def matmul_peak_flops(
    device: torch.device, sizes: tuple[int, ...] = PEAK_SIZES, min_time_s: float = 0.3, dtype: torch.dtype | None = None
) -> float:
    """The sustained matrix-multiply rate of ``device`` in FLOP/s (fp32, or ``dtype``): the ceiling for dense layers.

    For each size, multiplies two square matrices repeatedly for at least ``min_time_s``
    after a warm-up, synchronising the device before each clock read, three times; the best
    rate over sizes and repeats. Several sizes, because the one that runs fastest depends on
    the caches (one 2048-square product, best of three, measured a 2-core VM's moment: seven
    benchmarks of one run then reached 101-139% of it). A size whose one product would take longer
    than ``min_time_s`` at the best rate so far is left out: its four products could not be timed
    in windows of that length, and a CPU without native bf16 spends some 9 s on each 2048-square
    bf16 product (measured, AVX2-only EPYC: 2 GFLOP/s).
    """
    best = 0.0
    for size in sizes:
        if best and 2 * size**3 / best > min_time_s:
            break
        a = torch.randn(size, size, device=device, dtype=dtype or torch.float32)
        b = torch.randn(size, size, device=device, dtype=dtype or torch.float32)
        flops_per_call = 2 * size**3
        a @ b  # warm-up: library initialisation, thread pool start
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


def nominal_peak_flops(device: torch.device, threads: int) -> float | None:
    """The CPU's fp32 peak on paper: ``threads`` cores x advertised clock x FLOP per cycle of its widest FMA.

    Two FMA units per core are assumed (lanes x 2 FLOP x 2 units: 64 per cycle for 512-bit
    vectors, 32 for AVX2); AMD CPUs before Zen 5 (family < 26) run 512-bit vectors on 256-bit
    units, so they count as 256-bit. The advertised clock is the base one: under boost a CPU
    measures above this figure. ``None`` off the CPU or when the facts are not known.
    """
    if device.type != "cpu":
        return None
    try:
        info = cpuinfo.get_cpu_info()
    except Exception:  # cpuinfo probes the OS in many ways; a missing figure is not worth a crash
        return None
    flags, hz = set(info.get("flags") or []), (info.get("hz_advertised") or [0])[0]
    if not hz:
        return None
    if "avx512f" in flags and not (info.get("vendor_id_raw") == "AuthenticAMD" and (info.get("family") or 0) < 26):
        per_cycle = 64
    elif "fma" in flags and "avx2" in flags:
        per_cycle = 32
    elif "avx" in flags:
        per_cycle = 16
    else:
        per_cycle = 8
    return threads * hz * per_cycle
