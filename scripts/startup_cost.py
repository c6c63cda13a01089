"""What mnist-models costs a pytest project that does not use it: start-up with and without the plugin.

Usage: python scripts/startup_cost.py [--runs 10]

Makes a throwaway project with one trivial test, then runs
``python -m pytest -q -p no:cacheprovider test_foo.py`` with the plugin (as installed) and
with ``-p no:mnist_models``, alternating A B A B..., after one warm-up of each. Prints
each side's median wall time and peak memory (the process's own, from wait4) and the
median of the paired ratios, which holds when the machine's speed drifts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_once(args: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, peak resident MiB) of one pytest process."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} exited {proc.returncode}")
    return wall, usage.ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_foo.py"]
    sides = {"with mnist-models": base, "-p no:mnist_models": [*base, "-p", "no:mnist_models"]}
    with tempfile.TemporaryDirectory() as project:
        cwd = Path(project)
        (cwd / "test_foo.py").write_text("def test_plain():\n    assert 1 + 1 == 2\n")
        for args in sides.values():
            run_once(args, cwd)  # warm-up: file caches
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
        for _ in range(runs):
            for name, args in sides.items():
                results[name].append(run_once(args, cwd))
    for name, values in results.items():
        wall = statistics.median(v[0] for v in values)
        memory = statistics.median(v[1] for v in values)
        print(f"{name:<20} wall {wall:.3f} s (min {min(v[0] for v in values):.3f})  peak memory {memory:.0f} MiB")
    ratios = [a[0] / b[0] for a, b in zip(*results.values(), strict=True)]
    print(
        f"paired wall ratio, with / without: median {statistics.median(ratios):.3f} "
        f"(min {min(ratios):.3f}, max {max(ratios):.3f}, {runs} pairs)"
    )


if __name__ == "__main__":
    main()
