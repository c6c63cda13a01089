"""``mnist-models bisect`` on a small git repository of this package: it names the commit that made a benchmark slower,
skipping (and naming) a commit that does not import."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

import pytest

from mnist_models.ab import probes
from mnist_models.ab.bisect import BisectError, Probe, search
from mnist_models.ab.coordinator import SideError
from mnist_models.ab.paired import Design
from mnist_models.bench.settings import SuiteSettings
from mnist_models.cli import main

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path("mnist_models") / "groups" / "inference" / "runner.py"  # the batch-1 latency's runner
SLOWER = ("    return inference(context, case, 1, LATENCY_SPEC, variant, percentiles=True)\n",
          "    return inference(context, case, 1, LATENCY_SPEC, variant, percentiles=True).slowed(4.0)  # commit 5\n")  # fmt: skip


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def _history(tmp_path: Path) -> tuple[Path, list[str]]:
    """Eight commits of this package: extra work in the batch-1 latency from commit 5 on, commit 3 broken."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for folder in ("mnist_models", "benchmarks"):
        shutil.copytree(ROOT / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__"))
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "test@example.com")
    _git(repo, "config", "user.name", "test")
    runners, init = repo / RUNNER, repo / "mnist_models" / "__init__.py"
    assert SLOWER[0] in runners.read_text()
    good_init = init.read_text()
    commits = []
    for k in range(1, 9):
        (repo / "CHANGES").write_text(f"commit {k}\n")
        if k == 3:
            init.write_text(good_init + "\ndef broken(:\n")  # does not import
        elif k == 4:
            init.write_text(good_init)
        if k == 5:
            runners.write_text(runners.read_text().replace(*SLOWER))
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", f"commit {k}")
        commits.append(_git(repo, "rev-parse", "HEAD"))
    return repo, commits


def test_search_skips_what_does_not_build_and_narrows_to_the_first_bad_commit():
    commits = [f"c{k}" for k in range(2, 9)]  # after the good c1
    verdicts = {"c2": "good", "c3": "skip", "c4": "good", "c5": "bad", "c6": "bad", "c7": "bad", "c8": "bad"}
    asked = []

    def probe(commit: str) -> Probe:
        asked.append(commit)
        return Probe(commit, "c1", verdicts[commit], "", Path("."))

    found, probes = search(commits, probe, say=lambda line: None)
    assert found == "c5"
    assert asked == ["c5", "c3", "c4"]  # c8 is known bad; c3 does not build: skipped, the search goes on around it
    assert [p.commit for p in probes if p.verdict == "skip"] == ["c3"]
    verdicts["c4"] = "skip"  # the first bad commit is then c4 or c5: the search says it could not tell
    found, _ = search(commits, probe, say=lambda line: None)
    assert found == "c5"


def test_a_time_probe_tells_a_failing_good_commit_from_a_failing_probe_by_the_sides_error(tmp_path, monkeypatch):
    failing = {}

    def run_ab(*args, **kwargs):
        raise SideError(failing["side"], "the base side's words in any message; only the side decides")

    monkeypatch.setattr(probes, "run_ab", run_ab)
    monkeypatch.setattr(probes, "checkout", lambda repo, commit: contextlib.nullcontext(tmp_path))
    probe = probes.TimeProbe(tmp_path, SuiteSettings(), ["latency"], (), Design(), 0.10, tmp_path / "out")
    failing["side"] = "head"
    assert probe("c2", "c1").verdict == "skip"
    failing["side"] = "base"
    with pytest.raises(BisectError, match="the good commit c1 did not run"):
        probe("c2", "c1")


@pytest.mark.slow
def test_bisect_names_the_commit_that_made_latency_slower_and_the_one_that_does_not_import(tmp_path, data_root, capsys):
    repo, commits = _history(tmp_path)
    out = tmp_path / "bisect"
    code = main([
        "bisect", "--good", commits[0], "--bad", commits[-1], "--repo", str(repo), "--profile", "smoke",
        "--models", "mlp_64", "--groups", "latency", "--max-pairs", "6", "--min-pairs", "3", "--restart-every", "6",
        "--threshold", "50%", "--data-dir", str(data_root[0]), "--cache-dir", str(tmp_path / "w"), "--out", str(out),
    ])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert f"first bad commit: {commits[4]}" in printed  # commit 5
    summary = (out / "bisect.md").read_text()
    assert f"First bad commit: **{commits[4][:8]}** (against its parent: bad)" in summary
    assert f"{commits[2][:8]} | {commits[0][:8]} | skip | does not build or import" in summary  # commit 3, named
    assert any(p.name.startswith("probe-") and (p / "ab.md").is_file() for p in out.iterdir())
