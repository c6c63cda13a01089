"""``mnist-models ab``: the base and the head measured in alternation on this machine, then gated."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_GROUPS = "train-step,latency,throughput"


def add_ab_parser(sub) -> None:
    parser = sub.add_parser(
        "ab",
        help="paired, interleaved A/B timing of a base version against this tree, and a gate on it",
        description="Both versions run at once, each in its own long-lived worker importing its own code; their "
        "blocks of rounds alternate in a random order within each pair. Exit codes: 0 no case slower beyond the "
        "threshold, 1 the gate failed, 2 bad input or a side that failed (nothing is written then).",
    )
    parser.add_argument("--base", required=True, help="the baseline: a git ref of this repository, or a source tree")
    parser.add_argument("--base-python", default=sys.executable, help="the base side's Python (default: this one)")
    parser.add_argument("--head", default=".", help="the candidate's source tree (default: the current folder)")
    parser.add_argument("--profile", choices=["smoke", "quick", "full"], default="quick")
    parser.add_argument("--models", default="*", metavar="PATTERNS", help="as --mnist-models (default: all)")
    parser.add_argument("--seeds", default="0", help="as --mnist-seeds (default: 0)")
    parser.add_argument("--groups", default=DEFAULT_GROUPS, help=f"timed groups to compare (default: {DEFAULT_GROUPS})")
    parser.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default="mnist")
    parser.add_argument("--data-dir", help="data root (default: $MNIST_MODELS_DATA or ~/.cache/mnist-models)")
    parser.add_argument(
        "--cache-dir", help="weight cache (default: $MNIST_MODELS_CACHE or ~/.cache/mnist-models/weights)"
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, help="torch threads on both sides (default: torch's choice)")
    parser.add_argument("--pairs", type=int, default=8, help="pairs of blocks per case (default: 8)")
    parser.add_argument("--threshold", default="10%", help="a slowdown that matters (default: 10%%)")
    parser.add_argument(
        "--alpha", type=float, default=0.05, help="the gate's false-alarm rate for the suite (default: 0.05)"
    )
    parser.add_argument("--slowdown", default="0%", help="inject this much extra work into the head's timed calls")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random block order (default: 0)")
    parser.add_argument("--out", default="reports/ab", help="folder for base.json, head.json, ab.csv, ab.md")
    parser.set_defaults(func=run)


def _settings(args: argparse.Namespace) -> dict:
    import pytest

    from ..bench.cache import default_cache_dir
    from ..bench.groups import TIMED_GROUPS
    from ..bench.options import parse_fraction, parse_seeds, split_patterns

    groups = [g.strip() for g in args.groups.split(",") if g.strip()]
    unknown = sorted(set(groups) - set(TIMED_GROUPS))
    if unknown or not groups:
        raise ValueError(f"--groups: {unknown or 'none'}; A/B compares the timed groups {', '.join(TIMED_GROUPS)}")
    if args.pairs < 3:
        raise ValueError(f"--pairs {args.pairs}: at least 3 pairs are needed for an interval")
    try:
        return {
            "profile": args.profile,
            "models": split_patterns([args.models]),
            "seeds": list(parse_seeds(args.seeds)),
            "groups": groups,
            "dataset": args.dataset,
            "data_dir": args.data_dir,
            "cache_dir": str(Path(args.cache_dir).expanduser() if args.cache_dir else default_cache_dir()),
            "device": args.device,
            "threads": args.threads,
            "slowdown": parse_fraction(args.slowdown, "--slowdown"),
            "threshold": parse_fraction(args.threshold, "--threshold"),
        }
    except pytest.UsageError as exc:
        raise ValueError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from ..files import atomic_write_bytes
    from .coordinator import ABError, Side, base_tree, run_ab
    from .paired import compare_pairs, failures

    try:
        settings = _settings(args)
        head = Path(args.head).resolve()
        if not (head / "mnist_models").is_dir():
            raise ABError(f"--head {args.head}: no mnist_models package in that folder")
        with base_tree(args.base, head) as base:
            medians = run_ab(
                settings,
                Side("base", base, args.base_python),
                Side("head", head, sys.executable),
                args.pairs,
                Path(args.out),
                args.seed,
            )
    except (ABError, ValueError) as exc:
        print(f"mnist-models ab: error: {exc}", file=sys.stderr)
        return 2
    threshold = settings["threshold"]
    table = compare_pairs(medians["base"], medians["head"], threshold, args.alpha)
    failed = failures(table, threshold, args.alpha)
    out = Path(args.out)
    atomic_write_bytes(out / "ab.csv", table.to_csv(index=False).encode())
    lines = [
        f"# A/B: head {head} against base {args.base}",
        "",
        f"{args.pairs} pairs of interleaved blocks per case; slowdown = head/base block medians (geometric mean, "
        f"95% t interval); a case fails when its Holm-adjusted p < {args.alpha} and it is more than "
        f"{threshold:.0%} slower"
        + (f"; INJECTED slowdown on the head: +{settings['slowdown']:.0%}" if settings["slowdown"] else ""),
        "",
        "| case | slowdown | 95% interval | head faster in | Holm p | verdict |",
        "|---|---:|---|---:|---:|---|",
        *(
            f"| {r.case} | {r.ratio - 1:+.1%} | {r.ratio_low - 1:+.1%} to {r.ratio_high - 1:+.1%} | "
            f"{r.head_faster_pairs}/{r.pairs} | {r.holm_p:.2g} | {'FAILED' if r.failed else 'ok'} |"
            for r in table.itertuples()
        ),
    ]
    atomic_write_bytes(out / "ab.md", ("\n".join(lines) + "\n").encode())
    print("\n".join(lines[2:]))
    print(f"[ab] written: {out / 'base.json'}, {out / 'head.json'}, {out / 'ab.csv'}, {out / 'ab.md'}")
    if failed:
        print("A/B gate FAILED:", *(f"  {line}" for line in failed), sep="\n")
        return 1
    print(f"A/B gate: no case slower than +{threshold:.0%} beyond the noise")
    return 0
