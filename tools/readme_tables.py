"""The README's and docs' generated blocks, regenerated from the runs committed in reports/: never copied by hand.

    python tools/readme_tables.py            # rewrite every generated block in README.md and docs/*.md
    python tools/readme_tables.py --check    # exit 1 (naming the blocks) if any block differs from its runs

A block sits between ``<!-- BEGIN generated:NAME -->`` and ``<!-- END generated:NAME -->``; its
content is made by the function ``NAME`` (in ``tools/blocks/``) from the committed files it names,
with the report's own code, so a table or sentence can only say what a committed run says.
tests/test_docs.py runs ``--check``; ``tools/prose.py`` checks the figures outside the blocks.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from blocks import docs, evidence, gate, runs  # noqa: E402

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(
    r"(<!-- BEGIN generated:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- END generated:(?P=name) -->)", re.S
)

BLOCKS: dict[str, Callable[[], str]] = {
    "results": runs.results,
    "engine": runs.engine,
    "levers": runs.levers,
    "runtimes": runs.runtimes,
    "runtime-ratios": runs.runtime_ratios,
    "memory": runs.memory,
    "quantized": runs.quantized,
    "memory-sessions": runs.memory_sessions,
    "seeds": evidence.seeds,
    "claims": evidence.claims,
    "auto-seeds": evidence.auto_seeds,
    "seed-test": evidence.seed_test,
    "floors": evidence.floors,
    "process-spread": evidence.process_spread,
    "gate-summary": gate.gate_summary,
    "gate-power": gate.gate_power,
    "weak-benchmarks": gate.weak_benchmarks,
    "within-calibration": gate.within_calibration,
    "bisect-demo": gate.bisect_demo,
    "history-power": gate.history_power,
    "history-real": gate.history_real,
    "options": docs.options,
    "figures": docs.figures,
    "quickstart": docs.quickstart,
    "startup": docs.startup,
}


def relink(body: str, page: Path) -> str:
    """The blocks write links from the repository's root; on a page elsewhere (docs/) they are made relative to it."""

    def relative(match: re.Match) -> str:
        target = match[1]
        if re.match(r"[a-z]+:|#|\.\./", target):
            return match[0]
        return f"]({os.path.relpath(ROOT / target, page.parent)})"

    return body if page.parent == ROOT else re.sub(r"\]\(([^)\s]+)\)", relative, body)


def regenerate(text: str, page: Path = ROOT / "README.md") -> tuple[str, list[str]]:
    """``text`` of ``page`` with every generated block rebuilt, and the names of the blocks that changed."""
    changed = []

    def rebuild(match: re.Match) -> str:
        name = match["name"]
        if name not in BLOCKS:
            raise SystemExit(f"readme_tables: unknown block {name!r}; blocks are {', '.join(BLOCKS)}")
        body = relink(BLOCKS[name](), page)
        if body != match["body"]:
            changed.append(name)
        return match.group(1) + body + match.group(4)

    return BLOCK.sub(rebuild, text), changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a block is out of date")
    args = parser.parse_args()
    stale = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        new, changed = regenerate(text, page)
        stale += [f"{page.relative_to(ROOT)}: {name}" for name in changed]
        if changed and not args.check:
            page.write_text(new, encoding="utf-8")
    if args.check and stale:
        print("out of date (run python tools/readme_tables.py):", *stale, sep="\n  ")
        return 1
    print(("rewrote " if stale else "up to date: ") + (", ".join(stale) if stale else "every generated block"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
