"""``mnist-models ab``: the base and the head measured in alternation on this machine, then gated."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from ..bench.options import add_ab_flags, read_ab_flags
from ..bench.settings import SuiteSettings
from ..files import INTERRUPTED, TERMINATED, Interrupted
from ..parse import (
    existing_folder,
    out_folder,
    parse_alpha,
    positive_float,
    positive_int,
    positive_percent,
    python_executable,
    split_names,
)
from ..results.groups import GROUPS


def _timed_groups(text: str) -> tuple[str, ...]:
    groups = split_names(text)
    timed = GROUPS.names(timed=True)
    unknown = [g for g in groups if g not in timed]
    if unknown or not groups:
        raise argparse.ArgumentTypeError(
            f"{', '.join(unknown) or 'none'}; A/B compares the timed groups {', '.join(timed)}"
        )
    return groups


def _pairs(text: str) -> int:
    pairs = positive_int(text)
    if pairs < 3:
        raise argparse.ArgumentTypeError(f"{pairs}: at least 3 pairs are needed for an interval")
    return pairs


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGINT and SIGTERM raise ``Interrupted`` in the command, so that the ``finally`` blocks it passes stop the
    workers and remove the worktrees (SIGTERM's default would end the process with both left behind). Raised
    once: a second signal while that cleanup runs is ignored, so that it cannot cut the cleanup short."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    raised = False

    def handler(signum: int, frame) -> None:
        nonlocal raised
        if not raised:
            raised = True
            raise Interrupted(signal.Signals(signum).name, INTERRUPTED if signum == signal.SIGINT else TERMINATED)

    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, action in previous.items():
            signal.signal(signum, action)


def add_ab_parser(sub) -> None:
    default_groups = ",".join(GROUPS.names(timed=True))
    parser = sub.add_parser(
        "ab",
        help="paired, interleaved A/B timing of a base version against this tree, and a gate on it",
        description="Both versions run at once, each in its own worker process importing its own code (both "
        "replaced every --restart-every pairs); their blocks of rounds alternate in a random order within each pair. "
        "Each benchmark is decided as soon as its pairs allow (slower beyond the threshold, within it, or undecidable "
        "by the cap) and then no longer measured; --pairs N measures every benchmark N pairs instead. Exit codes: 0 no benchmark slower "
        "beyond the threshold (open ones pass, saying the smallest slowdown they could have detected), 1 the gate "
        "failed, 2 bad input or a side that failed (nothing is written then), 130 on SIGINT and 143 on SIGTERM "
        "(the workers stopped, the worktree removed, nothing gated).",
    )
    parser.add_argument("--base", required=True, help="the baseline: a git ref of this repository, or a source tree")
    parser.add_argument("--base-python", type=python_executable, default=sys.executable,
                        help="the base side's Python (default: this one)")  # fmt: skip
    parser.add_argument("--head", default=".", help="the candidate's source tree (default: the current folder)")
    add_ab_flags(parser, SuiteSettings)  # --profile, --models, --seeds, ...: the suite's own settings
    parser.add_argument(
        "--groups", type=_timed_groups, default=tuple(GROUPS.names(timed=True)),
        help=f"timed groups to compare (default: {default_groups})",
    )  # fmt: skip
    parser.add_argument("--pairs", type=_pairs, help="the fixed design: this many pairs of every benchmark")
    parser.add_argument("--max-pairs", type=_pairs, default=16, help="the sequential design's cap (default: 16)")
    parser.add_argument(
        "--min-pairs", type=_pairs, help="pairs before the first look (default: 5, or the cap if lower)"
    )
    parser.add_argument("--restart-every", type=positive_int, default=4,
                        help="replace both sides' processes every N pairs (default: 4)")  # fmt: skip
    parser.add_argument("--threshold", type=positive_percent, default=0.10,
                        help="a slowdown that matters (default: 10%%)")  # fmt: skip
    parser.add_argument("--alpha", type=parse_alpha, default=0.05,
                        help="the gate's false-alarm rate for the suite, 0 < alpha < 1 (default: 0.05)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed of the random block order (default: 0)")
    parser.add_argument("--out", type=out_folder, default="reports/ab",
                        help="folder for base.json, head.json, ab.csv, ab.md")  # fmt: skip
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with interruptible():
        return _run(args)


MIN_PAIRS = 5


def min_pairs(args: argparse.Namespace, error: type[Exception]) -> int:
    """``--min-pairs``, at most the cap when left to its default; one given above ``--max-pairs`` is ``error``."""
    if args.min_pairs is None:
        return min(MIN_PAIRS, args.max_pairs)
    if args.min_pairs > args.max_pairs:
        raise error(f"--min-pairs {args.min_pairs} is above --max-pairs {args.max_pairs}: the first look comes after "
                    "the cap; lower --min-pairs or raise --max-pairs")  # fmt: skip
    return args.min_pairs


def _run(args: argparse.Namespace) -> int:
    from ..bench.settings import default_cache_dir
    from .coordinator import ABError, Side, base_tree, run_ab
    from .paired import Design

    # both sides share one weight cache (this side's default), so that neither retrains what the other has
    cache_dir = str(Path(args.cache_dir).expanduser() if args.cache_dir else default_cache_dir())
    settings = read_ab_flags(args, SuiteSettings, cache_dir=cache_dir)
    try:
        design = (
            Design(max_pairs=args.pairs, alpha=args.alpha, fixed=True)
            if args.pairs
            else Design(max_pairs=args.max_pairs, min_pairs=min_pairs(args, ABError), alpha=args.alpha)
        )
        head = Path(args.head).resolve()
        if not (head / "mnist_models").is_dir():
            raise ABError(f"--head {args.head}: no mnist_models package in that folder")
        with base_tree(args.base, head) as base:
            comparison = run_ab(settings, list(args.groups), Side("base", base, args.base_python),
                                Side("head", head, sys.executable), design, args.threshold, Path(args.out), args.seed,
                                args.restart_every)  # fmt: skip
    except ABError as exc:
        print(f"mnist-models ab: error: {exc}", file=sys.stderr)
        return 2
    return report(comparison, design, args, f"head {head} against base {args.base}")


def report(comparison, design, args: argparse.Namespace, title: str) -> int:
    """``ab.csv``, ``pairs.csv`` and ``ab.md``, the terminal's lines, and the exit code."""
    from ..files import atomic_write_bytes
    from .paired import OPEN, conclude, failures, markdown, pairs_table, table_of

    verdicts = conclude(comparison.rows, design, args.threshold)
    out = Path(args.out)
    atomic_write_bytes(out / "ab.csv", table_of(verdicts).to_csv(index=False).encode())
    atomic_write_bytes(out / "pairs.csv", pairs_table(comparison.medians).to_csv(index=False).encode())
    lines = markdown(verdicts, title, design, args.threshold, args.slowdown)
    atomic_write_bytes(out / "ab.md", ("\n".join(lines) + "\n").encode())
    print("\n".join(lines[2:]))
    print(f"[ab] {comparison.pairs} pairs at most, {comparison.processes} process(es) per side; written: "
          f"{out / 'base.json'}, {out / 'head.json'}, {out / 'ab.csv'}, {out / 'pairs.csv'}, {out / 'ab.md'}")  # fmt: skip
    failed = failures(verdicts, args.threshold, args.alpha)
    if failed:
        print("A/B gate FAILED:", *(f"  {line}" for line in failed), sep="\n")
        return 1
    still = [v for v in verdicts if v.verdict in OPEN]
    note = f"; {len(still)} left open (their detectable slowdown in ab.md)" if len(still) else ""
    print(f"A/B gate: no benchmark slower than +{args.threshold:.0%} beyond the noise{note}")
    return 0


def add_bisect_parser(sub) -> None:
    parser = sub.add_parser(
        "bisect",
        help="the first commit between --good and --bad whose slowdown (or accuracy drop) is significant",
        description="Binary search over the first-parent commits after --good up to --bad: each probe is an A/B "
        "comparison against --good on the chosen benchmarks (or, with --accuracy, the probe's weights trained "
        "afresh and compared by McNemar's test); a commit that does not build or import is skipped and named; the "
        "commit found is confirmed against its parent. Each probe's ab.md is kept under --out, with bisect.md. "
        "Exit codes: 0 a commit was named and confirmed, 1 none could be (every candidate skipped, or the one found "
        "was not slower than its parent), 2 bad input (refs, or a --good that does not run), 130 on SIGINT and 143 on "
        "SIGTERM (the workers stopped, the worktrees removed, no commit named).",
    )
    parser.add_argument("--good", required=True, help="a commit, branch or tag without the regression")
    parser.add_argument("--bad", required=True, help="a later commit with it (on --good's first-parent line)")
    parser.add_argument("--repo", type=existing_folder, default=".",
                        help="the git repository (default: the current folder)")  # fmt: skip
    add_ab_flags(parser, SuiteSettings)
    parser.add_argument("--groups", type=_timed_groups, default=tuple(GROUPS.names(timed=True)),
                        help="timed groups to compare")  # fmt: skip
    parser.add_argument("--benchmarks", type=split_names, default=(), metavar="PATTERNS",
                        help="fnmatch patterns of the benchmarks that regressed, e.g. 'latency/mlp_64-*' (default: all)")  # fmt: skip
    parser.add_argument("--max-pairs", type=_pairs, default=16, help="each probe's cap on pairs (default: 16)")
    parser.add_argument(
        "--min-pairs", type=_pairs, help="pairs before a probe's first look (default: 5, or the cap if lower)"
    )
    parser.add_argument("--restart-every", type=positive_int, default=4,
                        help="replace both sides' processes every N pairs (default: 4)")  # fmt: skip
    parser.add_argument("--threshold", type=positive_percent, default=0.10,
                        help="a slowdown that matters (default: 10%%)")  # fmt: skip
    parser.add_argument("--alpha", type=parse_alpha, default=0.05,
                        help="each probe's false-alarm rate, 0 < alpha < 1 (default: 0.05)")  # fmt: skip
    parser.add_argument("--accuracy", metavar="PP", type=positive_float,
                        help="bisect an accuracy drop of more than PP points instead (McNemar on the test images)")  # fmt: skip
    parser.add_argument("--out", type=out_folder, default="reports/bisect", help="folder for the probes and bisect.md")
    parser.set_defaults(func=run_bisect)


def run_bisect(args: argparse.Namespace) -> int:
    with interruptible():
        return _run_bisect(args)


def _run_bisect(args: argparse.Namespace) -> int:
    from ..bench.settings import default_cache_dir
    from ..report.gate import GateRule
    from .bisect import BisectError, commits_between, search, short, summary, write_summary
    from .paired import Design
    from .probes import AccuracyProbe, TimeProbe

    repo, out = Path(args.repo).resolve(), Path(args.out)
    cache_dir = str(Path(args.cache_dir).expanduser() if args.cache_dir else default_cache_dir())
    settings = read_ab_flags(args, SuiteSettings, cache_dir=cache_dir)
    try:
        good, bad, commits = commits_between(repo, args.good, args.bad)
        if args.accuracy is not None:
            probe = AccuracyProbe(repo, settings, GateRule.parse(f"accuracy:{args.accuracy:g}pp"), out)
            what = f"test accuracy dropping more than {args.accuracy:g} points"
        else:
            # a probe is bad or good: one stopped as undecidable would pass as good and send the search the wrong way,
            # so a probe measures an open benchmark up to the cap
            design = Design(max_pairs=args.max_pairs, min_pairs=min_pairs(args, BisectError), alpha=args.alpha,
                            undecidable=False)  # fmt: skip
            probe = TimeProbe(repo, settings, list(args.groups), args.benchmarks, design, args.threshold, out,
                              args.restart_every)  # fmt: skip
            what = f"slower than +{args.threshold:.0%} on {', '.join(args.benchmarks) or 'every benchmark'}"
        print(f"[bisect] {len(commits)} commit(s) after {short(good)} up to {short(bad)}: {what}")
        found, probes = search(commits, lambda commit: probe(commit, good))
        confirm = None
        if found is not None:
            parent = commits[commits.index(found) - 1] if commits.index(found) > 0 else good
            confirm = probe(found, parent)
            print(f"[bisect] {short(found)} against its parent {short(parent)}: {confirm.verdict} ({confirm.detail})")
    except BisectError as exc:
        print(f"mnist-models bisect: error: {exc}", file=sys.stderr)
        return 2
    except Interrupted as stop:
        stop.done.append("no commit named, bisect.md not written")
        raise
    write_summary(out, summary(good, bad, found, probes, confirm, what))
    print(f"[bisect] written: {out / 'bisect.md'}")
    if found is None:
        return 1
    confirmed = confirm is not None and confirm.verdict == "bad"
    print(f"first bad commit: {found}" + ("" if confirmed else " (NOT confirmed against its parent)"))
    return 0 if confirmed else 1
