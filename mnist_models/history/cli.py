"""``mnist-models history``: saved runs in, their series, change points and a page out; exit 1 on a new regression."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..parse import out_folder, positive_percent


def add_history_parser(sub) -> None:
    parser = sub.add_parser(
        "history",
        help="series of accuracy and time across saved runs, with their change points, on one page",
        description="Runs are named as `pytest-benchmark compare` names them (numbers, names, globs, JSON paths), "
        "or every run under --storage; A/B outputs (head.json) add their slowdown ratios. Exit codes: 0 done, "
        "1 --fail-on-change: the newest point opens a regression step, 2 bad input (a named run that does not read, "
        "an empty storage); a run in storage that does not read is named and left out unless --strict.",
    )
    parser.add_argument("runs", nargs="*", metavar="RUN", help="runs to read (default: every run in --storage)")
    parser.add_argument(
        "--storage", default=".benchmarks", metavar="DIR", help="where the runs are (default: .benchmarks)"
    )
    parser.add_argument(
        "--out", type=out_folder, default="reports/history", metavar="DIR",
        help="the page's folder (default: reports/history)",
    )  # fmt: skip
    parser.add_argument(
        "--fail-on-change",
        type=positive_percent,
        metavar="PCT",
        help="exit 1 when the newest point is slower than its level by more than PCT, significantly (e.g. 10%%)",
    )
    parser.add_argument("--threshold", type=positive_percent, default=None, metavar="PCT",
                        help="smallest time step reported (default: 10%%, or --fail-on-change's)")  # fmt: skip
    parser.add_argument("--self-contained", action="store_true", help="the page's figures inside index.html")
    parser.add_argument("--no-figures", action="store_true", help="tables and summary only")
    from ..report.cli import add_strict_option

    add_strict_option(parser)
    parser.set_defaults(func=run_history)


def run_history(args: argparse.Namespace) -> int:
    from ..report.cli import skipping
    from ..results.record import RunError
    from .build import THRESHOLD, build_history
    from .series import load_history

    threshold = args.threshold or args.fail_on_change or THRESHOLD
    try:
        runs = load_history(args.runs, args.storage, skipping("history", args.strict), args.include_interrupted)
        history = build_history(runs, Path(args.out), threshold, args.self_contained, draw=not args.no_figures)
    except RunError as exc:
        print(f"mnist-models history: error: {exc}", file=sys.stderr)
        return 2
    print(f"history: {history.directory / 'index.html'}")
    print(f"summary: {history.directory / 'summary.md'}")
    regressions = [(s, c) for s, c in history.changes if c.regression]
    print(f"{len(history.changes)} change point(s), {len(regressions)} regression(s)")
    for line in bisect_commands(regressions):
        print(line)
    if args.fail_on_change is not None and history.newest:
        print("the newest point opens a regression step:", file=sys.stderr)
        for series, change in history.newest:
            print(f"  {series.key}: {change.ratio - 1:+.1%} (p={change.p_value:.2g})", file=sys.stderr)
        return 1
    return 0


def bisect_commands(regressions: list) -> list[str]:
    """For each regression step between two commits with others between them, the command that finds the commit."""
    import shlex
    import subprocess

    lines = []
    for series, change in regressions:
        if change.before == change.after or "?" in (change.before, change.after):
            continue
        counted = subprocess.run(["git", "rev-list", "--count", f"{change.before}..{change.after}"],
                                 capture_output=True, text=True)  # fmt: skip
        if counted.returncode == 0 and int(counted.stdout.strip() or 0) <= 1:
            continue  # the step is one commit: that commit is the answer
        group = series.benchmark.split(" ")[0]
        if series.metric == "accuracy":
            what = ["--accuracy", f"{abs(change.ratio):.2g}", "--models", series.model]
        else:
            what = [
                "--models",
                series.model,
                "--groups",
                group,
                "--benchmarks",
                f"{group}/{series.model}-seed{series.seed}*",
            ]
        command = ["mnist-models", "bisect", "--good", change.before[:12], "--bad", change.after[:12], *what]
        lines.append(f"  {series.model} · {series.benchmark}: to find the commit, {shlex.join(command)}")
    return lines
