"""SIGINT and SIGTERM stop `mnist-models ab` and `mnist-models bisect` with 130 and 143 and one line on stderr:
the workers stopped and reaped, the git worktrees removed, nothing gated."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mnist_models.ab.cli import interruptible
from mnist_models.ab.coordinator import ABError, worktree
from mnist_models.files import INTERRUPTED, TERMINATED, Interrupted, guarded

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 240  # for the workers to start (the base side trains the smoke model first) on a busy 2-core machine


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def _repo(folder: Path, commits: int = 1) -> tuple[Path, list[str]]:
    """A git repository holding this package, ``commits`` commits deep."""
    repo = folder / "repo"
    shutil.copytree(ROOT / "mnist_models", repo / "mnist_models", ignore=shutil.ignore_patterns("__pycache__"))
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "test@example.com")
    _git(repo, "config", "user.name", "test")
    made = []
    for k in range(1, commits + 1):
        (repo / "CHANGES").write_text(f"commit {k}\n")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", f"commit {k}")
        made.append(_git(repo, "rev-parse", "HEAD"))
    return repo, made


def _terminated_then_interrupted_while_cleaning_up(cleaned: list[str]) -> None:
    with interruptible():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(10)  # the handler raises here
        finally:
            os.kill(os.getpid(), signal.SIGINT)  # a second signal while cleaning up: ignored
            time.sleep(0.2)
            cleaned.append("cleaned")


def test_a_signal_raises_once_and_a_second_cannot_cut_the_cleanup_short():
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    cleaned: list[str] = []
    with pytest.raises(Interrupted) as caught:
        _terminated_then_interrupted_while_cleaning_up(cleaned)
    assert (caught.value.signal_name, caught.value.code, cleaned) == ("SIGTERM", TERMINATED, ["cleaned"])
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_the_one_line_says_the_signal_and_what_was_cleaned_up(capsys):
    def stopped(args):
        stop = Interrupted("SIGTERM", TERMINATED)
        stop.done += ["workers stopped after 2 complete pair(s), nothing gated or written", "worktree /tmp/w removed"]
        raise stop

    def ctrl_c(args):
        raise KeyboardInterrupt

    assert guarded("mnist-models ab", argparse.Namespace(func=stopped)) == 143
    assert capsys.readouterr().err == (
        "mnist-models ab: interrupted (SIGTERM); workers stopped after 2 complete pair(s), nothing gated or written; "
        "worktree /tmp/w removed\n"
    )
    assert guarded("mnist-models report", argparse.Namespace(func=ctrl_c)) == INTERRUPTED
    assert capsys.readouterr().err == "mnist-models report: interrupted (SIGINT)\n"


def _interrupted_in_a_worktree(repo: Path, commit: str, stop: Interrupted, seen: list[Path]) -> None:
    with worktree(repo, commit, "mnist-test-", ABError) as folder:
        seen.append(folder)
        assert (folder / "mnist_models").is_dir()
        raise stop


def test_an_interrupted_worktree_is_removed_and_said(tmp_path):
    repo, (commit,) = _repo(tmp_path)
    stop, seen = Interrupted("SIGINT", INTERRUPTED), []
    with pytest.raises(Interrupted):
        _interrupted_in_a_worktree(repo, commit, stop, seen)
    (folder,) = seen
    assert not folder.exists()
    assert stop.done == [f"worktree {folder} removed"]
    assert _git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1


def _workers(pid: int) -> list[int]:
    """The worker processes ``pid`` started (``python -m mnist_models.ab.worker``)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid and b"mnist_models.ab.worker" in command:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class _Command:
    """A `mnist-models` command run as a process of its own session, its stdout read as it comes."""

    def __init__(self, args: list[str], tmp_path: Path) -> None:
        self.temp = tmp_path / "tmp"  # where the command makes its worktrees
        self.temp.mkdir()
        (tmp_path / "home").mkdir()
        env = {**os.environ, "TMPDIR": str(self.temp), "HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen([sys.executable, "-m", "mnist_models", *args], cwd=ROOT, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        start_new_session=True)  # fmt: skip
        self.lines: list[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True)
        self.reader.start()

    def __enter__(self) -> _Command:
        return self

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:  # a test that failed before its signal: nothing is left running
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.reader.join(timeout=10)
        self.process.stdout.close()
        self.process.stderr.close()

    def wait_for(self, ready, what: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while not ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                os.killpg(self.process.pid, signal.SIGKILL)
                pytest.fail(f"never saw {what}; exit {self.process.wait()}:\n{''.join(self.lines)}"
                            f"{self.process.stderr.read()}")  # fmt: skip
            time.sleep(0.2)

    def worktrees(self) -> list[Path]:
        return sorted(self.temp.glob("mnist-*"))

    def stopped(self, signum: int, workers: list[int]) -> tuple[int, str]:
        """Exit code and stderr after ``signum``: to the whole session for SIGINT (a terminal's Ctrl-C reaches
        the workers too), to the command alone for SIGTERM (``kill PID``, the harsher case for the workers)."""
        assert workers
        assert all(map(_alive, workers))
        if signum == signal.SIGINT:
            os.killpg(self.process.pid, signum)
        else:
            self.process.send_signal(signum)
        code = self.process.wait(timeout=60)
        return code, self.process.stderr.read()


def _assert_stopped_clean(code: int, err: str, signum: int, command: _Command, workers: list[int], repo: Path):
    name = signal.Signals(signum).name
    assert code == (INTERRUPTED if signum == signal.SIGINT else TERMINATED), err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert f": interrupted ({name}); workers stopped" in err
    assert [w for w in workers if _alive(w)] == []
    assert command.worktrees() == []
    assert _git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1  # the repository's own only


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """One weight cache for the module: the second command does not retrain the smoke model."""
    return tmp_path_factory.mktemp("weights")


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_ab_stopped_by_a_signal_stops_its_workers_and_removes_the_worktree(signum, tmp_path, data_root, weights):
    repo, _ = _repo(tmp_path)
    out = tmp_path / "out"
    with _Command(["ab", "--base", "HEAD", "--head", str(repo), "--profile", "smoke", "--models", "mlp_64",
                        "--groups", "latency", "--pairs", "16", "--restart-every", "16",
                        "--data-dir", str(data_root[0]), "--cache-dir", str(weights), "--out", str(out)], tmp_path) as command:  # fmt: skip
        command.wait_for(lambda: any(line.startswith("[ab] pair 1/") for line in command.lines), "the first pair")
        (worktree_folder,) = command.worktrees()
        workers = _workers(command.process.pid)
        assert len(workers) == 2
        code, err = command.stopped(signum, workers)
    _assert_stopped_clean(code, err, signum, command, workers, repo)
    assert err.startswith(f"mnist-models ab: interrupted ({signal.Signals(signum).name}); workers stopped after ")
    assert "nothing gated" in err
    assert f"worktree {worktree_folder} removed" in err
    assert not out.exists()


@pytest.mark.slow
def test_bisect_stopped_by_sigterm_stops_its_probe_and_removes_both_worktrees(tmp_path, data_root, weights):
    repo, (good, bad) = _repo(tmp_path, commits=2)
    with _Command(["bisect", "--good", good, "--bad", bad, "--repo", str(repo), "--profile", "smoke",
                        "--models", "mlp_64", "--groups", "latency", "--max-pairs", "16", "--restart-every", "16",
                        "--data-dir", str(data_root[0]), "--cache-dir", str(weights),
                        "--out", str(tmp_path / "out")], tmp_path) as command:  # fmt: skip
        command.wait_for(lambda: len(command.worktrees()) == 2 and _workers(command.process.pid), "a probe's workers")
        folders, workers = command.worktrees(), _workers(command.process.pid)
        code, err = command.stopped(signal.SIGTERM, workers)
    _assert_stopped_clean(code, err, signal.SIGTERM, command, workers, repo)
    assert all(f"worktree {folder} removed" in err for folder in folders), err
    assert err.rstrip().endswith("no commit named, bisect.md not written")
