"""Every committed run is reproducible: made from a clean commit, with the command that made it; every committed
accuracy interval inside 0-100%; and a report rebuilt from its run gives the same tables."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _is_run(path: Path) -> bool:
    """A pytest-benchmark run (not a report's data file)."""
    data = _run(path)
    return isinstance(data, dict) and "benchmarks" in data and "machine_info" in data


RUNS = sorted(p for p in (ROOT / "reports").rglob("*.json") if _is_run(p))


@pytest.mark.parametrize("path", RUNS, ids=[str(p.relative_to(ROOT)) for p in RUNS])
def test_every_committed_run_comes_from_a_clean_commit_and_says_how_it_was_made(path):
    run = _run(path)
    commit = run.get("commit_info") or {}
    assert commit.get("id"), f"{path.name}: no commit recorded"
    assert not commit.get("dirty"), f"{path.name}: made from uncommitted changes ({commit})"
    ours = run["machine_info"].get("mnist_models", {})
    assert ours.get("command") or ours.get("ab"), f"{path.name}: no command recorded"


def test_the_provenance_test_refuses_a_run_from_uncommitted_changes(tmp_path):
    run = _run(RUNS[0])
    run["commit_info"]["dirty"] = True
    (tmp_path / "0001_dirty.json").write_text(json.dumps(run))
    with pytest.raises(AssertionError, match="made from uncommitted changes"):
        test_every_committed_run_comes_from_a_clean_commit_and_says_how_it_was_made(tmp_path / "0001_dirty.json")


def test_no_committed_accuracy_interval_leaves_0_to_100_percent():
    for summary in (ROOT / "reports").rglob("summary.csv"):
        with summary.open() as fh:
            for row in csv.DictReader(fh):
                if row.get("ci_low"):
                    assert 0 <= float(row["ci_low"]) <= float(row["test_accuracy"]) <= float(row["ci_high"]) <= 1, (
                        summary,
                        row["model"],
                    )


@pytest.mark.slow
def test_a_report_rebuilt_from_its_run_gives_the_same_tables(tmp_path):
    """mnist-models reproduce on a copy of a committed report: the same tables; one cell edited: exit 2, that file named."""
    import shutil

    folder = tmp_path / "seeds"
    shutil.copytree(ROOT / "reports" / "seeds", folder)
    command = [sys.executable, "-m", "mnist_models", "reproduce", str(folder)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    table = folder / "per_class.csv"
    table.write_text(table.read_text().replace("0.9", "0.8", 1))
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.startswith("mnist-models reproduce: error: ")
    assert "per_class.csv" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
