"""pytest-xdist and pytest-codspeed, really installed: the suite stops with one line (exit 4); other tests run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("xdist")
pytest.importorskip("pytest_codspeed")

ROOT = Path(__file__).resolve().parents[2]
SUITE = [sys.executable, "-m", "pytest", str(ROOT / "benchmarks"), "--mnist-profile", "smoke", "-k", "linear",
         "-p", "no:cacheprovider", "-q"]  # fmt: skip


def _suite(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    storage = ["--benchmark-storage", str(tmp_path / ".benchmarks"), "--mnist-report", str(tmp_path / "report")]
    done = subprocess.run([*SUITE, *storage, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert not list(tmp_path.rglob("*.json"))  # nothing saved
    assert not (tmp_path / "report").exists()
    return done


XDIST_LINE = ("not taken under pytest-xdist (-n 2)", "--mnist-shard", "torchrun")
CODSPEED_LINE = ("does not run under CodSpeed (--codspeed)", "pytest-benchmark", "mnist-models ab")


@pytest.mark.parametrize(
    ("args", "expected"),
    [(["--benchmark-only", "-n", "2"], XDIST_LINE), (["-n", "2"], XDIST_LINE),
     (["--benchmark-only", "--codspeed"], CODSPEED_LINE), (["--codspeed"], CODSPEED_LINE)],
    ids=["xdist-benchmark-only", "xdist", "codspeed-benchmark-only", "codspeed"],
)  # fmt: skip
def test_the_suite_under_xdist_or_codspeed_stops_with_one_line_saying_what_to_use(tmp_path, args, expected):
    done = _suite(tmp_path, *args)
    output = done.stdout + done.stderr
    assert done.returncode == 4, output
    what, *advice = expected
    [line] = [line for line in output.splitlines() if what in line]
    assert all(word in line for word in advice), line
    for never in ("INTERNALERROR", "Traceback", "--benchmark-disable", "trained"):
        assert never not in output  # --benchmark-disable: pytest-benchmark's message about a flag never passed


def test_codspeed_env_is_named_as_the_cause(tmp_path, monkeypatch):
    monkeypatch.setenv("CODSPEED_ENV", "github")
    monkeypatch.setenv("CODSPEED_RUNNER_MODE", "walltime")
    done = _suite(tmp_path, "--benchmark-only")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "does not run under CodSpeed (CODSPEED_ENV is set)" in done.stdout + done.stderr


@pytest.mark.parametrize("args", [["-n", "2"], ["--codspeed"]], ids=["xdist", "codspeed"])
def test_a_project_of_its_own_runs_under_either_plugin_untouched(pytester, args):
    """mnist-models installed beside xdist or CodSpeed: a project that never uses the suite is not refused."""
    pytester.makepyfile(
        test_foo="""
        def test_one():
            assert 1 + 1 == 2

        def test_two(benchmark):
            benchmark(sum, range(10))
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    assert result.ret == 0, result.outlines + result.errlines
    ours = [line for line in result.outlines + result.errlines
            if "mnist-models:" in line or line.strip("= ") == "mnist-models"]  # fmt: skip
    assert not ours, ours  # a line of ours, or our section; a path through a clone named mnist-models is not ours


def test_a_project_with_suite_cases_and_its_own_tests_under_xdist(pytester):
    """Its own tests run; the suite's cases are left out, the line is printed once, and the session exits 4."""
    pytester.makepyfile(
        test_mine="""
        def test_own():
            assert True
        """
    )
    (pytester.path / "test_suite_cases.py").write_text("from mnist_models.bench.cases import *  # noqa: F403\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--mnist-profile", "smoke",
                                           "-k", "own or linear")  # fmt: skip
    output = result.outlines + result.errlines
    assert result.ret == 4, output
    assert len([line for line in output if "not taken under pytest-xdist" in line]) == 1, output
    assert any("1 passed" in line for line in output), output
