"""The README and docs read as a newcomer reads them: few words, short lines, no commit hashes or run ids."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
WORDS = 1200  # outside code blocks and tables: some five minutes at 230 words a minute
LINE = 300
HASH = re.compile(r"(?<![\w.,/#-])(?=[0-9a-f]*\d)[0-9a-f]{7,40}(?![\w.,/-])")  # a commit, long or short
RUN_ID = re.compile(r"\b\d{4}_[0-9a-f]{8}")  # a saved run's name: 0001_<commit>_<date>


def prose_lines(text: str) -> list[str]:
    """The lines a reader reads as prose: no fenced code, no table rows, no HTML comments (block markers)."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("|")]


def words(text: str) -> int:
    """Words of prose, a link counted by its text (its target is not read)."""
    return sum(len(re.sub(r"\]\([^)]*\)", "]", line).split()) for line in prose_lines(text))


def hashes(text: str) -> list[str]:
    """Commit hashes and run ids outside fenced code, link targets left out (a link to a run's folder is fine)."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return HASH.findall(text) + RUN_ID.findall(text)


def test_the_readme_reads_in_five_minutes():
    text = README.read_text(encoding="utf-8")
    assert words(text) <= WORDS, words(text)
    long = [line[:80] for line in prose_lines(text) if len(line) > LINE]
    assert not long, long


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_no_commit_hash_or_run_id_in_a_page(page):
    assert hashes(page.read_text(encoding="utf-8")) == []


def test_the_checks_can_fail():
    """Each measure catches what it is there to catch."""
    assert words("one two\n\n```\nnot counted\n```\n| a | b |\n[three](#x)") == 3
    assert hashes("at commit `a4daf62f`, run 0001_fa17bfc9_20261203 and 1899233") == [
        "a4daf62f",
        "1899233",
        "0001_fa17bfc9",
    ]
    assert hashes("[reports/sample](reports/0001_fa17bfc9e5/) 2,589,082 img/s, 10000 images") == []
    assert [len(line) for line in prose_lines("x" * (LINE + 1))] == [LINE + 1]
