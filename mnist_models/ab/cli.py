"""``mnist-models ab``: the base and the head measured in alternation on this machine, then gated."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..bench.options import add_ab_flags, read_ab_flags
from ..bench.settings import SuiteSettings
from ..parse import parse_percent, positive_int, split_names
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


def add_ab_parser(sub) -> None:
    default_groups = ",".join(GROUPS.names(timed=True))
    parser = sub.add_parser(
        "ab",
        help="paired, interleaved A/B timing of a base version against this tree, and a gate on it",
        description="Both versions run at once, each in its own long-lived worker importing its own code; their "
        "blocks of rounds alternate in a random order within each pair. Exit codes: 0 no benchmark slower beyond "
        "the threshold, 1 the gate failed, 2 bad input or a side that failed (nothing is written then).",
    )
    parser.add_argument("--base", required=True, help="the baseline: a git ref of this repository, or a source tree")
    parser.add_argument("--base-python", default=sys.executable, help="the base side's Python (default: this one)")
    parser.add_argument("--head", default=".", help="the candidate's source tree (default: the current folder)")
    add_ab_flags(parser, SuiteSettings)  # --profile, --models, --seeds, ...: the suite's own settings
    parser.add_argument(
        "--groups", type=_timed_groups, default=tuple(GROUPS.names(timed=True)),
        help=f"timed groups to compare (default: {default_groups})",
    )  # fmt: skip
    parser.add_argument("--pairs", type=_pairs, default=16, help="pairs of blocks per benchmark (default: 16)")
    parser.add_argument("--threshold", type=parse_percent, default=0.10, help="a slowdown that matters (default: 10%%)")
    parser.add_argument(
        "--alpha", type=float, default=0.05, help="the gate's false-alarm rate for the suite (default: 0.05)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random block order (default: 0)")
    parser.add_argument("--out", default="reports/ab", help="folder for base.json, head.json, ab.csv, ab.md")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..bench.cache import default_cache_dir
    from ..files import atomic_write_bytes
    from .coordinator import ABError, Side, base_tree, run_ab
    from .paired import compare_pairs, failures, markdown, pairs_table

    # both sides share one weight cache (this side's default), so that neither retrains what the other has
    cache_dir = str(Path(args.cache_dir).expanduser() if args.cache_dir else default_cache_dir())
    settings = read_ab_flags(args, SuiteSettings, cache_dir=cache_dir)
    try:
        head = Path(args.head).resolve()
        if not (head / "mnist_models").is_dir():
            raise ABError(f"--head {args.head}: no mnist_models package in that folder")
        with base_tree(args.base, head) as base:
            medians = run_ab(
                settings,
                list(args.groups),
                Side("base", base, args.base_python),
                Side("head", head, sys.executable),
                args.pairs,
                Path(args.out),
                args.seed,
            )
    except ABError as exc:
        print(f"mnist-models ab: error: {exc}", file=sys.stderr)
        return 2
    table = compare_pairs(medians["base"], medians["head"], args.threshold, args.alpha)
    failed = failures(table, args.threshold, args.alpha)
    out = Path(args.out)
    atomic_write_bytes(out / "ab.csv", table.to_csv(index=False).encode())
    atomic_write_bytes(out / "pairs.csv", pairs_table(medians).to_csv(index=False).encode())
    lines = markdown(table, f"head {head} against base {args.base}", args.pairs, args.threshold, args.alpha,
                     args.slowdown)  # fmt: skip
    atomic_write_bytes(out / "ab.md", ("\n".join(lines) + "\n").encode())
    print("\n".join(lines[2:]))
    print(
        f"[ab] written: {out / 'base.json'}, {out / 'head.json'}, {out / 'ab.csv'}, {out / 'pairs.csv'}, {out / 'ab.md'}"
    )
    if failed:
        print("A/B gate FAILED:", *(f"  {line}" for line in failed), sep="\n")
        return 1
    print(f"A/B gate: no benchmark slower than +{args.threshold:.0%} beyond the noise")
    return 0
