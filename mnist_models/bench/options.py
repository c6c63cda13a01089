"""The ``--mnist-*`` command-line options: declared, parsed cheaply (no torch) and resolved on demand."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ..training.distributed import launched_world
from .profiles import PROFILES
from .shards import parse_shard


class SuiteOptions:
    """The command line as given, parsed cheaply (no torch import) and checked for usage errors."""

    def __init__(self, config: pytest.Config) -> None:
        get = config.getoption
        self.profile = PROFILES[get("mnist_profile")]
        self.patterns = split_patterns(get("mnist_models") or [])
        self.seeds = parse_seeds(get("mnist_seeds"))
        self.device_name = get("mnist_device")
        self.dataset = get("mnist_dataset")
        self.data_dir = Path(get("mnist_data_dir")).expanduser() if get("mnist_data_dir") else None
        self.cache_dir = get("mnist_cache_dir")
        self.threads = get("mnist_threads")
        self.offline = get("mnist_offline")
        self.precision = get("mnist_precision")
        self.compile = get("mnist_compile")
        self.levers = get("mnist_levers")
        try:
            self.shard = parse_shard(get("mnist_shard")) if get("mnist_shard") else None
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
        self.shard_times = get("mnist_shard_times")
        self.slowdown = parse_fraction(get("mnist_slowdown") or "0%", "--mnist-slowdown")
        if self.shard_times and not self.shard:
            raise pytest.UsageError("--mnist-shard-times needs --mnist-shard K/N (it balances the shards)")
        if self.threads is not None and self.threads < 1:
            raise pytest.UsageError(f"--mnist-threads must be a positive integer, got {self.threads}")
        self.report_dir = get("mnist_report")
        self.no_report = get("mnist_no_report")
        if self.report_dir and self.no_report:
            raise pytest.UsageError("--mnist-report and --mnist-no-report contradict each other; give one")
        self.fail_on = _parse_rules(get("mnist_fail_on") or [])
        if self.fail_on and not get("benchmark_compare"):
            raise pytest.UsageError("--mnist-fail-on needs --benchmark-compare (the baseline run to gate against)")
        self.world = launched_world()
        if self.world.parallel and not self.world.is_main:
            # torchrun: every process trains; rank 0 alone saves the run, reports and gates
            config.option.benchmark_autosave = False
            config.option.benchmark_save = None
            config.option.benchmark_json = None
            self.no_report, self.fail_on = True, []
        self._resolved = None

    def resolve(self):
        """Resolve models and device (imports torch); raises ``pytest.UsageError`` on bad values."""
        if self._resolved is None:
            try:
                from .. import models  # noqa: F401  (registers the built-ins, then installed packages' models)
            except ValueError as exc:  # an installed package that clashes or fails to import
                raise pytest.UsageError(str(exc)) from None
            from ..models.registry import resolve_models
            from ..training.device import check_precision, resolve_device, set_threads
            from ..training.distributed import join
            from .cache import default_cache_dir
            from .config import SuiteConfig

            try:
                device = resolve_device(self.device_name)
                specs = resolve_models(self.patterns or ["*"])
                if self.precision:
                    check_precision(self.precision, device)
            except (KeyError, ValueError) as exc:  # KeyError: UnknownModelError, whose message lists the models
                raise pytest.UsageError(str(exc)) from None
            world, device = join(device)  # torchrun: one process group, this rank's device
            measured = _measured_seconds(self.shard_times) if self.shard_times else {}
            self._resolved = SuiteConfig(
                profile=self.profile,
                specs=tuple(specs),
                seeds=self.seeds,
                device=device,
                dataset=self.dataset,
                data_dir=self.data_dir,
                cache_dir=Path(self.cache_dir).expanduser() if self.cache_dir else default_cache_dir(),
                threads=set_threads(self.threads),
                offline=self.offline,
                precision=self.precision,
                compile=self.compile,
                shard=self.shard,
                world=world,
                measured_seconds=measured,
                slowdown=self.slowdown,
            )
        return self._resolved


def _measured_seconds(path: str) -> dict[str, float]:
    """Each model's timed seconds per seed in a previous run, to balance shards by."""
    import json

    from .config import seconds_per_case

    try:
        return seconds_per_case(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError) as exc:
        raise pytest.UsageError(
            f"--mnist-shard-times {path}: not a readable pytest-benchmark JSON run ({type(exc).__name__}: {exc})"
        ) from None


def _parse_rules(texts: list[str]) -> list:
    if not texts:
        return []
    from ..report.gate import GateRule

    try:
        return [GateRule.parse(t, option="--mnist-fail-on") for t in texts]
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


def parse_fraction(text: str, option: str) -> float:
    """``"25%"`` or ``"+25%"`` -> 0.25; a ``pytest.UsageError`` naming ``option`` otherwise."""
    match = re.fullmatch(r"\+?(\d+(?:\.\d+)?)%", text.strip())
    if not match:
        raise pytest.UsageError(f"{option}: {text!r} is not a percentage; use e.g. 25%")
    return float(match[1]) / 100


def split_patterns(values: list[str]) -> list[str]:
    """Split comma-separated patterns, keeping commas inside parentheses: ``mlp(depth=2,width=8),cnn_*``."""
    out = []
    for value in values:
        depth, current = 0, ""
        for char in value:
            depth += {"(": 1, ")": -1}.get(char, 0)
            if char == "," and depth == 0:
                out.append(current.strip())
                current = ""
            else:
                current += char
        out.append(current.strip())
    return [p for p in out if p]


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0"``, ``"0,1,2"`` or ``"0-4"`` (inclusive) into a tuple of distinct seeds."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise pytest.UsageError(f"--mnist-seeds: {part!r} is not a seed; use e.g. 0 or 0,1,2 or 0-4")
        low, high = int(match[1]), int(match[2] or match[1])
        if high < low:
            raise pytest.UsageError(f"--mnist-seeds: empty range {part!r}")
        seeds.extend(range(low, high + 1))
    if len(set(seeds)) != len(seeds):
        raise pytest.UsageError(f"--mnist-seeds: seed listed twice in {text!r}")
    return tuple(seeds)


def add_options(parser: pytest.Parser) -> None:
    """The ``--mnist-*`` options, in their own group of ``pytest --help``."""
    group = parser.getgroup("mnist-models", "mnist-models benchmark suite")
    group.addoption(
        "--mnist-profile",
        choices=sorted(PROFILES),
        default="quick",
        help="smoke (seconds), quick (default: every model in ~15 min on 2 CPU cores) or full (the notebook's protocol)",
    )
    group.addoption(
        "--mnist-models",
        action="append",
        metavar="PATTERNS",
        help="comma-separated fnmatch patterns or parametric names, e.g. 'mlp_*,cnn(channels=(16,32))' (default: all built-in models)",
    )
    group.addoption(
        "--mnist-seeds", default="0", metavar="SEEDS", help="seeds to train with: 0, 0,1,2 or 0-4 (default: 0)"
    )
    group.addoption("--mnist-device", default="auto", metavar="DEVICE", help="auto (default), cpu, cuda, cuda:N or mps")
    group.addoption(
        "--mnist-dataset", choices=["mnist", "fashion-mnist"], default="mnist", help="dataset (default: mnist)"
    )
    group.addoption(
        "--mnist-data-dir", metavar="DIR", help="data root (default: $MNIST_MODELS_DATA or ~/.cache/mnist-models)"
    )
    group.addoption(
        "--mnist-cache-dir",
        metavar="DIR",
        help="trained-weight cache (default: $MNIST_MODELS_CACHE or ~/.cache/mnist-models/weights)",
    )
    group.addoption("--mnist-threads", type=int, metavar="N", help="CPU threads for torch (default: torch's choice)")
    group.addoption(
        "--mnist-offline", action="store_true", help="do not try the dataset mirrors; use the offline route"
    )
    group.addoption(
        "--mnist-precision",
        choices=["fp32", "bf16", "fp16"],
        help="autocast precision for every model's training and timed inference "
        "(default: each model's own, fp32 for all built-ins; fp16 needs CUDA or MPS)",
    )
    group.addoption(
        "--mnist-compile",
        action="store_true",
        help="torch.compile the models for training and timed inference; compile time is recorded apart",
    )
    group.addoption(
        "--mnist-levers",
        action="store_true",
        help="also run the 'levers' group: each engine setting (fused optimiser, channels-last, threads, ...) "
        "switched on and off, measured side by side",
    )
    group.addoption(
        "--mnist-shard",
        metavar="K/N",
        help="run shard K of N: a share of the (model, seed) cases balanced by estimated cost, every group of one "
        "case in the same shard; merge the shards' runs with `mnist-models merge`",
    )
    group.addoption(
        "--mnist-shard-times",
        metavar="RUN.json",
        help="with --mnist-shard: balance the shards by each model's measured seconds in this earlier run "
        "(models it lacks: by estimated FLOPs, converted at its seconds per FLOP)",
    )
    group.addoption(
        "--mnist-slowdown",
        metavar="PCT",
        help="inject extra real work into every timed call, e.g. 25%% (a known slowdown, to measure a gate's power); "
        "recorded in every record and the machine info, so such a run never passes for a normal one",
    )
    group.addoption(
        "--mnist-report",
        metavar="DIR",
        help="where to write the report after a run that saves results (default: reports/<run name>)",
    )
    group.addoption("--mnist-no-report", action="store_true", help="do not write a report after the run")
    group.addoption(
        "--mnist-fail-on",
        action="append",
        metavar="RULE",
        help="with --benchmark-compare: fail on accuracy:0.3pp or time:median:15%% against the baseline; repeatable",
    )
