"""The probes of ``mnist-models bisect``: one commit measured against another, for time (A/B) or accuracy."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..bench.settings import SuiteSettings
from ..installed import tree_environment
from ..report.gate import GateRule, compare_runs, gate
from ..results.record import RunError
from ..results.runs import load_run
from .bisect import BisectError, Probe, short
from .coordinator import ABError, Side, SideError, run_ab, worktree
from .paired import Design, Verdict, conclude


@contextlib.contextmanager
def checkout(repo: Path, commit: str) -> Iterator[Path]:
    """``commit`` as a source tree: a temporary git worktree, removed afterwards (after an interrupt too)."""
    with worktree(repo, commit, f"mnist-bisect-{short(commit)}-", BisectError) as folder:
        yield folder


class TimeProbe:
    """A/B of a commit (head) against another (base), on the chosen benchmarks: bad when any is slower."""

    def __init__(self, repo: Path, settings: SuiteSettings, groups: list[str], patterns: tuple[str, ...],
                 design: Design, threshold: float, out: Path, restart_every: int = 4) -> None:  # fmt: skip
        self.repo, self.settings, self.groups, self.patterns = repo, settings, groups, patterns
        self.design, self.threshold, self.out, self.restart_every = design, threshold, out, restart_every
        self.count = 0

    def __call__(self, commit: str, against: str) -> Probe:
        self.count += 1
        folder = self.out / f"probe-{self.count:02d}-{short(commit)}"
        with checkout(self.repo, against) as base, checkout(self.repo, commit) as head:
            try:
                comparison = run_ab(self.settings, self.groups, Side("base", base, sys.executable),
                                    Side("head", head, sys.executable), self.design, self.threshold, folder,
                                    restart_every=self.restart_every, only=self.patterns, say=lambda line: None)  # fmt: skip
            except SideError as exc:
                if exc.side == "base":
                    raise BisectError(f"the good commit {short(against)} did not run: {exc}") from None
                return Probe(commit, against, "skip", _first_line(exc), folder)
            except ABError as exc:  # the sides do not measure the same thing, or no benchmark matches
                return Probe(commit, against, "skip", _first_line(exc), folder)
        verdicts = conclude(comparison.rows, self.design, self.threshold)
        _write_ab(folder, verdicts, self.design, self.threshold, f"{short(commit)} against {short(against)}")
        slower = [v for v in verdicts if v.failed]
        if slower:
            return Probe(commit, against, "bad", ", ".join(f"{v.benchmark} {v.ratio - 1:+.0%}" for v in slower), folder)
        return Probe(commit, against, "good", f"no benchmark slower than +{self.threshold:.0%}", folder)


def _write_ab(folder: Path, verdicts: list[Verdict], design: Design, threshold: float, title: str) -> None:
    from ..files import atomic_write_bytes
    from .paired import markdown, table_of

    atomic_write_bytes(folder / "ab.csv", table_of(verdicts).to_csv(index=False).encode())
    atomic_write_bytes(folder / "ab.md", ("\n".join(markdown(verdicts, title, design, threshold, 0.0)) + "\n").encode())


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    cause = next((line for line in reversed(lines) if "Error" in line), lines[0] if lines else "failed")
    return f"does not build or import: {cause}"


class AccuracyProbe:
    """The probe commit's weights trained afresh, compared with the good commit's by McNemar's test."""

    def __init__(self, repo: Path, settings: SuiteSettings, rule: GateRule, out: Path) -> None:
        self.repo, self.settings, self.rule, self.out = repo, settings, rule, out
        self.count, self._runs = 0, {}

    def _trained(self, commit: str, folder: Path):
        if commit in self._runs:
            return self._runs[commit]
        folder.mkdir(parents=True, exist_ok=True)
        with checkout(self.repo, commit) as tree, tempfile.TemporaryDirectory() as cache:
            command = [sys.executable, "-m", "pytest", str(tree / "benchmarks"), "--benchmark-only", "-q",
                       "-p", "no:cacheprovider", "-k", "test_train and not step", "--mnist-no-report",
                       f"--mnist-profile={self.settings.profile}", f"--mnist-cache-dir={cache}",
                       f"--benchmark-json={folder / f'{short(commit)}.json'}",
                       *(f"--mnist-models={m}" for m in self.settings.models),
                       *([f"--mnist-data-dir={self.settings.data_dir}"] if self.settings.data_dir else [])]  # fmt: skip
            env = tree_environment(tree)  # the commit's own code and entry points
            done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
        try:
            self._runs[commit] = (load_run(folder / f"{short(commit)}.json"), "")
        except RunError:  # no run written: the tree did not import, or pytest stopped before training
            tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
            self._runs[commit] = (None, " / ".join(tail) or f"pytest exited {done.returncode}")
        return self._runs[commit]

    def __call__(self, commit: str, against: str) -> Probe:
        self.count += 1
        folder = self.out / f"probe-{self.count:02d}-{short(commit)}"
        good, why = self._trained(against, folder)
        if good is None:
            raise BisectError(f"the good commit {short(against)} did not train: {why}")
        probe, why = self._trained(commit, folder)
        if probe is None:
            return Probe(commit, against, "skip", f"does not build or train: {why}", folder)
        comparison = compare_runs(good, probe)
        failed = gate(comparison, [self.rule], good, probe)
        (folder / "comparison.csv").write_text(comparison.to_csv(index=False))
        if failed:
            return Probe(commit, against, "bad", "; ".join(failed), folder)
        return Probe(commit, against, "good", f"no significant drop beyond {self.rule.threshold:g} pp", folder)
