"""Measured figures in the README and docs/ prose: each must sit in a generated block, or be allowed with its source.

    python tools/prose.py            # list every figure with a unit outside generated blocks, and what allows it

A figure is a number with a unit (%, pp, ms, µs, s, min, h, ×, GFLOP/s, TFLOP/s, img/s, MB, GB). Code
(fenced blocks and `inline code`: commands, options, settings) is not prose; a generated block
(``<!-- BEGIN generated:NAME -->`` ... ``<!-- END generated:NAME -->``, made by tools/readme_tables.py
from the committed runs) is checked by that script. Every other figure must match ``ALLOWED``, each entry
naming where its number comes from. ``tests/test_docs.py`` fails on any other.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

UNIT = r"(?:%|\s?pp\b|\s?ms\b|\s?µs\b|\s?s\b|\s?min\b|\s?h\b|×|\s?GFLOP/s|\s?TFLOP/s|\s?img/s|\s?MB\b|\s?GB\b)"
FIGURE = re.compile(r"(?<![\w.\-/])[+−-]?\d[\d,]*(?:\.\d+)?" + UNIT + r"(?!\d)")  # 28×28 is a size, not a figure

# (pattern of the figure in its sentence, where the number comes from). Conventions and settings, not measurements.
ALLOWED: tuple[tuple[str, str], ...] = (
    (r"\b95%\s+(?:\w+\s+)?(?:interval|confidence|Wilson)", "the level of an interval: a convention"),
    (
        r"\b(?:99|1|90)%\s+(?:quantile|of\s+the\s+time|false\s+failure|catch|bound|at\s+most)",
        "the floors' rule (studies/floors/floors.py)",
    ),
    (r"conditional\s+power\s+below\s+20%", "the seed rounds' futility setting (stats/sequential.py)"),
    (r"\b80%\s+power", "the power a detectable difference is stated at: a convention"),
    (r"\b20%-trimmed", "the A/B statistic's trimming: a setting (ab/paired.py)"),
    (
        r"\+25%\s+(?:injected|of\s+(?:real\s+)?extra\s+work)|at\s+\+25%",
        "the slowdown the gate's power is measured at: a setting",
    ),
    (r"\b99%\s+per\s+look|keep\s+at\s+most\s+5%", "the within verdict's levels: settings (ab/paired.py)"),
    (r"verdict\s+at\s+the\s+cap\s+is\s+below\s+10%", "the undecidable stop's level: a setting (ab/paired.py)"),
    (
        r"\+10%,\s+\+15%\s+and\s+\+25%",
        "the slowdowns replayed on identical pairs: settings (studies/gate-power/gate_power.py)",
    ),
    (
        r"\ba\s+4%\s+offset\s+is\s+assumed|\b4%\s+where\s+one\s+worker\s+pair",
        "the between-process term assumed with one worker pair: a setting (ab/paired.py PROCESS_FALLBACK)",
    ),
    (r"\b(?:0|100)%", "the ends of a scale"),
)


def prose(text: str) -> str:
    """``text`` without its generated blocks, code, comments and link targets."""
    text = re.sub(r"<!-- BEGIN generated:([\w-]+) -->.*?<!-- END generated:\1 -->", "", text, flags=re.S)
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    return re.sub(r"\]\([^)]*\)", "]", text)


def unexplained(text: str) -> list[str]:
    """Every figure of ``text``'s prose that no ``ALLOWED`` entry covers, with a little of its sentence."""
    body = prose(text)
    found = []
    for match in FIGURE.finditer(body):
        start = max(0, match.start() - 60)
        window = body[start : match.end() + 60]
        at = (match.start() - start, match.end() - start)  # the figure's place in the window
        covered = any(m.start() <= at[0] and at[1] <= m.end()
                      for pattern, _ in ALLOWED for m in re.finditer(pattern, window))  # fmt: skip
        if not covered:
            found.append(f"{match.group(0).strip()!r} in “…{' '.join(window.split())}…”")
    return found


def main() -> int:
    bad = 0
    for page in PAGES:
        for figure in unexplained(page.read_text(encoding="utf-8")):
            print(f"{page.relative_to(ROOT)}: {figure}")
            bad += 1
    print(f"{bad} figure(s) outside generated blocks and the allow-list")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
