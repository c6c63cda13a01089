"""Saving a run so that no reader ever takes a partial one for a whole one.

- pytest-benchmark writes its JSON in place (``--benchmark-autosave``/``--benchmark-save`` and ``--benchmark-json``):
  a full disk or a kill mid-write leaves a truncated file in storage. Its two writers are replaced, for this
  session, by a temporary file and a rename (``files.atomic_write_bytes``): the storage layout, the file names and
  ``pytest-benchmark compare`` are unchanged. A save that fails says so in one line and sets the exit status 2.
- A benchmark interrupted before its first round has no times, and pytest-benchmark's JSON writer fails on it
  (``min() arg is an empty sequence``): it is left out, as it measured nothing.
- A session stopped by Ctrl-C saves what it measured, marked ``interrupted`` in its ``machine_info`` (the suite's
  benchmarks whose record was never written are left out and named there); the report, the history and the gates
  refuse such a run unless asked (``--include-interrupted``), and the session itself writes no report of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..files import atomic_write_bytes, describe_error

INTERRUPTED_KEY = "interrupted"  # in machine_info["mnist_models"]: how the session ended, what it left out

_STATE_KEY = pytest.StashKey[dict]()


class SavingPlugin:
    """Registered by the suite's plugin: runs before pytest-benchmark saves (an outer hook wrapper)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        config.stash[_STATE_KEY] = {"dropped": [], "save_error": None, "interrupted": False}

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus):
        state = self.config.stash[_STATE_KEY]
        state["interrupted"] = int(session.exitstatus) == int(pytest.ExitCode.INTERRUPTED)
        bench_session = getattr(self.config, "_benchmarksession", None)
        if bench_session is not None:
            state["dropped"] = prune(bench_session.benchmarks, state["interrupted"])
            make_saves_atomic(bench_session, state)
        yield
        if state["save_error"]:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        elif state["interrupted"]:
            session.exitstatus = pytest.ExitCode.INTERRUPTED


def state(config: pytest.Config) -> dict:
    """How this session's saving went: ``dropped`` benchmarks, ``save_error`` (one line or ``None``), ``interrupted``."""
    return config.stash.get(_STATE_KEY, {"dropped": [], "save_error": None, "interrupted": False})


def interrupted_now(config: pytest.Config) -> None:
    """Ctrl-C after the last test, while the run was being finished: the run is saved marked interrupted."""
    config.stash[_STATE_KEY]["interrupted"] = True


def prune(benchmarks: list, interrupted: bool) -> list[str]:
    """Leave out of ``benchmarks`` (in place) those with no rounds, and in an interrupted session the suite's whose
    record was never written; return their names."""

    def measured(bench) -> bool:
        if not bench:  # no rounds: stopped before its first one ended
            return False
        if not interrupted:
            return True
        # the registries (and numpy) only for an interrupted session: a project that does not use the suite pays nothing
        from ..results.groups import GROUPS
        from ..results.record import is_ours

        return not (bench.group in GROUPS and not is_ours(bench.extra_info))

    dropped = [bench.name for bench in benchmarks if not measured(bench)]
    benchmarks[:] = [bench for bench in benchmarks if measured(bench)]
    return dropped


def make_saves_atomic(bench_session, state: dict) -> None:
    """Replace pytest-benchmark's two JSON writers of this session by atomic ones that report a failure in one line."""
    from pytest_benchmark.storage.file import FileStorage
    from pytest_benchmark.utils import safe_dumps

    def write(path: Path, output_json: dict) -> bool:
        try:
            atomic_write_bytes(Path(path), safe_dumps(output_json, ensure_ascii=True, indent=4).encode())
            return True
        except OSError as exc:
            state["save_error"] = f"the run was not saved: {describe_error(exc)}"
            return False

    storage = bench_session.storage
    if isinstance(storage, FileStorage):  # (an Elasticsearch storage writes over the network: left as it is)

        def save(output_json: dict, save: str) -> None:
            path = storage.get(f"{storage._next_num}_{save}.json")
            if write(path, output_json):
                storage.logger.info(f"Saved benchmark data in: {path}")

        storage.save = save

    def save_json(output_json: dict) -> None:
        if write(bench_session.json, output_json):
            bench_session.logger.info(f"Wrote benchmark data in: {bench_session.json}", purple=True)

    bench_session.save_json = save_json


def mark(output_json: dict[str, Any], config: pytest.Config) -> None:
    """Mark an interrupted session's run in its ``machine_info`` (what was left out named)."""
    saving = state(config)
    info = output_json.get("machine_info", {}).get("mnist_models")
    if saving["interrupted"] and isinstance(info, dict):
        info[INTERRUPTED_KEY] = {
            "how": "KeyboardInterrupt (Ctrl-C or SIGINT)",
            "benchmarks_saved": len(output_json.get("benchmarks", [])),
            "left_out": saving["dropped"],
        }
