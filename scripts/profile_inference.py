"""Where an eager inference call's time goes: arithmetic, weight traffic, or PyTorch's per-op dispatch.

    python scripts/profile_inference.py [--models mlp_128_64,mlp_1500_1024_256_128,cnn_32_64_fc64] [--batches 1,512]

For each model and batch size, on the trained-shape model (random weights: speed does not depend
on their values), with the session's threads:

- ``call``: the median wall time of one eager call under ``torch.inference_mode()``;
- ``kernels``: the self time of the ATen compute kernels (matrix products, convolutions,
  pooling, activations) per call, from ``torch.profiler`` over 200 calls;
- ``framework``: the rest (Python, module calls, dispatch, allocation): ``call - kernels``;
- ``arithmetic floor``: FLOPs per call over this machine's measured fp32 matmul peak;
- ``weight floor``: the weights' bytes over this machine's measured memory copy bandwidth
  (what a call must at least read when the weights are not in cache).

Prints a Markdown table with the CPU named. The profiler's per-op bookkeeping adds a little to the
kernels' self time, so ``framework`` is a lower bound.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from mnist_models import create_model
from mnist_models.models.facts import ModelFacts
from mnist_models.results.machine import isa
from mnist_models.training.device import matmul_peak_flops

KERNELS = ("addmm", "mm", "linear", "convolution", "conv2d", "mkldnn", "max_pool", "relu", "threshold", "batch_norm")


def median_call_s(forward, x: torch.Tensor, seconds: float = 1.0) -> float:
    with torch.inference_mode():
        for _ in range(20):
            forward(x)
        times, deadline = [], time.perf_counter() + seconds
        while time.perf_counter() < deadline or len(times) < 50:
            start = time.perf_counter()
            forward(x)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def kernel_s(forward, x: torch.Tensor, calls: int = 200) -> float:
    """Self CPU time of the compute kernels per call, from the profiler."""
    from torch.profiler import ProfilerActivity, profile

    with torch.inference_mode(), profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(calls):
            forward(x)
    total_us = sum(e.self_cpu_time_total for e in prof.key_averages() if any(k in e.key.lower() for k in KERNELS))
    return total_us / 1e6 / calls


def copy_bandwidth(nbytes: int = 256 << 20) -> float:
    """Bytes per second of a large tensor copy (read + write), best of five."""
    a, b = torch.empty(nbytes // 4), torch.empty(nbytes // 4)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        b.copy_(a)
        best = min(best, time.perf_counter() - start)
    return 2 * nbytes / best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mlp_128_64,mlp_1500_1024_256_128,cnn_32_64_fc64")
    parser.add_argument("--batches", default="1,512")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    import cpuinfo

    cpu = cpuinfo.get_cpu_info()
    peak, bandwidth = matmul_peak_flops(torch.device("cpu")), copy_bandwidth()
    print(
        f"CPU: {cpu.get('brand_raw', '?')} ({isa({'cpu': cpu})}); {torch.get_num_threads()} threads; torch {torch.__version__}; "
        f"measured fp32 matmul peak {peak / 1e9:.0f} GFLOP/s, copy bandwidth {bandwidth / 1e9:.1f} GB/s\n"
    )
    print("| model | batch | call µs | kernels µs | framework µs | arithmetic floor µs | weight floor µs |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in args.models.split(","):
        model = create_model(name).eval()
        facts = ModelFacts.of(model, 64)
        weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
        if any(isinstance(m, torch.nn.Conv2d) for m in model.modules()):
            model = model.to(memory_format=torch.channels_last)
        for batch in map(int, args.batches.split(",")):
            x = torch.randn(batch, 1, 28, 28)
            call, kernels = median_call_s(model, x), kernel_s(model, x)
            kernels = min(kernels, call)
            print(
                f"| `{name}` | {batch} | {call * 1e6:,.1f} | {kernels * 1e6:,.1f} | {(call - kernels) * 1e6:,.1f} | "
                f"{facts.flops_inference * batch / peak * 1e6:,.1f} | {weight_bytes / bandwidth * 1e6:,.1f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
