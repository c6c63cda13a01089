"""Other pytest plugins that take the run away from pytest-benchmark: pytest-xdist (``-n``) and pytest-codspeed.

Under either, this suite would train every model and keep no time: xdist turns pytest-benchmark off in
its workers, and ``--codspeed`` blocks pytest-benchmark altogether (the suite's timings, saved runs, gate
and report are pytest-benchmark's). So the session stops at once with one line saying why and what to use
instead, as pytest's usage error (4), before anything trains. Imports pytest only.
"""

from __future__ import annotations

import os

import pytest

XDIST = (
    "mnist-models: timings are not taken under pytest-xdist ({how}): pytest-benchmark turns itself off in "
    "xdist's workers, so every model would train and nothing would be timed or saved; run without -n, and to "
    "spread the suite over processes or machines use --mnist-shard I/N (then mnist-models merge) or torchrun "
    "(docs/scaling.md)"
)
CODSPEED = (
    "mnist-models: the suite does not run under CodSpeed ({how}): pytest-codspeed replaces pytest-benchmark, "
    "whose timings, saved runs, gate and report this suite is; run it without --codspeed (and outside "
    "CODSPEED_ENV), and gate with --benchmark-compare or mnist-models ab (docs/gating.md)"
)


def under_xdist(config: pytest.Config) -> str | None:
    """How xdist is on (``-n 2``, a worker), or ``None``."""
    worker = os.environ.get("PYTEST_XDIST_WORKER") or getattr(config, "workerinput", {}).get("workerid")
    if worker:
        return f"worker {worker}"
    if config.getoption("dist", "no") not in ("no", None):
        processes = config.getoption("numprocesses", None)
        return f"-n {processes}" if processes else f"--dist {config.getoption('dist')}"
    return None


def under_codspeed(config: pytest.Config) -> str | None:
    """How CodSpeed is on (``--codspeed``, ``CODSPEED_ENV``), or ``None``."""
    if config.getoption("codspeed", False):
        return "--codspeed"
    if os.environ.get("CODSPEED_ENV") is not None and config.pluginmanager.hasplugin("codspeed"):
        return "CODSPEED_ENV is set"
    return None


def refusal(config: pytest.Config) -> str | None:
    """The one line that stops a session run under a plugin that takes timing away, or ``None``."""
    how = under_codspeed(config)
    if how:
        return CODSPEED.format(how=how)
    how = under_xdist(config)
    if how:
        return XDIST.format(how=how)
    return None


WORKER_KEY = "mnist_models_refused"  # an xdist worker's ``workeroutput`` entry: the line, for the controller


def refuse_foreign_runner(config: pytest.Config, items: list[pytest.Item], ours: list[pytest.Item]) -> None:
    """Stop the session (usage error, one line) if xdist or CodSpeed runs it.

    In an xdist worker an exit would be the controller's INTERNALERROR, so the worker leaves the suite's cases
    out (deselected) and hands the line to the controller, which prints it and ends the session with 4 once
    the project's other tests have run (``RefusedInWorkers``).
    """
    line = refusal(config)
    if not line:
        return
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is None:
        pytest.exit(line, returncode=pytest.ExitCode.USAGE_ERROR)
    workeroutput[WORKER_KEY] = line
    config.hook.pytest_deselected(items=ours)
    left = set(map(id, ours))
    items[:] = [item for item in items if id(item) not in left]


class RefusedInWorkers:
    """The xdist controller's half: when a worker left the suite out, its line (naming ``-n``), printed once, and
    the session's exit status 4."""

    def __init__(self, line: str) -> None:
        self.line = line
        self.refused = False

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        self.refused = self.refused or WORKER_KEY in getattr(node, "workeroutput", {})

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.refused:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.refused:
            terminalreporter.write_line(self.line, red=True)


def watch_workers(config: pytest.Config) -> None:
    """On an xdist controller, listen for a worker's refusal."""
    if under_xdist(config) and not hasattr(config, "workerinput"):
        config.pluginmanager.register(RefusedInWorkers(XDIST.format(how=under_xdist(config))), "mnist-models-xdist")
