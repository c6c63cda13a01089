"""The ``--mnist-*`` options and ini keys: declared with their converters, read into ``SuiteSettings``, no torch.

Each value is converted where it is declared (``type=``), so a bad one is pytest's usage error
(exit code 4) naming the option; an ini key (``[tool.pytest.ini_options]`` of a project) gives
the default for its option, and the command line wins over it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from ..data.sources import DATASETS
from ..results.protocol import PRECISIONS
from ..training.distributed import launched_world
from .profiles import PROFILES
from .settings import (
    SuiteSettings,
    parse_dataset,
    parse_percent,
    parse_precision,
    parse_profile,
    parse_seeds,
    parse_shard,
    positive_float,
    positive_int,
    split_names,
    split_patterns,
)


@dataclass(frozen=True)
class _Option:
    flag: str
    help: str
    convert: Callable[[str], Any] | None = None
    metavar: str | None = None
    ini: bool = False  # also an ini key (mnist_<name>), read when the option is not given
    flag_only: bool = False  # store_true
    append: bool = False


def _profiles_help() -> str:
    return "; ".join(f"{name}: {profile.description}" for name, profile in PROFILES.items())


USER_OPTIONS = (
    _Option("--mnist-profile", f"the suite's profile (default: quick). {_profiles_help()}", parse_profile, "NAME",
            ini=True),
    _Option("--mnist-models", "comma-separated fnmatch patterns or parametric names, e.g. "
            "'mlp_*,cnn(channels=(16,32))' (default: every built-in model); repeatable", split_patterns, "PATTERNS",
            ini=True, append=True),
    _Option("--mnist-seeds", "seeds to train with: 0, 0,1,2 or 0-4 (default: 0)", parse_seeds, "SEEDS", ini=True),
    _Option("--mnist-device", "auto (default: CUDA, then MPS, then the CPU), cpu, cuda, cuda:N or mps", None,
            "DEVICE", ini=True),
    _Option("--mnist-dataset", f"one of {', '.join(DATASETS)} (default: mnist)", parse_dataset, "NAME", ini=True),
    _Option("--mnist-data-dir", "data root (default: $MNIST_MODELS_DATA or ~/.cache/mnist-models)", None, "DIR",
            ini=True),
    _Option("--mnist-cache-dir", "trained-weight cache (default: $MNIST_MODELS_CACHE or ~/.cache/mnist-models/weights)",
            None, "DIR", ini=True),
    _Option("--mnist-threads", "CPU threads for torch (default: torch's choice)", positive_int, "N", ini=True),
    _Option("--mnist-runtimes", "what runs the latency and throughput groups, comma-separated (default: eager)",
            split_names, "NAMES", ini=True),
    _Option("--mnist-precision", f"autocast precision for every model's training and timed inference: "
            f"{', '.join(PRECISIONS)} (default: each model's own, fp32 for all built-ins; fp16 needs CUDA or MPS)",
            parse_precision, "NAME"),
    _Option("--mnist-compile", "torch.compile the models for training and timed eager inference; compile time "
            "is recorded apart", flag_only=True),
    _Option("--mnist-rounds", "scale the profile's timed rounds, e.g. 2 for twice as many (default: 1); "
            "pytest-benchmark's --benchmark-min-rounds/--benchmark-max-time do not apply to the suite",
            positive_float, "SCALE"),
    _Option("--mnist-skip-mirrors", "do not try the dataset mirrors; take MNIST from the package index route",
            flag_only=True),
    _Option("--mnist-shard", "run shard K of N: a share of the (model, seed) cases balanced by estimated cost, every "
            "group of one case in the same shard; merge the shards' runs with `mnist-models merge`", parse_shard,
            "K/N"),
    _Option("--mnist-report", "where to write the report after a run that saves results (default: reports/<run>)",
            None, "DIR", ini=True),
    _Option("--mnist-no-report", "do not write a report after the run", flag_only=True),
    _Option("--mnist-self-contained-report", "write the report's index.html with its figures inside (one file "
            "a CI artifact or an e-mail can carry)", flag_only=True),
    _Option("--mnist-fail-on", "with --benchmark-compare: fail on accuracy:0.3pp (a significant drop beyond the "
            "threshold); repeatable. Gate time with `mnist-models ab`", None, "RULE", append=True),
)  # fmt: skip

MAINTAINER_OPTIONS = (
    _Option("--mnist-levers", "also run the 'levers' group: each engine setting (fused optimiser, channels-last, "
            "threads, ...) switched on and off, measured side by side", flag_only=True),
    _Option("--mnist-shard-times", "with --mnist-shard: balance the shards by each model's measured seconds in "
            "this earlier run (models it lacks: by estimated FLOPs)", None, "RUN.json"),
    _Option("--mnist-slowdown", "inject extra real work into every timed call, e.g. 25%% (a known slowdown, to "
            "measure a gate's power); recorded in every record and the machine info", parse_percent, "PCT"),
)  # fmt: skip


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def add_options(parser: pytest.Parser) -> None:
    """The options in two groups of ``pytest --help`` (users', maintainers'), and the ini keys."""
    for name, description, options in (
        ("mnist-models", "mnist-models benchmark suite", USER_OPTIONS),
        ("mnist-models-maintainers", "mnist-models, for measuring the suite itself", MAINTAINER_OPTIONS),
    ):
        group = parser.getgroup(name, description)
        for option in options:
            kwargs: dict[str, Any] = {"help": option.help, "dest": _dest(option.flag)}
            if option.flag_only:
                kwargs.update(action="store_true", default=False)
            else:
                kwargs.update(metavar=option.metavar, default=None, action="append" if option.append else "store")
                if option.convert is not None:
                    kwargs["type"] = option.convert
            group.addoption(option.flag, **kwargs)
            if option.ini:
                parser.addini(_dest(option.flag), f"default for {option.flag}: {option.help}", default="")


# pytest-benchmark's defaults (it keeps its times as validated strings): a value that differs was set by
# the user, and the suite times with its own rounds (pedantic), so it would be silently ignored.
_CALIBRATION = {"benchmark_min_rounds": 5, "benchmark_max_time": 1.0, "benchmark_min_time": 0.000005}


class SuiteOptions:
    """The command line and ini keys as given: ``settings``, plus what only the plugin uses."""

    def __init__(self, config: pytest.Config) -> None:
        values = {}
        for option in (*USER_OPTIONS, *MAINTAINER_OPTIONS):
            values[_dest(option.flag)] = _value(config, option)
        self.settings = SuiteSettings(
            profile=values["mnist_profile"] or "quick",
            models=tuple(p for group in values["mnist_models"] or () for p in group),
            seeds=values["mnist_seeds"] or (0,),
            device=values["mnist_device"] or "auto",
            dataset=values["mnist_dataset"] or "mnist",
            data_dir=values["mnist_data_dir"],
            cache_dir=values["mnist_cache_dir"],
            threads=values["mnist_threads"],
            skip_mirrors=values["mnist_skip_mirrors"],
            precision=values["mnist_precision"],
            compile=values["mnist_compile"],
            runtimes=values["mnist_runtimes"] or ("eager",),
            rounds=values["mnist_rounds"] or 1.0,
            levers=values["mnist_levers"],
            shard=values["mnist_shard"],
            shard_times=values["mnist_shard_times"],
            slowdown=values["mnist_slowdown"] or 0.0,
        )
        self.explicit = any(values[k] for k in ("mnist_models", "mnist_device", "mnist_precision", "mnist_runtimes"))
        self.report_dir = values["mnist_report"]
        self.no_report = values["mnist_no_report"]
        self.self_contained = values["mnist_self_contained_report"]
        self._check()
        self.fail_on = _parse_rules(values["mnist_fail_on"] or [])
        if self.fail_on and not config.getoption("benchmark_compare"):
            raise pytest.UsageError("--mnist-fail-on needs --benchmark-compare (the baseline run to gate against)")
        self.world = launched_world()
        if self.world.parallel and not self.world.is_main:
            # torchrun: every process trains; rank 0 alone saves the run, reports and gates
            config.option.benchmark_autosave = False
            config.option.benchmark_save = None
            config.option.benchmark_json = None
            self.no_report, self.fail_on = True, []
        self._resolved = None

    def _check(self) -> None:
        settings = self.settings
        if settings.shard_times and not settings.shard:
            raise pytest.UsageError("--mnist-shard-times needs --mnist-shard K/N (it balances the shards)")
        if self.report_dir and self.no_report:
            raise pytest.UsageError("--mnist-report and --mnist-no-report contradict each other; give one")

    def check_calibration(self, config: pytest.Config) -> None:
        """pytest-benchmark's calibration options do not apply to the suite's cases: refuse them, saying so."""
        changed = [name for name, default in _CALIBRATION.items() if float(config.getoption(name, default)) != default]
        if changed:
            flags = ", ".join("--" + name.replace("_", "-") for name in changed)
            raise pytest.UsageError(
                f"{flags}: the mnist-models suite times each benchmark with its profile's rounds (pedantic), "
                "so pytest-benchmark's calibration does not apply to it; use --mnist-rounds SCALE "
                "(e.g. 2 for twice the rounds) or --mnist-profile"
            )

    def resolve(self):
        """The resolved ``SuiteConfig`` (imports torch); ``pytest.UsageError`` on bad values."""
        if self._resolved is None:
            try:  # importing the session loads installed packages' models, which may clash or fail
                from .session import resolve

                self._resolved = resolve(self.settings)
            except ValueError as exc:  # SettingsError, or such a package's error naming it
                raise pytest.UsageError(str(exc)) from None
        return self._resolved


def _value(config: pytest.Config, option: _Option) -> Any:
    """The option's value: the command line's, else its ini key's (converted), else ``None``."""
    value = config.getoption(_dest(option.flag))
    if value not in (None, [], False) or not option.ini:
        return value
    text = str(config.getini(_dest(option.flag)) or "").strip()
    if not text:
        return value
    if option.convert is None:
        return [text] if option.append else text
    try:
        converted = option.convert(text)
    except argparse.ArgumentTypeError as exc:
        raise pytest.UsageError(f"ini key {_dest(option.flag)} = {text!r}: {exc}") from None
    return [converted] if option.append else converted


def _parse_rules(texts: list[str]) -> list:
    if not texts:
        return []
    from ..report.gate import GateRule

    try:
        return [GateRule.parse(t, option="--mnist-fail-on") for t in texts]
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
