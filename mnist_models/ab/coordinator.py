"""Run both sides of an A/B comparison in alternation and write what they measured.

Design after duet benchmarking (Bulej et al. 2020) and randomized multiple interleaved
trials (Abedi & Brecht 2017): one machine, both versions alive at once, their blocks of
rounds alternating in a random order within each pair, so a drift or a noisy neighbour
lands on both sides alike and cancels in each pair's ratio.
"""

from __future__ import annotations

import contextlib
import copy
import fnmatch
import json
import random
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from statistics import median

from ..bench.profiles import PROFILES
from ..bench.settings import SuiteSettings
from ..files import Interrupted, atomic_write_bytes
from ..installed import tree_environment
from ..results.groups import GROUPS
from .paired import Design, Verdict, decide
from .protocol import Protocol, spoken

# Both sides get glibc malloc with fixed thresholds: by default the mmap threshold moves with a
# process's history, and one side could serve its activations from fresh (page-faulting) mmaps
# while the other reused its heap (measured: batch-512 CNN throughput 10-26% apart between two
# identical sides, in the same direction in 4 of 4 comparisons; 2-8% with these settings).
MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(64 << 20), "MALLOC_TRIM_THRESHOLD_": str(256 << 20)}


class ABError(Exception):
    """Bad input or a side that failed: the message says which and why (exit code 2)."""


class SideError(ABError):
    """One side failed: its worker refused the settings, or died; ``side`` says which ("base" or "head")."""

    def __init__(self, side: str, message: str) -> None:
        super().__init__(message)
        self.side = side


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
        env = {**MALLOC, **tree_environment(side.tree)}  # its own tree's code and entry points
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
        self.facts: dict = {}
        try:
            self._send({**message, "side": side.name})
        except BaseException:  # an interrupt before the caller holds this worker: stop it here
            self.close()
            raise

    def _send(self, message: dict) -> bool:
        try:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
            return True
        except (BrokenPipeError, OSError):
            return False

    def reply(self, doing: str) -> dict:
        """The next answer of the side; its death, as a ``SideError`` saying what it was doing."""
        line = self.process.stdout.readline()
        if not line:
            raise SideError(self.side.name, self._died(doing))
        return json.loads(line)

    def ready(self) -> dict:
        """Wait for the side to start: what it will measure (benchmarks, data, profile, versions)."""
        self.facts = self.reply("starting")
        if "error" in self.facts:
            raise SideError(
                self.side.name,
                f"the {self.side.name} side (tree {self.side.tree}) refused the settings: {self.facts['error']}",
            )
        return self.facts

    def ask(self, message: dict, doing: str) -> dict:
        self.send(message, doing)
        return self.reply(doing)

    def send(self, message: dict, doing: str) -> None:
        """``message`` sent without waiting for the answer (read it with ``reply``)."""
        if not self._send(message):
            raise SideError(self.side.name, self._died(doing))

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
    with worktree(repo, found.stdout.strip(), "mnist-ab-base-", ABError) as folder:
        yield folder


@contextlib.contextmanager
def worktree(repo: Path, commit: str, prefix: str, error: type[Exception]) -> Iterator[Path]:
    """``commit`` checked out in a temporary git worktree, removed afterwards, after an interrupt too (which
    then says so); a checkout that fails raises ``error``."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    stop = None
    try:
        added = subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(folder), commit], cwd=repo,
                               capture_output=True, text=True)  # fmt: skip
        if added.returncode != 0:
            raise error(f"git worktree add {commit}: {added.stderr.strip() or added.stdout.strip()}")
        yield folder
    except Interrupted as exc:
        stop = exc
        raise
    finally:
        said = remove_worktree(repo, folder)
        if stop is not None:
            stop.done.append(said)


def remove_worktree(repo: Path, folder: Path) -> str:
    """``folder`` and git's record of it gone (a half-made worktree too); what became of it, in words."""
    subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=repo, capture_output=True)
    shutil.rmtree(folder, ignore_errors=True)  # not a worktree yet (interrupted while it was added), or left files
    subprocess.run(["git", "worktree", "prune"], cwd=repo, capture_output=True)
    return f"worktree {folder} NOT removed: remove it by hand" if folder.exists() else f"worktree {folder} removed"


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


@dataclass
class Comparison:
    """What an A/B comparison measured: each side's block medians per benchmark (pair by pair), the verdicts."""

    medians: dict[str, dict[str, list]]  # base and head: block medians; process: each pair's worker pair (from 0)
    rows: dict[str, Verdict]
    pairs: int  # the pairs the comparison ran (the most any benchmark had)
    processes: int  # worker processes each side started (a fresh pair of them every ``restart_every`` pairs)


class _Sides:
    """Both sides' workers, replaced on request; each process's run is kept, so that the sides' runs hold every
    block of the comparison."""

    def __init__(self, settings: SuiteSettings, groups: list[str], base: Side, head: Side, say) -> None:
        self.settings, self.groups, self.sides, self.say = settings, groups, (base, head), say
        self.workers: dict[str, Worker] = {}
        self.runs: dict[str, list[dict]] = {"base": [], "head": []}
        self.peaks: dict[str, dict | None] = {}  # each side's first process's peaks, given to its replacements
        self.started = 0
        self.together = False  # whether the workers running now started (and so may finish) at once

    @property
    def offered(self) -> list[str]:
        return self.workers["base"].facts["cases"] if self.workers else []

    def start(self) -> dict:
        """Both sides' workers: the first pair one at a time (each measures its matmul peaks alone); a replacement
        pair at once, each taking its side's first peaks (``Protocol.GIVEN_PEAKS`` on both sides: an older worker
        says no peaks when it finishes, so its side's replacements measure their own)."""
        together = self.together = all(self.peaks.get(side.name) for side in self.sides)
        for side in self.sides:
            self.say(f"[ab] starting the {side.name} side: {side.tree}")
            side_settings = self.settings if side.name == "head" else replace(self.settings, slowdown=0.0)
            message = {**_message(side_settings, self.groups), "peaks": self.peaks.get(side.name)}
            self.workers[side.name] = Worker(side, message)
            if not together:
                self.workers[side.name].ready()
        if together:
            for worker in self.workers.values():
                worker.ready()
        _check_same(self.workers["base"].facts, self.workers["head"].facts)
        self.started += 1
        return self.workers["base"].facts

    @property
    def replaceable(self) -> bool:
        """Whether both sides' workers can be replaced mid-way (an older tree's worker cannot: it would write a
        run of benchmarks it never timed)."""
        return all(spoken(w.facts) >= Protocol.REPLACEABLE for w in self.workers.values())

    def collect(self) -> None:
        """Each side's run so far (its blocks since it started), then its process closed. The first processes
        finish one at a time (each measures its end-of-run peak alone); replacements, given their peaks, at once."""
        if self.together:
            for worker in self.workers.values():
                worker.send({"finish": True}, "writing its run")
        for name, worker in self.workers.items():
            answer = (
                worker.reply("writing its run") if self.together else worker.ask({"finish": True}, "writing its run")
            )
            self.runs[name].append(answer["run"])
            self.peaks.setdefault(name, answer.get("peaks"))  # an older worker says none: its replacement measures
        self.close()

    def close(self) -> None:
        for worker in self.workers.values():
            worker.close()
        self.workers = {}


def matching(benchmarks: list[str], patterns: tuple[str, ...]) -> list[str]:
    """The benchmark ids (``latency/mlp_64-seed0``) matching any of ``patterns`` (all without any)."""
    return [b for b in benchmarks if not patterns or any(fnmatch.fnmatchcase(b, p) for p in patterns)]


def _pair(sides: _Sides, benchmarks: list[str], rounds: dict[str, int], order: random.Random, pair: int,
          medians: dict) -> None:  # fmt: skip
    """One pair of blocks of every benchmark still measured, in a random order, each side's block in a random order."""
    for bench in order.sample(benchmarks, len(benchmarks)):
        group = GROUPS.get(bench.split("/")[0])
        request = {"case": bench, "rounds": rounds[group.name]}
        blocks: dict[str, list[float]] = {"base": [], "head": []}
        for _ in range(group.ab_blocks):  # each block of one side next to one of the other, in a random order
            for name in order.sample(["base", "head"], 2):
                times = sides.workers[name].ask(request, f"timing {bench} in pair {pair}")["times"]
                blocks[name].append(median(times))
        for name, block_medians in blocks.items():
            medians[name][bench].append(median(block_medians))


def run_ab(settings: SuiteSettings, groups: list[str], base: Side, head: Side, design: Design, threshold: float,
           out: Path, seed: int = 0, restart_every: int = 4, only: tuple[str, ...] = (), say=print) -> Comparison:  # fmt: skip
    """Measure both sides in interleaved pairs of blocks, deciding each benchmark as ``design`` allows, replacing
    both sides' processes every ``restart_every`` pairs (each process keeps its luck: memory layout, thread
    placement; replaced, the luck is drawn again and lands in the pair-to-pair noise the verdict covers). Writes
    ``base.json`` and ``head.json`` into ``out`` once both are complete. ``settings.slowdown`` is injected into
    the head's timed calls only; ``only``: fnmatch patterns of the benchmarks to measure (all without any)."""
    profile = PROFILES[settings.profile]
    sides = _Sides(settings, groups, base, head, say)
    complete = 0  # pairs measured in full, said if an interrupt stops the comparison
    try:
        benchmarks = matching(sides.start()["cases"], only)
        if not benchmarks:
            raise ABError(f"no benchmark matches {', '.join(only)}; the sides offer {', '.join(sides.offered)}")
        rounds = {g: rounds_per_block(profile, g, design.max_pairs) for g in groups}
        medians: dict[str, dict[str, list]] = {side: {b: [] for b in benchmarks} for side in ("base", "head")}
        medians["process"] = {b: [] for b in benchmarks}  # pairs that share a worker pair are not independent
        order, decided, rows, processes = random.Random(seed), {}, {}, []
        for pair in range(1, design.max_pairs + 1):
            measured = [b for b in benchmarks if b not in decided]
            if pair > 1 and (pair - 1) % restart_every == 0 and sides.replaceable:
                sides.collect()
                sides.start()
            say(f"[ab] pair {pair}/{design.max_pairs}: {len(measured)} of {len(benchmarks)} benchmarks still open")
            _pair(sides, measured, rounds, order, pair, medians)
            processes.append(sides.started - 1)  # the worker pair this pair ran in (from 0)
            for bench in measured:
                medians["process"][bench].append(sides.started - 1)
            complete = pair
            if design.looks_at(pair):
                rows = decide(medians["base"], medians["head"], design, threshold, decided, processes)
                decided.update({b: r for b, r in rows.items() if r.verdict != "open"})
                if len(decided) == len(benchmarks):
                    break
        sides.collect()
    except Interrupted as stop:
        sides.close()
        stop.done.append(f"workers stopped after {complete} complete pair(s), nothing gated or written")
        raise
    finally:
        sides.close()
    _write_runs(sides.runs, out, base, head, design, seed, sides.started)
    return Comparison(medians, rows, max(len(v) for v in medians["base"].values()), sides.started)


def _write_runs(runs: dict[str, list[dict]], out: Path, base: Side, head: Side, design: Design, seed: int,
                processes: int) -> None:  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    for name, parts in runs.items():
        run = merge_process_runs(parts)
        run["machine_info"]["mnist_models"]["ab"] = {
            "side": name,
            "pairs": design.max_pairs,
            "design": "fixed" if design.fixed else f"sequential, {design.min_pairs} to {design.max_pairs} pairs",
            "processes": processes,
            "seed": seed,
            "tree": str(base.tree if name == "base" else head.tree),
        }
        atomic_write_bytes(out / f"{name}.json", json.dumps(run, indent=4).encode())


def merge_process_runs(parts: list[dict]) -> dict:
    """One side's runs, one per process, as one run: every benchmark's times from all of them (its stats
    recomputed by pytest-benchmark's own ``Stats``), the last process's records and machine info."""
    from pytest_benchmark.stats import Stats

    run = copy.deepcopy(parts[-1])
    times: dict[str, list[float]] = {}
    for part in parts:
        for bench in part["benchmarks"]:
            times.setdefault(bench["name"], []).extend(bench["stats"].get("data", []))
    for bench in run["benchmarks"]:
        stats = Stats()
        for duration in times.get(bench["name"], []):
            stats.update(duration)
        bench["stats"] = {**stats.as_dict(), "data": times.get(bench["name"], [])}
    return run
