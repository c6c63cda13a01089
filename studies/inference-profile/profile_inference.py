"""Where an eager inference call's time goes: arithmetic, weight traffic, or PyTorch's per-op dispatch.

    python studies/inference-profile/profile_inference.py [--models mlp_128_64,mlp_1500_1024_256_128,cnn_32_64_fc64] [--batches 1,512]

For each model and batch size, on the trained-shape model (random weights: speed does not depend
on their values), with the session's threads:

- ``call``: the median wall time of one eager call under ``torch.inference_mode()``;
- under the profiler (``torch.profiler``, the same calls, 20 to 200 of them): the mean call, split
  into the self time of the ATen compute kernels (matrix products, convolutions, pooling,
  activations), of the other ATen ops (transposes, copies, views, allocation: the largest named),
  and what no op accounts for (Python, module calls, hooks); the profiler's own bookkeeping per op
  makes this call slower than ``call``, most where ops are short;
- ``arithmetic floor``: FLOPs per call over this machine's measured fp32 matmul peak;
- ``weight floor``: the weights' bytes over this machine's measured memory copy bandwidth
  (what a call must at least read when the weights are not in cache).

Prints a Markdown table with the CPU named.
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

KERNELS = (
    "addmm",
    "mm",
    "linear",
    "convolution",
    "conv2d",
    "mkldnn",
    "max_pool",
    "relu",
    "clamp",
    "threshold",
    "batch_norm",
)


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


def breakdown(forward, x: torch.Tensor, calls: int) -> dict[str, float | str]:
    """One call's time under the profiler (mean over ``calls``), split into the compute kernels' self time,
    the other ops' self time (with the largest of them named) and what no op accounts for (Python, module
    calls), all in seconds per call and from the same calls."""
    from torch.profiler import ProfilerActivity, profile

    with torch.inference_mode(), profile(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        for _ in range(calls):
            forward(x)
        wall = (time.perf_counter() - start) / calls
    events = [e for e in prof.key_averages() if e.key != "ProfilerStep*"]
    kernels = [e for e in events if any(k in e.key.lower() for k in KERNELS)]
    others = [e for e in events if e not in kernels]
    largest = max(others, key=lambda e: e.self_cpu_time_total, default=None)
    kernel_s = sum(e.self_cpu_time_total for e in kernels) / 1e6 / calls
    other_s = sum(e.self_cpu_time_total for e in others) / 1e6 / calls
    return {
        "wall": wall,
        "kernels": kernel_s,
        "others": other_s,
        "largest": f"`{largest.key}` {largest.self_cpu_time_total / calls:,.1f}" if largest else "–",
        "outside": max(wall - kernel_s - other_s, 0.0),
    }


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
    print(
        "| model | batch | call µs | under the profiler: call µs | kernels µs | other ops µs (largest) | "
        "outside any op µs | arithmetic floor µs | weight floor µs |"
    )
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|")
    for name in args.models.split(","):
        model = create_model(name).eval()
        facts = ModelFacts.of(model, 64)
        weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
        if any(isinstance(m, torch.nn.Conv2d) for m in model.modules()):
            model = model.to(memory_format=torch.channels_last)
        for batch in map(int, args.batches.split(",")):
            x = torch.randn(batch, 1, 28, 28)
            call = median_call_s(model, x)
            b = breakdown(model, x, calls=max(20, min(200, int(2.0 / call))))
            print(
                f"| `{name}` | {batch} | {call * 1e6:,.1f} | {b['wall'] * 1e6:,.1f} | {b['kernels'] * 1e6:,.1f} | "
                f"{b['others'] * 1e6:,.1f} ({b['largest']}) | {b['outside'] * 1e6:,.1f} | "
                f"{facts.flops_inference * batch / peak * 1e6:,.1f} | {weight_bytes / bandwidth * 1e6:,.1f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
