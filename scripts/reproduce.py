"""Re-make a committed report from its run, and (``--measure``) the run from the command that made it.

    python scripts/reproduce.py reports/NAME            # rebuild the report into a scratch folder, compare
    python scripts/reproduce.py reports/NAME --write    # rebuild it in place
    python scripts/reproduce.py reports/NAME --measure  # re-run the recorded command at the recorded commit first

A committed report is a folder holding the pytest-benchmark run it was made from (``NNNN_*.json``);
the run records its commit (``commit_info``) and the command that made it
(``machine_info.mnist_models.command``). Rebuilding runs ``mnist-models report`` on the run with
today's code and compares every table (the CSV and JSON data files, and the tables of
``summary.md``) with the committed ones, byte for byte; exit 1 names the files that differ.
``--measure`` checks the recorded commit out in a temporary worktree, runs the recorded command
there (a new run, on this machine, now: its times are this machine's) and reports on it.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mnist_models.results.runs import load_run  # noqa: E402

DATA = ("*.csv", "insights.json")


def the_run(folder: Path) -> Path:
    runs = sorted(folder.glob("[0-9][0-9][0-9][0-9]_*.json"))
    if len(runs) != 1:
        raise SystemExit(f"reproduce: {folder} holds {len(runs)} runs (NNNN_*.json); a committed report holds one")
    return runs[0]


def rebuild(run: Path, out: Path) -> None:
    command = [sys.executable, "-m", "mnist_models", "report", str(run), "--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"reproduce: the report did not build:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def tables(markdown: str) -> str:
    """The tables of a summary.md (its sentences may name the machine or the time it was built on)."""
    return "\n".join(line for line in markdown.splitlines() if line.startswith("|"))


def differences(committed: Path, rebuilt: Path) -> list[str]:
    different = []
    for pattern in DATA:
        for path in sorted(committed.glob(pattern)):
            twin = rebuilt / path.name
            if not twin.is_file() or not filecmp.cmp(path, twin, shallow=False):
                different.append(path.name)
    summary = committed / "summary.md"
    if summary.is_file() and tables(summary.read_text()) != tables((rebuilt / "summary.md").read_text()):
        different.append("summary.md (its tables)")
    return different


def measure(run: Path, folder: Path) -> Path:
    """Run the recorded command at the recorded commit; return the new run's path."""
    recorded = load_run(run)
    commit = recorded.commit.get("id")
    command = recorded.machine.get("mnist_models", {}).get("command")
    if not commit or not command:
        raise SystemExit(f"reproduce: {run} records no commit or no command; it cannot be measured again")
    tree = Path(tempfile.mkdtemp(prefix="reproduce-"))
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(tree), commit], cwd=ROOT, check=True)
    try:
        argv = [a for a in shlex.split(command)[1:] if not re.match(r"--benchmark-(autosave|save|json)", a)]
        new = folder / "remeasured.json"
        subprocess.run([sys.executable, "-m", "pytest", *argv, f"--benchmark-json={new}"], cwd=tree, check=False,
                       env={**os.environ, "PYTHONPATH": str(tree)})  # fmt: skip
        return new
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--write", action="store_true", help="rebuild the report in place")
    parser.add_argument("--measure", action="store_true", help="re-run the recorded command at the recorded commit")
    args = parser.parse_args()
    run = the_run(args.folder)
    if args.measure:
        scratch = Path(tempfile.mkdtemp(prefix="reproduce-run-"))
        new = measure(run, scratch)
        rebuild(new, scratch / "report")
        print(f"reproduce: measured again into {new}; its report in {scratch / 'report'}")
        return 0
    if args.write:
        rebuild(run, args.folder)
        print(f"reproduce: {args.folder} rebuilt from {run.name}")
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        rebuild(run, Path(scratch))
        different = differences(args.folder, Path(scratch))
    if different:
        print(f"reproduce: {args.folder}: differ from a rebuild of {run.name}: {', '.join(different)}")
        return 1
    print(f"reproduce: {args.folder}: every table is what {run.name} gives today")
    return 0


if __name__ == "__main__":
    sys.exit(main())
