"""Run both sides of an A/B comparison in alternation and write what they measured.

Design after duet benchmarking (Bulej et al. 2020) and randomized multiple interleaved
trials (Abedi & Brecht 2017): one machine, both versions alive at once, their blocks of
rounds alternating in a random order within each pair, so a drift or a noisy neighbour
lands on both sides alike and cancels in each pair's ratio.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from statistics import median

from ..bench.profiles import PROFILES
from ..bench.settings import SuiteSettings
from ..files import atomic_write_bytes
from ..results.groups import GROUPS

# Both sides get glibc malloc with fixed thresholds: by default the mmap threshold moves with a
# process's history, and one side could serve its activations from fresh (page-faulting) mmaps
# while the other reused its heap (measured: batch-512 CNN throughput 10-26% apart between two
# identical sides, in the same direction in 4 of 4 comparisons; 2-8% with these settings).
MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(64 << 20), "MALLOC_TRIM_THRESHOLD_": str(256 << 20)}


class ABError(Exception):
    """Bad input or a side that failed: the message says which and why (exit code 2)."""


@dataclass(frozen=True)
class Side:
    name: str  # base or head
    tree: Path  # the source tree whose mnist_models this side imports
    python: str


class Worker:
    """A running side: a ``mnist_models.ab.worker`` process in its own tree."""

    def __init__(self, side: Side, message: dict) -> None:
        self.side = side
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115  (its stderr, read if it fails; closed in close)
        env = {
            **MALLOC,
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(side.tree), os.environ.get("PYTHONPATH", "")]),
        }
        self.process = subprocess.Popen(
            [side.python, "-m", "mnist_models.ab.worker"],
            cwd=side.tree,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            bufsize=1,
        )
        self._send({**message, "side": side.name})
        self.facts: dict = {}

    def _send(self, message: dict) -> bool:
        try:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
            return True
        except (BrokenPipeError, OSError):
            return False

    def _reply(self, doing: str) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise ABError(self._died(doing))
        return json.loads(line)

    def ready(self) -> dict:
        """Wait for the side to start: what it will measure (benchmarks, data, profile, versions)."""
        self.facts = self._reply("starting")
        if "error" in self.facts:
            raise ABError(
                f"the {self.side.name} side (tree {self.side.tree}) refused the settings: {self.facts['error']}"
            )
        return self.facts

    def ask(self, message: dict, doing: str) -> dict:
        if not self._send(message):
            raise ABError(self._died(doing))
        return self._reply(doing)

    def _died(self, doing: str) -> str:
        code = self.process.wait(timeout=60)
        self.log.seek(0)
        tail = "\n    ".join(self.log.read().strip().splitlines()[-6:])
        return (
            f"the {self.side.name} side (tree {self.side.tree}, {self.side.python}) exited with code {code} while "
            f"{doing}; nothing was written. Its last output:\n    {tail}"
        )

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.log):
            with contextlib.suppress(OSError):  # a pipe to a process that died may not flush
                stream.close()


@contextlib.contextmanager
def base_tree(base: str, repo: Path) -> Iterator[Path]:
    """``base`` as a source tree: a folder as given, else a git ref checked out in a temporary worktree."""
    if Path(base).is_dir():
        yield Path(base).resolve()
        return
    found = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"], cwd=repo, capture_output=True, text=True
    )
    if found.returncode != 0:
        raise ABError(f"--base {base!r} is neither a folder nor a commit, branch or tag of the repository at {repo}")
    folder = Path(tempfile.mkdtemp(prefix="mnist-ab-base-"))
    subprocess.run(
        ["git", "worktree", "add", "--detach", "--quiet", str(folder), found.stdout.strip()],
        cwd=repo,
        check=True,
        capture_output=True,
    )
    try:
        yield folder
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=repo, capture_output=True)


def _check_same(base: dict, head: dict) -> None:
    for key, what in (
        ("cases", "benchmarks"),
        ("dataset", "dataset"),
        ("checksum", "data (checksum)"),
        ("sizes", "split sizes"),
        ("profile", "profile"),
        ("profile_settings", "profile settings"),
    ):
        if base[key] != head[key]:
            raise ABError(
                f"the two sides do not measure the same thing: {what} differ (base {base[key]!r}, head {head[key]!r}); "
                "an A/B comparison needs the same benchmarks on the same data"
            )


def rounds_per_block(profile, group: str, pairs: int) -> int:
    """A side's rounds per block: the profile's rounds for the group, spread over the pairs."""
    return max(1, round(GROUPS.get(group).rounds_for(profile) / pairs))


def _message(settings: SuiteSettings, groups: list[str]) -> dict:
    """What a worker is sent: the settings, and the same as flat keys for a base tree of an older version."""
    flat = {k: v for k, v in settings.to_json().items() if k in ("profile", "models", "seeds", "dataset", "data_dir",
                                                                  "cache_dir", "device", "threads", "slowdown")}  # fmt: skip
    return {**flat, "settings": settings.to_json(), "groups": groups}


def run_ab(
    settings: SuiteSettings, groups: list[str], base: Side, head: Side, pairs: int, out: Path, seed: int = 0, say=print
) -> dict:
    """Measure both sides in ``pairs`` interleaved pairs of blocks; write ``base.json`` and ``head.json`` into
    ``out`` (only once both are complete) and return each side's block medians per benchmark.

    ``settings.slowdown`` is injected into the head's timed calls only."""
    profile = PROFILES[settings.profile]
    workers = {}
    try:
        for side in (base, head):  # one at a time: each measures its matmul peak alone
            say(f"[ab] starting the {side.name} side: {side.tree}")
            side_settings = settings if side is head else replace(settings, slowdown=0.0)
            workers[side.name] = Worker(side, _message(side_settings, groups))
            workers[side.name].ready()
        _check_same(workers["base"].facts, workers["head"].facts)
        benchmarks = workers["base"].facts["cases"]
        medians: dict[str, dict[str, list[float]]] = {side: {b: [] for b in benchmarks} for side in ("base", "head")}
        order = random.Random(seed)
        for pair in range(1, pairs + 1):
            say(f"[ab] pair {pair}/{pairs}: {len(benchmarks)} benchmarks, each side's block in a random order")
            for bench in order.sample(benchmarks, len(benchmarks)):
                group = GROUPS.get(bench.split("/")[0])
                request = {"case": bench, "rounds": rounds_per_block(profile, group.name, pairs)}
                blocks: dict[str, list[float]] = {"base": [], "head": []}
                for _ in range(group.ab_blocks):  # each block of one side next to one of the other, in a random order
                    for name in order.sample(["base", "head"], 2):
                        times = workers[name].ask(request, f"timing {bench} in pair {pair}")["times"]
                        blocks[name].append(median(times))
                for name, block_medians in blocks.items():
                    medians[name][bench].append(median(block_medians))
        runs = {name: workers[name].ask({"finish": True}, "writing its run")["run"] for name in ("base", "head")}
    finally:
        for worker in workers.values():
            worker.close()
    out.mkdir(parents=True, exist_ok=True)
    for name, run in runs.items():
        run["machine_info"]["mnist_models"]["ab"] = {
            "side": name,
            "pairs": pairs,
            "seed": seed,
            "tree": str(base.tree if name == "base" else head.tree),
        }
        atomic_write_bytes(out / f"{name}.json", json.dumps(run, indent=4).encode())
    return medians
