"""After the run: the report of the saved (or unsaved) run and the ``--mnist-fail-on`` gate against a baseline."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from ..report.build import build_report
from ..results.runs import RunError, find_runs, load_run, parse_run, saved_runs, storage_dir


def report_and_gate(session: pytest.Session, options, output: dict) -> list[str]:
    """Build the report and apply the gate; return the lines for the terminal summary.

    Sets the session's exit status: 1 when the gate fails, 2 when its baseline is unusable.
    """
    config = session.config
    lines: list[str] = []
    saved = saved_path(config)
    name = (
        saved.stem
        if saved
        else Path(config.getoption("benchmark_json").name).stem
        if config.getoption("benchmark_json")
        else "run"
    )
    try:
        run = parse_run(output, name)
        baseline = load_run(_baseline_path(config, saved)) if options.rules else None
        directory = Path(options.after.report) if options.after.report else Path("reports") / name
        if options.no_report:  # gate only: compute into a scratch folder
            directory = Path(tempfile.mkdtemp(prefix="mnist-gate-"))
        report = build_report([run], directory, baseline, options.rules,
                              self_contained=options.after.self_contained_report)  # fmt: skip
    except RunError as exc:
        lines.append(f"no report: {exc}")
        if options.rules:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        return lines
    if not options.no_report:
        from ..report.sections.text import answer_lines

        lines.extend(answer_lines(report.insights))
        lines.append(f"report: {report.directory / 'index.html'}")
        lines.append(f"summary: {report.directory / 'summary.md'}")
    lines.extend(f"note: {n}" for n in report.notes)
    if report.gate_failures is not None:
        if report.gate_failures:
            lines.append(f"accuracy/time gate FAILED against {baseline.name}:")
            lines.extend(f"  {f}" for f in report.gate_failures)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        else:
            lines.append(f"accuracy/time gate: within thresholds against {baseline.name}")
    return lines


def unsaved_json(config: pytest.Config, suite=None) -> dict | None:
    """This session's results as pytest-benchmark would save them, when it was not asked to save (our part
    added as for a saved run: the peaks, the machine, the commit)."""
    from pytest_benchmark.utils import get_commit_info

    from .run_json import finish_run_json

    session = getattr(config, "_benchmarksession", None)
    if session is None or not session.benchmarks:
        return None
    output = config.hook.pytest_benchmark_generate_json(
        config=config, benchmarks=session.benchmarks, include_data=False, machine_info=session.get_machine_info(),
        commit_info=get_commit_info(),
    )  # fmt: skip
    finish_run_json(output, suite)
    return output


def _storage_dir(config: pytest.Config) -> Path:
    return storage_dir(config.getoption("benchmark_storage"))


def saved_path(config: pytest.Config) -> Path | None:
    """The file pytest-benchmark just saved (the newest numbered run), if this run saved one."""
    if not (config.getoption("benchmark_save") or config.getoption("benchmark_autosave")):
        return None
    runs = saved_runs(_storage_dir(config))
    return runs[-1] if runs else None


def _baseline_path(config: pytest.Config, saved: Path | None) -> Path:
    """The run ``--benchmark-compare`` names (its default: the newest saved run before this one)."""
    wanted = config.getoption("benchmark_compare")
    ids = [] if wanted is True or wanted == "" else [str(wanted)]
    paths = [
        p for p in (find_runs(ids, _storage_dir(config)) if ids else saved_runs(_storage_dir(config))) if p != saved
    ]
    if not paths and not ids:
        raise RunError(f"no baseline run in {_storage_dir(config)} to gate against")
    if not paths:
        raise RunError(f"--benchmark-compare={wanted!r} matches no saved run other than this one")
    return paths[-1]
