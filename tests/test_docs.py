"""The README and docs/: their generated tables match the committed runs, and every link and path resolves."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_generated_tables_match_the_committed_runs():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "readme_tables.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _targets(page: Path) -> list[tuple[Path, str]]:
    """(base, target) pairs: a link is relative to its page, a path in backticks to the repository's root
    (it is what a reader types in a shell there)."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)  # code blocks hold commands
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    paths = re.findall(
        r"`((?:docs|reports|studies|tools|tests|mnist_models|benchmarks|ci|\.github|\.ci)/[^`\s*<>]+)`", text
    )
    web = ("http://", "https://", "mailto:")
    return [(page.parent, t) for t in links if not t.startswith(web)] + [(ROOT, t) for t in paths]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_link_and_path_resolves(page):
    missing = []
    for base, target in _targets(page):
        path, _, anchor = target.partition("#")
        where = (base / path) if path else page
        if path and not where.exists():
            missing.append(target)
        elif anchor and where.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", where.read_text(encoding="utf-8"), flags=re.M)
            slugs = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}
            if anchor not in slugs:
                missing.append(target)
    assert not missing, f"{page.name}: {missing}"


def test_readme_is_short_enough_to_read_in_five_minutes():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250, len(lines)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_no_placeholder_is_left_in_a_page(page):
    """A page is finished: no ``SOME-PLACEHOLDER`` words standing where a measured figure belongs."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    assert not re.findall(r"\b[A-Z]{3,}(?:-[A-Z]{3,})+\b", text)


def test_every_floor_follows_its_rule():
    """The floors in the registry are what studies/floors/floors.py derives from the committed multi-seed run."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "studies" / "floors" / "floors.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture
def prose(script_module):
    return script_module("tools/prose.py")


@pytest.mark.parametrize("page", PAGES[:1] + PAGES[2:], ids=[str(p.relative_to(ROOT)) for p in PAGES[:1] + PAGES[2:]])
def test_every_measured_figure_in_prose_is_generated_or_sourced(page, prose):
    """A figure with a unit outside a generated block must be on the short allow-list that names its source."""
    assert prose.unexplained(page.read_text(encoding="utf-8")) == []


def test_the_prose_check_fails_on_an_edited_figure(prose):
    """Edit one figure into a page's prose (as a reader would find a stale number): the check names it."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert prose.unexplained(text) == []
    edited = text.replace("## What you get\n", "## What you get\n\nThe speedrun CNN reaches 99.31% in 4.2 s.\n", 1)
    found = prose.unexplained(edited)
    assert len(found) == 2
    assert "'99.31%'" in found[0]
    assert "'4.2 s'" in found[1]
    # and a figure edited inside a generated block is the generated tables' check's to catch
    assert (
        prose.unexplained(text.replace("<!-- END generated:results -->", "99.99%\n<!-- END generated:results -->"))
        == []
    )


# --- Pages that can be found and read ---------------------------------------------------------------------------

DOCS = sorted((ROOT / "docs").glob("*.md"))
CHANGELOG = ROOT / "CHANGELOG.md"
LONGEST_PARAGRAPH = 600  # characters: a paragraph longer than this is several claims, or a table written as prose


def _paragraphs(text: str) -> list[str]:
    """A page's paragraphs: runs of non-blank lines outside fenced code and tables, each bullet its own; a heading or
    a line that is only an HTML comment (a generated block's markers) ends one. Generated blocks count."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    found: list[str] = []
    current: list[str] = []
    for line in [*text.splitlines(), ""]:
        stripped = line.strip()
        ends = not stripped or stripped.startswith(("|", "#")) or re.fullmatch(r"<!--.*?-->", stripped)
        if ends or re.match(r"(?:[-*+]|\d+\.)\s", stripped):
            if current:
                found.append(" ".join(current))
            current = []
        if not ends:
            current.append(stripped)
    return found


def _too_long(text: str) -> list[str]:
    return [f"{len(p)} characters: {p[:80]}…" for p in _paragraphs(text) if len(p) > LONGEST_PARAGRAPH]


@pytest.mark.parametrize("page", [*DOCS, CHANGELOG], ids=[str(p.relative_to(ROOT)) for p in [*DOCS, CHANGELOG]])
def test_no_paragraph_is_longer_than_600_characters(page):
    assert _too_long(page.read_text(encoding="utf-8")) == []


def test_the_paragraph_rule_fails_on_a_long_paragraph():
    long = " ".join(["word"] * 130)  # 649 characters
    assert len(_too_long(f"# Title\n\n{long}\n")) == 1
    assert len(_too_long(f"short.\n{long[:400]}\n{long[:400]}\n")) == 1  # lines of one paragraph add up
    assert _too_long(f"- {long[:400]}\n- {long[:400]}\n") == []  # each bullet is its own paragraph
    assert _too_long(f"```\n{long}\n```\n\n| {long} |\n") == []  # code and tables are not prose
    block = f"<!-- BEGIN generated:x -->\n{long}\n<!-- END generated:x -->\n"
    assert len(_too_long(block)) == 1  # a generated block's paragraph counts too


def _unindexed(index: str) -> list[str]:
    """The docs pages (and the changelog) that docs/README.md does not link."""
    linked = {target.split("#")[0] for target in re.findall(r"\]\(([^)\s]+)\)", index)}
    pages = [p.name for p in DOCS if p.name != "README.md"] + ["../CHANGELOG.md"]
    return [name for name in pages if name not in linked]


def test_the_docs_index_links_every_page():
    index = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    assert _unindexed(index) == []
    assert _unindexed(index.replace("(glossary.md)", "(nowhere.md)")) == ["glossary.md"]


GLOSSARY_TERMS = (
    "% peak", "A/B", "agreement", "architecture", "bisect", "block", "budget", "change point",
    "detectable difference", "floor", "history", "Holm", "lever", "machine identity", "McNemar", "not established",
    "notebook", "pair", "Pareto front", "pick", "pp", "process spread", "profile", "runtime", "seed",
    "sequential design", "shard", "test-set term", "these trained weights", "tied for most accurate", "undecidable",
    "within verdict",
)  # fmt: skip


def _glossary_problems(text: str) -> list[str]:
    """Terms of GLOSSARY_TERMS that no entry (a ``## term`` heading, then its definition) defines, and entries out of
    alphabetical order. A heading is an anchor, so a page can link a term: ``glossary.md#notebook``."""
    entries = re.findall(r"^## (.+)\n\n(\S.*)$", text, flags=re.M)
    defined = {term.lower() for term, definition in entries if len(definition) > 20}
    problems = [f"not defined: {t}" for t in GLOSSARY_TERMS if t.lower() not in defined]
    keys = [re.sub(r"[^a-z0-9]", "", term.lower()) for term, _ in entries]
    problems += [f"out of alphabetical order: {a} before {b}" for a, b in itertools.pairwise(keys) if a > b]
    return problems


def test_the_glossary_defines_every_term_alphabetically():
    text = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    assert _glossary_problems(text) == []
    without = re.sub(r"^## pair\n\n.*\n", "", text, flags=re.M)
    assert _glossary_problems(without) == ["not defined: pair"]
    assert _glossary_problems("## b\n\nA definition long enough.\n\n## a\n\nA definition long enough.\n")[-1] == (
        "out of alphabetical order: b before a"
    )


def _changelog_problems(text: str) -> list[str]:
    """Keep a Changelog: ``## [Unreleased]`` first, then each version, the current one among them, with only the
    form's section names."""
    versions = re.findall(r"^## \[(.+?)\]", text, flags=re.M)
    version = re.search(r'__version__ = "(.+)"', (ROOT / "mnist_models" / "version.py").read_text())[1]
    problems = [] if versions[:1] == ["Unreleased"] else [f"first section is not [Unreleased]: {versions[:1]}"]
    problems += [] if version in versions else [f"no section for the current version {version}"]
    sections = set(re.findall(r"^### (.+)$", text, flags=re.M))
    problems += [f"not a Keep a Changelog section: {name}" for name in sorted(sections - KEEP_A_CHANGELOG)]
    return problems


KEEP_A_CHANGELOG = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_the_changelog_keeps_a_changelog_form():
    text = CHANGELOG.read_text(encoding="utf-8")
    assert _changelog_problems(text) == []
    broken = text.replace("## [Unreleased]", "## Unreleased").replace("### Fixed", "### Fixes")
    assert len(_changelog_problems(broken)) == 2
