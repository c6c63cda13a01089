"""The README and docs/: their generated tables match the committed runs, and every link and path resolves."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_generated_tables_match_the_committed_runs():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "readme_tables.py"), "--check"],
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
    paths = re.findall(r"`((?:docs|reports|scripts|tests|mnist_models|benchmarks|ci|\.github|\.ci)/[^`\s*<>]+)`", text)
    web = ("http://", "https://", "mailto:")
    return [(page.parent, t) for t in links if not t.startswith(web)] + [(ROOT, t) for t in paths]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
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


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_no_placeholder_is_left_in_a_page(page):
    """A page is finished: no ``SOME-PLACEHOLDER`` words standing where a measured figure belongs."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    assert not re.findall(r"\b[A-Z]{3,}(?:-[A-Z]{3,})+\b", text)


def test_every_floor_follows_its_rule():
    """The floors in the registry are what scripts/floors.py derives from the committed multi-seed run."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "floors.py"), "--check"], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _prose():
    sys.path.insert(0, str(ROOT / "scripts"))
    import prose

    return prose


@pytest.mark.parametrize("page", PAGES[:1] + PAGES[2:], ids=[p.name for p in PAGES[:1] + PAGES[2:]])
def test_every_measured_figure_in_prose_is_generated_or_sourced(page):
    """A figure with a unit outside a generated block must be on the short allow-list that names its source."""
    assert _prose().unexplained(page.read_text(encoding="utf-8")) == []


def test_the_prose_check_fails_on_an_edited_figure():
    """Edit one figure into a page's prose (as a reader would find a stale number): the check names it."""
    prose = _prose()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert prose.unexplained(text) == []
    edited = text.replace("## Results\n", "## Results\n\nThe speedrun CNN reaches 99.31% in 4.2 s.\n", 1)
    found = prose.unexplained(edited)
    assert len(found) == 2
    assert "'99.31%'" in found[0]
    assert "'4.2 s'" in found[1]
    # and a figure edited inside a generated block is the generated tables' check's to catch
    assert (
        prose.unexplained(text.replace("<!-- END generated:results -->", "99.99%\n<!-- END generated:results -->"))
        == []
    )
