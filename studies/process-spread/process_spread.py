"""Measure how far a time moves between fresh processes of the same code: the interval every latency and throughput
in a one-process run leaves out.

    python studies/process-spread/process_spread.py [--processes 7] [--models '*'] [--out reports/process-spread] [-- pytest options]

Runs the suite's latency and throughput groups (quick profile, eager) in ``--processes`` fresh pytest
processes one after the other, with the weights from the cache (train the suite once first), each
saving its run under ``--out/runs``; then ``studies/process-spread/reference_spread.py --processes`` turns them into
the per-model spreads the report's budgets use. Writes ``spread.md``: per model and group, the median
time, the range over the processes and the sd of its logarithm.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from mnist_models.files import atomic_write_bytes  # noqa: E402
from mnist_models.results import machine  # noqa: E402
from mnist_models.results.runs import load_run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=7)
    parser.add_argument("--models", default="*")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "process-spread")
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    runs = args.out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    for k in range(1, args.processes + 1):
        start = time.perf_counter()
        command = [sys.executable, "-m", "pytest", "benchmarks", "--benchmark-only", "-q", "-p", "no:cacheprovider",
                   "-k", "latency or throughput", f"--mnist-models={args.models}", "--mnist-no-report",
                   f"--benchmark-json={runs / f'process{k:02d}.json'}", *extra]  # fmt: skip
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stdout[-3000:], done.stderr[-3000:], file=sys.stderr)
            return 2
        print(f"process {k}: {time.perf_counter() - start:.0f} s", flush=True)
    return summarise(args.out)


def summarise(out: Path) -> int:
    rows, machines = [], set()
    by_key: dict[tuple[str, str], list[float]] = {}
    for path in sorted((out / "runs").glob("*.json")):
        run = load_run(path)
        machines.add(machine.header(run.machine).split(";")[0])
        for bench in run.benches:
            by_key.setdefault((bench.record.group, bench.record.model), []).append(bench.stats["median"])
    for (group, model), medians in sorted(by_key.items()):
        values = np.array(medians)
        rows.append({"group": group, "model": model, "processes": len(values), "median_ms": np.median(values) * 1e3,
                     "min_ms": values.min() * 1e3, "max_ms": values.max() * 1e3,
                     "max_over_min": values.max() / values.min(), "log_sd": float(np.log(values).std(ddof=1))})  # fmt: skip
    table = pd.DataFrame(rows)
    atomic_write_bytes(out / "spread.csv", table.to_csv(index=False).encode())
    lines = [
        "# How far a time moves between fresh processes of the same code",
        "",
        f"`python studies/process-spread/process_spread.py --processes {table['processes'].max()}`: the quick profile's latency and "
        f"throughput groups (eager) in fresh pytest processes one after the other, weights from the cache; each "
        f"process's median round. Measured on {'; '.join(sorted(machines))}.",
        "",
        table.to_markdown(index=False, floatfmt=".3g"),
        "",
    ]
    atomic_write_bytes(out / "spread.md", "\n".join(lines).encode())
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
