"""Write ``mnist_models/report/tables/reference.json``: the spreads a single run cannot measure, from committed runs.

    python studies/process-spread/reference_spread.py --seeds reports/seeds/RUN.json [--processes reports/process-spread/]

- ``--seeds``: a multi-seed run of every model: its profile's per-seed variance of test accuracy, pooled over
  the models, and the median pair's test-set term (``stats.seeds.seed_variance``), for reports of one seed.
- ``--processes``: a folder of runs of the same code in fresh processes (``studies/process-spread/process_spread.py``): per
  model and group, the sd of the log median time between the processes, for the cost intervals.

Each entry names the committed file it came from; ``--check`` exits 1 when the file on disk differs.
"""

from __future__ import annotations

import argparse
import json
import sys
from itertools import combinations
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from mnist_models.files import atomic_write_bytes  # noqa: E402
from mnist_models.report.tables.reference import REFERENCE  # noqa: E402
from mnist_models.results.runs import load_run  # noqa: E402
from mnist_models.stats.seeds import seed_variance  # noqa: E402


def _relative(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def seeds_entry(path: Path) -> tuple[str, dict]:
    run = load_run(path)
    correct: dict[str, dict[int, np.ndarray]] = {}
    for bench in run.benches:
        test = bench.record.outcome.test
        correct.setdefault(bench.record.model, {})[bench.record.seed] = (test.predictions == test.labels).astype(float)
    matrices = {m: np.array([s[k] for k in sorted(s)]) for m, s in correct.items()}
    seeds = min(len(m) for m in matrices.values())
    variances = [float(m.mean(axis=1).var(ddof=1)) for m in matrices.values()]
    images = [seed_variance(matrices[a], matrices[b]).images for a, b in combinations(sorted(matrices), 2)]
    n = next(iter(matrices.values())).shape[1]
    entry = {
        "source": _relative(path),
        "seeds": seeds,
        "models": len(matrices),
        "seed_variance": float(np.mean(variances)),
        "image_variance": float(np.median(images)),
        "n": n,
    }
    return run.profile, entry


def processes_entry(folder: Path) -> dict:
    runs = [load_run(p) for p in sorted(folder.glob("*.json"))]
    medians: dict[str, dict[str, list[float]]] = {}
    for run in runs:
        for bench in run.benches:
            record = bench.record
            if record.group in ("latency", "throughput") and (record.runtime or "eager") == "eager":
                medians.setdefault(record.group, {}).setdefault(record.model, []).append(bench.stats["median"])
    groups = {
        group: {"models": {m: float(np.log(v).std(ddof=1)) for m, v in sorted(by_model.items()) if len(v) > 1}}
        for group, by_model in medians.items()
    }
    return {"source": _relative(folder), "processes": len(runs), **groups}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, action="append", default=[], help="a committed multi-seed run")
    parser.add_argument("--processes", type=Path, help="a folder of runs in fresh processes")
    parser.add_argument("--check", action="store_true", help="exit 1 when reference.json differs from what it makes")
    args = parser.parse_args()
    reference: dict = {"seeds": {}}
    for path in args.seeds:
        profile, entry = seeds_entry(path)
        reference["seeds"][profile] = entry
    if args.processes:
        reference["processes"] = processes_entry(args.processes)
    text = json.dumps(reference, indent=2, sort_keys=True) + "\n"
    if args.check:
        same = REFERENCE.is_file() and REFERENCE.read_text(encoding="utf-8") == text
        print("reference.json is up to date" if same else "reference.json differs from its sources: run this script")
        return 0 if same else 1
    atomic_write_bytes(REFERENCE, text.encode())
    print(f"written: {REFERENCE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
