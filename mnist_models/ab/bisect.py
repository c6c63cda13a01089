"""``mnist-models bisect``: the first commit whose slowdown (or accuracy drop) is significant, by binary search.

Between ``--good`` and ``--bad`` lie the first-parent commits of ``--bad``. Each probe measures one of
them against ``--good`` on the benchmarks that regressed: for time, an A/B comparison (``run_ab``, the
gate's own sequential design and verdicts); for accuracy, the probe's weights trained afresh and
compared with the good commit's by McNemar's test on the shared test images (``report.gate``). A probe
that fails is a bad commit, one that passes a good one; a commit whose tree does not build or import
is skipped and named, as ``git bisect skip`` does, and the search goes on around it. The commit found
is confirmed against its own parent. Every probe's ``ab.md`` (or accuracy table) is kept, and
``bisect.md`` lists the probes and their verdicts.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..files import atomic_write_bytes


class BisectError(Exception):
    """Refs that cannot be bisected, or a good ref that already fails: the message says which (exit code 2)."""


@dataclass(frozen=True)
class Probe:
    commit: str
    against: str
    verdict: str  # "bad" (regressed), "good", "skip" (does not build or import)
    detail: str  # the failing benchmarks, or why it was skipped
    folder: Path


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    if done.returncode != 0:
        raise BisectError(f"git {' '.join(args)}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip()


def commits_between(repo: Path, good: str, bad: str) -> tuple[str, str, list[str]]:
    """(good, bad, the first-parent commits after good up to bad, oldest first), as full ids."""
    good_id = git(repo, "rev-parse", "--verify", f"{good}^{{commit}}")
    bad_id = git(repo, "rev-parse", "--verify", f"{bad}^{{commit}}")
    between = git(repo, "rev-list", "--first-parent", "--reverse", f"{good_id}..{bad_id}").split()
    if not between:
        raise BisectError(f"no commit lies between --good {good} and --bad {bad} (is --good an ancestor of --bad?)")
    return good_id, bad_id, between


def short(commit: str) -> str:
    return commit[:8]


def search(commits: list[str], probe: Callable[[str], Probe], say=print) -> tuple[str | None, list[Probe]]:
    """Binary search for the first bad commit of ``commits`` (the last one is known bad), skipping commits that
    do not build; ``None`` when every candidate was skipped."""
    low, high = -1, len(commits) - 1  # commits[low] good (the --good commit for -1), commits[high] bad
    probes: list[Probe] = []
    skipped: set[int] = set()
    while high - low > 1:
        candidates = [i for i in range(low + 1, high) if i not in skipped]
        if not candidates:
            break
        middle = min(candidates, key=lambda i: (abs(i - (low + high) / 2), -i))  # a tie: the later commit
        result = probe(commits[middle])
        probes.append(result)
        say(f"[bisect] {short(commits[middle])}: {result.verdict} ({result.detail})")
        if result.verdict == "skip":
            skipped.add(middle)
        elif result.verdict == "bad":
            high = middle
        else:
            low = middle
    untested = [commits[i] for i in range(low + 1, high) if i in skipped]
    if untested:  # the first bad commit is high, or one of the skipped ones before it: say so
        say(f"[bisect] {', '.join(map(short, untested))} could not be tested; the first bad commit is among them "
            f"and {short(commits[high])}")  # fmt: skip
    return commits[high], probes


def summary(good: str, bad: str, found: str | None, probes: list[Probe], confirm: Probe | None, what: str) -> str:
    """``bisect.md``: the range, each probe and its verdict, the commit found and its confirmation."""
    lines = [
        f"# bisect: {what}",
        "",
        f"Good {short(good)}, bad {short(bad)}; each probe measured against {short(good)}, the first bad commit "
        "confirmed against its parent.",
        "",
        "| probe | commit | against | verdict | detail | evidence |",
        "|---:|---|---|---|---|---|",
    ]
    for k, p in enumerate([*probes, *([confirm] if confirm else [])], start=1):
        label = "confirm" if confirm is not None and p is confirm else str(k)
        lines.append(
            f"| {label} | {short(p.commit)} | {short(p.against)} | {p.verdict} | {p.detail} | {p.folder.name} |"
        )
    verdict = (
        f"First bad commit: **{short(found)}**"
        + ("" if confirm is None else f" (against its parent: {confirm.verdict})")
        if found
        else "No commit could be named: every candidate was skipped."
    )
    return "\n".join([*lines, "", verdict, ""])


def write_summary(out: Path, text: str) -> None:
    atomic_write_bytes(out / "bisect.md", text.encode())
