"""``mnist-models report``: saved runs in, a report directory (and a gate verdict) out."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..parse import out_folder
from ..results.record import RunError
from ..results.runs import DEFAULT_STORAGE, load_run, load_runs

DEFAULT_REPORTS = Path("reports")


def add_storage_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--storage",
        default=DEFAULT_STORAGE,
        metavar="DIR",
        help="pytest-benchmark storage to look runs up in (default: .benchmarks; file:// accepted)",
    )


def add_report_parser(sub) -> None:
    parser = sub.add_parser(
        "report",
        help="build figures, tables and an HTML page from saved benchmark runs; compare and gate",
        description="Runs are named as `pytest-benchmark compare` names them: a run number (0001), a name or glob "
        "(0001_baseline, *cpu*), or a path to a JSON file. Exit codes: 0 done, 1 the --fail-on gate failed, 2 bad input.",
    )
    parser.add_argument("runs", nargs="*", metavar="RUN", help="runs to report on (default: the newest saved run)")
    add_storage_option(parser)
    parser.add_argument("--out", type=out_folder, metavar="DIR",
                        help="report directory (default: reports/<last run's name>)")  # fmt: skip
    parser.add_argument(
        "--compare", metavar="BASELINE", help="baseline run: adds a delta table and figure against the last RUN"
    )
    parser.add_argument(
        "--fail-on",
        action="append",
        default=[],
        metavar="RULE",
        help="with --compare: accuracy:0.3pp (a drop beyond 0.3 points and significant by McNemar's test), "
        "memory:20%% (a peak grown beyond 20%% and its resolution); repeatable. Gate time with `mnist-models ab`: a time:median:15%% rule is refused unless both runs "
        "share a machine identity",
    )
    parser.add_argument(
        "--no-figures",
        action="store_true",
        help="tables, summary and page without figures: a gate or a CI summary in a second instead of ten",
    )
    parser.add_argument(
        "--self-contained",
        action="store_true",
        help="write index.html with its figures inside: one file a CI artifact or an e-mail can carry",
    )
    add_strict_option(parser)
    parser.set_defaults(func=run_report)


def add_strict_option(parser: argparse.ArgumentParser) -> None:
    """``--strict`` and ``--include-interrupted``: what a command does with runs that do not read or are partial."""
    parser.add_argument(
        "--strict",
        action="store_true",
        help="stop (exit 2) at a run found in storage that does not read, instead of naming it and going on",
    )
    parser.add_argument(
        "--include-interrupted",
        action="store_true",
        help="use runs saved by an interrupted session (marked in their machine_info; partial), which are refused "
        "otherwise",
    )


def skipping(command: str, strict: bool):
    """``None`` under ``--strict`` (an unreadable run stops the command), else a function naming each run left out."""
    if strict:
        return None
    return lambda message: print(f"mnist-models {command}: skipped: {message} (--strict stops here)", file=sys.stderr)


def run_report(args: argparse.Namespace) -> int:
    from .build import build_report
    from .gate import GateRule

    try:
        rules = [GateRule.parse(text) for text in args.fail_on]
        if rules and not args.compare:
            raise RunError("--fail-on needs --compare BASELINE: a gate compares the current run with a baseline")
        runs = load_runs(args.runs, args.storage, skipping("report", args.strict), args.include_interrupted)
        baseline = None
        if args.compare:
            [baseline_path] = _one(args.compare, args.storage)
            baseline = load_run(baseline_path, args.include_interrupted)
            if baseline.dataset != runs[-1].dataset:
                raise RunError(
                    f"baseline {baseline.name} is on {baseline.dataset} but {runs[-1].name} is on {runs[-1].dataset}"
                )
        out = Path(args.out) if args.out else DEFAULT_REPORTS / runs[-1].name
        report = build_report(
            runs, out, baseline, rules, self_contained=args.self_contained, figures=not args.no_figures
        )
    except (RunError, ValueError) as exc:
        print(f"mnist-models report: error: {exc}", file=sys.stderr)
        return 2
    from .sections.text import answer_lines

    for line in answer_lines(report.insights):
        print(line)
    print(f"report: {report.directory / 'index.html'}")
    print(f"summary: {report.directory / 'summary.md'}")
    for note in report.notes:
        print(f"note: {note}")
    if report.gate_failures:
        print(f"regression gate FAILED ({len(report.gate_failures)}):", file=sys.stderr)
        for line in report.gate_failures:
            print(f"  {line}", file=sys.stderr)
        return 1
    if report.gate_failures is not None:
        print("regression gate: within thresholds")
    return 0


def _one(run_id: str, storage: str) -> list[Path]:
    from ..results.runs import find_runs

    paths = find_runs([run_id], storage)
    if len(paths) > 1:
        raise RunError(f"baseline {run_id!r} matches {len(paths)} runs ({', '.join(p.name for p in paths)}); name one")
    return paths


def main(argv: list[str] | None = None) -> int:
    """``python -m mnist_models.report``: ``mnist-models report``, with its exit codes and one-line errors."""
    from ..files import guarded
    from ..parse import OneLineParser, add_debug_flag

    parser = OneLineParser(prog="mnist-models")
    sub = parser.add_subparsers(dest="command", required=True)
    add_report_parser(sub)
    add_debug_flag(sub.choices["report"], False)
    args = parser.parse_args(["report", *(sys.argv[1:] if argv is None else argv)])
    return guarded("mnist-models report", args)
