"""Rewrite a saved run in the current record schema: each (model, seed)'s training outcome stored once.

    python scripts/upgrade_run.py OLD.json NEW.json

Reports read old runs as they are; this only makes a schema-1 file about a third of its size
(or less). Every record is read and written back through ``BenchmarkRecord``, so the numbers
are the same; pytest-benchmark's own fields (stats, machine and commit info) are untouched.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mnist_models.bench.record import pack_outcomes, records_of
from mnist_models.files import atomic_write_bytes


def main(source: str, target: str) -> int:
    data = json.loads(Path(source).read_text(encoding="utf-8"))
    benchmarks = data.get("benchmarks", [])
    records = records_of(benchmarks)
    for bench, record in zip(benchmarks, records, strict=True):
        if record is not None:
            bench["extra_info"] = record.to_json()
    pack_outcomes(benchmarks)
    atomic_write_bytes(Path(target), json.dumps(data, indent=4).encode())
    kept = sum(r is not None for r in records)
    print(
        f"{target}: {kept} records in the current schema ({Path(source).stat().st_size:,} -> "
        f"{Path(target).stat().st_size:,} bytes)"
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
