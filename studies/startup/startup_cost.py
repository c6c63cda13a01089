"""What mnist-models costs a pytest project that does not use it: start-up with and without the plugin.

Usage: python studies/startup/startup_cost.py [--runs 10] [--out reports/startup/startup.json]

Makes a throwaway project with one trivial test, then runs
``python -m pytest -q -p no:cacheprovider test_foo.py`` with the plugin (as installed) and
with ``-p no:mnist_models``, alternating A B A B..., after one warm-up of each. Prints
each side's median wall time and peak memory (the process's own, from wait4) and the
median of the paired ratios, which holds when the machine's speed drifts. With ``--out`` the figures,
the commit and the CPU are written there as JSON (the README's sentence is generated from it).
"""

from __future__ import annotations

import argparse
import json
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
    parser.add_argument("--out", type=Path, help="write the figures, commit and CPU here as JSON")
    options = parser.parse_args()
    runs = options.runs
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
    if options.out:
        _write(options.out, results, ratios)


def _write(out: Path, results: dict[str, list[tuple[float, float]]], ratios: list[float]) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from mnist_models.files import atomic_write_bytes
    from mnist_models.results.machine import this_cpu

    root = Path(__file__).resolve().parents[2]
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                                capture_output=True, text=True).stdout.strip())  # fmt: skip
    (with_plugin, without) = results.values()
    record = {
        "commit": commit,
        "dirty": dirty,
        "command": f"python studies/startup/startup_cost.py --runs {len(ratios)}",
        "cpu": this_cpu(),
        "pairs": len(ratios),
        "with_s": statistics.median(v[0] for v in with_plugin),
        "without_s": statistics.median(v[0] for v in without),
        "with_mib": statistics.median(v[1] for v in with_plugin),
        "without_mib": statistics.median(v[1] for v in without),
        "ratio_median": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, (json.dumps(record, indent=2) + "\n").encode())
    print(f"written: {out}")


if __name__ == "__main__":
    main()
