"""``mnist-models reproduce`` and ``mnist-models upgrade``: a committed report made again, a saved run made current.

A committed report is a folder holding the pytest-benchmark run it was made from (``NNNN_*.json``); the run
records its commit (``commit_info``) and the command that made it (``machine_info.mnist_models.command``).
``reproduce`` runs ``mnist-models report`` on that run with today's code and compares every table (the CSV and
JSON data files, and the tables of ``summary.md``) with the committed ones, byte for byte. ``--measure`` checks
the recorded commit out in a temporary worktree and runs the recorded command there first (a new run, on this
machine, now: its times are this machine's). ``upgrade`` rewrites a saved run in the current record schema.
Both keep the exit-code contract (docs/exit-codes.md): 0 done, 2 and one line for anything else.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from .installed import tree_environment
from .parse import existing_folder, out_file

DATA = ("*.csv", "insights.json")  # a report's data files, compared byte for byte


class _Refused(Exception):
    """What stops ``reproduce``: said in one line, exit 2."""


def add_reproduce_parser(sub) -> None:
    parser = sub.add_parser(
        "reproduce",
        help="rebuild a committed report from its run and compare every table (--measure: re-run it first)",
        description="Exit codes: 0 every table is what the run gives today (or --write/--measure done), 2 a table "
        "differs (the files named), a folder that does not hold exactly one run, a report that does not build, "
        "a run that records no commit or command.",
    )
    parser.add_argument("folder", type=existing_folder, metavar="DIR", help="a committed report, e.g. reports/seeds")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="rebuild the report in place")
    action.add_argument("--measure", action="store_true", help="re-run the recorded command at the recorded commit")
    parser.set_defaults(func=_reproduce)


def add_upgrade_parser(sub) -> None:
    parser = sub.add_parser(
        "upgrade",
        help="rewrite a saved run in the current record schema (each training outcome stored once)",
        description="Every record is read, validated and written back, so the numbers are the same; "
        "pytest-benchmark's own fields are untouched. Exit codes: 0 written, 2 a run that does not read.",
    )
    parser.add_argument("source", type=Path, metavar="OLD.json", help="the saved run to read")
    parser.add_argument("target", type=out_file, metavar="NEW.json", help="the file to write (may be OLD.json)")
    parser.set_defaults(func=_upgrade)


def _upgrade(args: argparse.Namespace) -> int:
    from .files import atomic_write_bytes
    from .results.record import SCHEMA, RunError
    from .results.runs import upgrade_document

    source, target = args.source, Path(args.target)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
        kept = upgrade_document(data, str(source))
    except (RunError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
        print(f"mnist-models upgrade: error: {source}: {exc}", file=sys.stderr)
        return 2
    size = source.stat().st_size
    atomic_write_bytes(target, json.dumps(data, indent=4).encode())
    print(f"{target}: {kept} records in schema {SCHEMA} ({size:,} -> {target.stat().st_size:,} bytes)")
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    try:
        run = _the_run(folder)
        if args.measure:
            scratch = Path(tempfile.mkdtemp(prefix="reproduce-run-"))
            new = _measure(run, scratch)
            _rebuild(new, scratch / "report")
            print(f"reproduce: measured again into {new}; its report in {scratch / 'report'}")
            return 0
        if args.write:
            _rebuild(run, folder)
            print(f"reproduce: {folder} rebuilt from {run.name}")
            return 0
        with tempfile.TemporaryDirectory() as scratch:
            _rebuild(run, Path(scratch))
            different = _differences(folder, Path(scratch))
        if different:
            raise _Refused(f"{folder}: differ from a rebuild of {run.name}: {', '.join(different)}")
    except _Refused as exc:
        print(f"mnist-models reproduce: error: {exc}", file=sys.stderr)
        return 2
    print(f"reproduce: {folder}: every table is what {run.name} gives today")
    return 0


def _the_run(folder: Path) -> Path:
    runs = sorted(folder.glob("[0-9][0-9][0-9][0-9]_*.json"))
    if len(runs) != 1:
        raise _Refused(f"{folder} holds {len(runs)} runs (NNNN_*.json); a committed report holds one")
    return runs[0]


def _rebuild(run: Path, out: Path) -> None:
    command = [sys.executable, "-m", "mnist_models", "report", str(run), "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise _Refused(f"the report of {run} did not build (exit {done.returncode}): {last}")


def _tables(markdown: str) -> str:
    """The tables of a summary.md (its sentences may name the machine or the time it was built on)."""
    return "\n".join(line for line in markdown.splitlines() if line.startswith("|"))


def _differences(committed: Path, rebuilt: Path) -> list[str]:
    different = []
    for pattern in DATA:
        for path in sorted(committed.glob(pattern)):
            twin = rebuilt / path.name
            if not twin.is_file() or not filecmp.cmp(path, twin, shallow=False):
                different.append(path.name)
    summary = committed / "summary.md"
    if summary.is_file() and _tables(summary.read_text()) != _tables((rebuilt / "summary.md").read_text()):
        different.append("summary.md (its tables)")
    return different


def _measure(run: Path, folder: Path) -> Path:
    """Run the recorded command at the recorded commit, in a worktree of the repository holding ``run``."""
    from .results.runs import load_run

    recorded = load_run(run)
    commit = recorded.commit.get("id")
    command = recorded.machine.get("mnist_models", {}).get("command")
    if not commit or not command:
        raise _Refused(f"{run} records no commit or no command; it cannot be measured again")
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=run.parent, capture_output=True, text=True)
    if top.returncode != 0:
        raise _Refused(f"{run} is not in a git repository; --measure checks its commit out from there")
    repo, tree = Path(top.stdout.strip()), Path(tempfile.mkdtemp(prefix="reproduce-"))
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(tree), commit], cwd=repo, check=True)
    try:
        argv = [a for a in shlex.split(command)[1:] if not re.match(r"--benchmark-(autosave|save|json)", a)]
        new = folder / "remeasured.json"
        subprocess.run([sys.executable, "-m", "pytest", *argv, f"--benchmark-json={new}"], cwd=tree, check=False,
                       env=tree_environment(tree))  # fmt: skip
        return new
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=repo, capture_output=True)
