"""The settings' one table (``bench.settings``) as pytest options and ini keys, and as ``mnist-models ab``'s flags.

Each value is converted where it is declared (``type=``), so a bad one is pytest's usage error
(exit code 4) naming the option, or argparse's (exit code 2) for ``mnist-models ab``; an ini key
(``[tool.pytest.ini_options]`` of a project) gives the default for its option, and the command
line wins over it. Imports no torch, nothing of the suite beyond its settings: pytest loads this
in every project that installs mnist-models.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import MISSING, Field
from typing import Any, TypeVar

import pytest

from .settings import MAINTAINERS, USERS, Option, declared

Settings = TypeVar("Settings")

PREFIX = "mnist"  # --mnist-<name> on pytest's command line, mnist_<name> as an ini key
HELP_GROUPS = {
    USERS: ("mnist-models", "mnist-models benchmark suite"),
    MAINTAINERS: ("mnist-models-maintainers", "mnist-models, for measuring the suite itself"),
}


def pytest_flag(item: Field) -> str:
    return f"--{PREFIX}-{item.name.replace('_', '-')}"


def ini_key(item: Field) -> str:
    return f"{PREFIX}_{item.name}"


def add_pytest_options(parser: pytest.Parser, *settings_classes: type) -> None:
    """Every declared field of ``settings_classes`` as a pytest option in its help group, and its ini key."""
    for settings_class in settings_classes:
        for item, option in declared(settings_class):
            group = parser.getgroup(*HELP_GROUPS[option.audience])
            group.addoption(pytest_flag(item), dest=ini_key(item), help=option.help, **_argparse_kwargs(option))
            if option.ini:
                parser.addini(ini_key(item), f"default for {pytest_flag(item)}: {option.help}", default="")


def _argparse_kwargs(option: Option) -> dict[str, Any]:
    if option.is_flag:
        return {"action": "store_true", "default": False}
    kwargs: dict[str, Any] = {"metavar": option.metavar, "default": None}
    kwargs["action"] = "append" if option.repeat else "store"
    if option.convert is not None:
        kwargs["type"] = option.convert
    return kwargs


def read_pytest_options(config: pytest.Config, settings_class: type[Settings]) -> Settings:
    """The settings as given: each field from the command line, else its ini key, else its declared default."""
    values = {}
    for item, option in declared(settings_class):
        value = _given(config, item, option)
        values[item.name] = _default(item) if value in (None, [], False) else _joined(value, option)
    return settings_class(**values)


def _given(config: pytest.Config, item: Field, option: Option) -> Any:
    value = config.getoption(ini_key(item))
    if value not in (None, [], False) or not option.ini:
        return value
    text = str(config.getini(ini_key(item)) or "").strip()
    if not text:
        return None
    try:
        converted = option.convert(text) if option.convert is not None else text
    except argparse.ArgumentTypeError as exc:
        raise pytest.UsageError(f"ini key {ini_key(item)} = {text!r}: {exc}") from None
    return [converted] if option.repeat else converted


def _joined(value: Any, option: Option) -> Any:
    """A repeated option's values as one tuple (each may itself be a tuple: comma-separated patterns)."""
    if not option.repeat:
        return value
    return tuple(part for given in value for part in (given if isinstance(given, tuple) else (given,)))


def _default(item: Field) -> Any:
    return item.default if item.default is not MISSING else item.default_factory()


def add_ab_flags(parser: argparse.ArgumentParser, settings_class: type) -> None:
    """The fields of ``settings_class`` marked ``ab`` as flags of an argparse parser (``--<name>``)."""
    for item, option in declared(settings_class):
        if not option.ab:
            continue
        kwargs = _argparse_kwargs(option)
        kwargs["help"] = f"as {pytest_flag(item)}: {option.help}"
        parser.add_argument(f"--{item.name.replace('_', '-')}", dest=item.name, **kwargs)


def read_ab_flags(args: argparse.Namespace, settings_class: type[Settings], **fixed: Any) -> Settings:
    """The settings from parsed ab flags (``fixed``: values the command sets itself)."""
    values = {}
    for item, option in declared(settings_class):
        value = getattr(args, item.name, None)
        values[item.name] = _default(item) if value in (None, [], False) else _joined(value, option)
    return settings_class(**{**values, **fixed})


# pytest-benchmark's defaults (it keeps its times as validated strings): a value that differs was set by
# the user, and the suite times with its own rounds (pedantic), so it would be silently ignored.
_CALIBRATION = {"benchmark_min_rounds": 5, "benchmark_max_time": 1.0, "benchmark_min_time": 0.000005}
_EXPLICIT = ("models", "device", "precision", "runtimes", "dataset")  # given, they are checked before anything trains


class SuiteOptions:
    """A pytest session's request: what to measure (``settings``), what to do after (``after``), the gate's rules.

    Made in every project that installs mnist-models, so it resolves nothing: ``resolve`` does, when the
    session collects a case of the suite or an option names something to check.
    """

    def __init__(self, config: pytest.Config) -> None:
        from .settings import AfterRun, SuiteSettings

        self.settings = read_pytest_options(config, SuiteSettings)
        self.after = read_pytest_options(config, AfterRun)
        defaults = SuiteSettings()
        self.explicit = any(getattr(self.settings, k) != getattr(defaults, k) for k in _EXPLICIT)
        if self.settings.shard_times and not self.settings.shard:
            raise pytest.UsageError("--mnist-shard-times needs --mnist-shard K/N (it balances the shards)")
        if self.after.report and self.after.no_report:
            raise pytest.UsageError("--mnist-report and --mnist-no-report contradict each other; give one")
        self.rules = _parse_rules(self.after.fail_on)
        if self.rules and not config.getoption("benchmark_compare"):
            raise pytest.UsageError("--mnist-fail-on needs --benchmark-compare (the baseline run to gate against)")
        self.no_report, self.is_main = self.after.no_report, True
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            self._leave_saving_to_rank_zero(config)
        self._plan = None

    def _leave_saving_to_rank_zero(self, config: pytest.Config) -> None:
        """torchrun: every process trains; rank 0 alone saves the run, reports and gates."""
        from ..training.distributed import launched_world

        if launched_world().is_main:
            return
        self.is_main = False
        config.option.benchmark_autosave = False
        config.option.benchmark_save = None
        config.option.benchmark_json = None
        self.no_report, self.rules = True, []

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
        """The session's ``SuitePlan`` (imports torch); ``pytest.UsageError`` on settings it cannot resolve."""
        if self._plan is None:
            try:  # importing the session loads installed packages' models, which may clash or fail to import
                from .session import resolve

                self._plan = resolve(self.settings)
            except ValueError as exc:  # SettingsError, or such a package's error naming it
                raise pytest.UsageError(str(exc)) from None
        return self._plan


def _parse_rules(texts: tuple[str, ...]) -> list:
    if not texts:
        return []
    from ..report.gate import GateRule

    try:
        return [GateRule.parse(t, option="--mnist-fail-on") for t in texts]
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
