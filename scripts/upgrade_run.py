"""Rewrite a saved run in the current record schema: each (model, seed)'s training outcome stored once.

    python scripts/upgrade_run.py OLD.json NEW.json

Reports read old runs as they are; this makes a schema-1 file about a third of its size (or
less) and a schema-2 file current. Every record is read, validated and written back, so the
numbers are the same; pytest-benchmark's own fields (stats, machine and commit info) are untouched.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mnist_models.files import atomic_write_bytes
from mnist_models.results.record import SCHEMA, RunError
from mnist_models.results.runs import upgrade_document


def main(source: str, target: str) -> int:
    data = json.loads(Path(source).read_text(encoding="utf-8"))
    try:
        kept = upgrade_document(data, source)
    except RunError as exc:
        print(f"upgrade_run: error: {exc}", file=sys.stderr)
        return 2
    atomic_write_bytes(Path(target), json.dumps(data, indent=4).encode())
    print(
        f"{target}: {kept} records in schema {SCHEMA} ({Path(source).stat().st_size:,} -> "
        f"{Path(target).stat().st_size:,} bytes)"
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
