"""A run is saved whole or marked: an interrupted session's run says so and readers refuse it, a save that fails
(a full disk) is one line and exit 2 with nothing half-written, and a failed report write keeps the last report."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mnist_models.files import MANIFEST, TEMP_SUFFIX, atomic_write_folder, clean_orphans

SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "test_mnist.py"

# Ctrl-C in the first round of the first latency benchmark: the training groups are done, latency has no round
INTERRUPT_IN_LATENCY = """
import dataclasses
from mnist_models.bench import session

_timed_call = session.Session.timed_call

def timed_call(self, group, case, variant):
    call = _timed_call(self, group, case, variant)
    if group.name != "latency":
        return call
    def run(*args):
        raise KeyboardInterrupt
    return dataclasses.replace(call, run=run)

session.Session.timed_call = timed_call
"""

DISK_FULL_AT_SAVE = """
import errno
from mnist_models.bench import saving

def full(path, data):
    raise OSError(errno.ENOSPC, "No space left on device", str(path))

saving.atomic_write_bytes = full
"""


def _suite(pytester, data_root, conftest: str | None, *extra: str):
    pytester.makepyfile(test_mnist=SUITE.read_text())
    if conftest:
        pytester.makeconftest(conftest)
    return pytester.runpytest_subprocess(
        "--benchmark-only", "--mnist-profile=smoke", "--mnist-models=linear", f"--mnist-data-dir={data_root[0]}",
        f"--mnist-cache-dir={pytester.path / 'weights'}", "-p", "no:cacheprovider", *extra,
    )  # fmt: skip


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mnist_models", *args], cwd=cwd, capture_output=True, text=True)


def test_ctrl_c_in_a_benchmarks_first_round_saves_a_run_marked_interrupted_that_readers_refuse(pytester, data_root):
    result = _suite(pytester, data_root, INTERRUPT_IN_LATENCY, "--benchmark-autosave")
    out = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out[-3000:]
    assert "INTERNALERROR" not in out
    assert "min() arg is an empty sequence" not in out
    assert "no report: the session was interrupted (saved as 0001_" in out
    [saved] = (pytester.path / ".benchmarks").rglob("*.json")
    document = json.loads(saved.read_text())
    mark = document["machine_info"]["mnist_models"]["interrupted"]
    assert mark["left_out"]
    assert all("latency" in name for name in mark["left_out"])
    assert {b["group"] for b in document["benchmarks"]} == {"train", "train-step"}
    assert not (pytester.path / "reports").exists()  # no report of a partial run
    refused = _cli(pytester.path, "report", "--no-figures")
    assert refused.returncode == 2
    assert "interrupted" in refused.stderr
    assert "--include-interrupted" in refused.stderr
    assert "Traceback" not in refused.stderr
    taken = _cli(pytester.path, "report", "--no-figures", "--include-interrupted", "--out", "r")
    assert taken.returncode == 0, taken.stderr
    history = _cli(pytester.path, "history", "--out", "h")
    assert history.returncode == 2
    assert "interrupted" in history.stderr
    (pytester.path / "conftest.py").unlink()  # the next session is not interrupted
    gated = _suite(pytester, data_root, None, "--benchmark-compare", "--mnist-fail-on=accuracy:0.3pp")
    assert gated.ret == pytest.ExitCode.USAGE_ERROR  # an interrupted baseline gates nothing
    assert "the session that saved it was interrupted" in gated.stdout.str()


def test_a_full_disk_at_save_is_one_line_exit_2_and_leaves_no_file_in_storage(pytester, data_root):
    result = _suite(pytester, data_root, DISK_FULL_AT_SAVE, "--benchmark-autosave")
    out = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, out[-3000:]
    assert "INTERNALERROR" not in out
    assert "Traceback" not in out
    [line] = [x for x in out.splitlines() if "the run was not saved" in x]
    assert "No space left on device" in line
    assert "the disk is full" in line
    assert not list((pytester.path / ".benchmarks").rglob("*.json"))
    assert not (pytester.path / "reports").exists()


def test_a_failed_report_write_leaves_the_previous_report_whole(tmp_path, monkeypatch):
    report = tmp_path / "report"
    atomic_write_folder(report, {"index.html": b"old page", "a.png": b"old a", "b.png": b"old b"})
    written = []

    def fsync(fd):  # the disk fills up at the third file of the new report
        written.append(fd)
        if len(written) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OSError, match="No space left") as caught:
        atomic_write_folder(report, {"index.html": b"new page", "a.png": b"new a", "b.png": b"new b"})
    assert caught.value.filename == str(report / "b.png")  # the file the reader would miss, not a temporary one
    assert {p.name: p.read_bytes() for p in report.iterdir() if p.name != MANIFEST} == {
        "index.html": b"old page", "a.png": b"old a", "b.png": b"old b"}  # fmt: skip
    assert [p.name for p in tmp_path.iterdir()] == ["report"]  # the staged folder is gone


def test_a_rewritten_report_keeps_no_file_of_the_previous_one_but_keeps_the_users(tmp_path):
    report = tmp_path / "report"
    atomic_write_folder(report, {"index.html": b"two models", "significance.csv": b"mlp_64 vs linear"})
    atomic_write_folder(report, {"index.html": b"one model"})
    assert sorted(p.name for p in report.iterdir()) == [MANIFEST, "index.html"]  # no stale significance.csv
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]
    (report / "notes.txt").write_text("the user's")  # a folder holding another's file is written file by file
    atomic_write_folder(report, {"index.html": b"again"})
    assert (report / "notes.txt").read_text() == "the user's"
    assert (report / "index.html").read_bytes() == b"again"


def test_a_new_report_folder_appears_whole(tmp_path):
    atomic_write_folder(tmp_path / "new", {"index.html": b"page", "figures/x.png": b"x"})
    assert (tmp_path / "new" / "figures" / "x.png").read_bytes() == b"x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]


def test_orphaned_temporary_files_older_than_a_session_are_cleaned_and_fresh_ones_kept(tmp_path):
    old_file, old_folder = tmp_path / f".0001_x.json.abc{TEMP_SUFFIX}", tmp_path / f".report.def{TEMP_SUFFIX}"
    fresh, foreign = tmp_path / f".w.ghi{TEMP_SUFFIX}", tmp_path / ".another-programs.tmp"
    old_file.write_text("{")
    old_folder.mkdir()
    (old_folder / "index.html").write_text("half")
    fresh.write_text("being written")
    foreign.write_text("not ours")
    kept = tmp_path / "0001_x.json"
    kept.write_text("{}")
    two_hours_ago = time.time() - 2 * 3600
    for path in (old_file, old_folder, kept, foreign):
        os.utime(path, (two_hours_ago, two_hours_ago))
    assert sorted(p.name for p in clean_orphans(tmp_path)) == [old_file.name, old_folder.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, foreign.name, kept.name])


@pytest.mark.slow
def test_a_real_sigint_mid_suite_with_autosave_saves_a_marked_run(tmp_path, data_root):
    """The Ctrl-C of a terminal: SIGINT to the pytest process while it trains its second model."""
    import signal

    project = tmp_path / "project"
    project.mkdir()
    (project / "test_mnist.py").write_text(SUITE.read_text())
    log = project / "log.txt"
    command = [sys.executable, "-m", "pytest", "test_mnist.py", "--benchmark-only", "--benchmark-autosave",
               "--mnist-profile=smoke", "--mnist-models=linear,lenet5", f"--mnist-data-dir={data_root[0]}",
               f"--mnist-cache-dir={tmp_path / 'weights'}", "-p", "no:cacheprovider"]  # fmt: skip
    with open(log, "w") as out:
        proc = subprocess.Popen(command, cwd=project, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.time() + 300
        while "training lenet5" not in log.read_text() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    text = log.read_text()
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, text[-3000:]
    assert "INTERNALERROR" not in text
    assert "no report: the session was interrupted (saved as 0001_" in text
    [saved] = (project / ".benchmarks").rglob("*.json")
    document = json.loads(saved.read_text())
    assert "interrupted" in document["machine_info"]["mnist_models"]
    assert all("lenet5" not in b["name"] or b["extra_info"] for b in document["benchmarks"])
    assert not (project / "reports").exists()
