"""The pytest plugin: ``--mnist-*`` options, session fixtures, parametrization and machine info.

Registered through the ``pytest11`` entry point, so it works from any project that
installs mnist-models. It does nothing unless a test asks for its fixtures.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import pytest

from .profiles import PROFILES

_CONFIG_KEY = pytest.StashKey["SuiteOptions"]()
_SUITE_KEY = pytest.StashKey[object]()


class SuiteOptions:
    """The command line as given, parsed cheaply (no torch import) and checked for usage errors."""

    def __init__(self, config: pytest.Config) -> None:
        get = config.getoption
        self.profile = PROFILES[get("mnist_profile")]
        self.patterns = _split_patterns(get("mnist_models") or [])
        self.seeds = _parse_seeds(get("mnist_seeds"))
        self.device_name = get("mnist_device")
        self.dataset = get("mnist_dataset")
        self.data_dir = Path(get("mnist_data_dir")).expanduser() if get("mnist_data_dir") else None
        self.cache_dir = get("mnist_cache_dir")
        self.threads = get("mnist_threads")
        self.offline = get("mnist_offline")
        if self.threads is not None and self.threads < 1:
            raise pytest.UsageError(f"--mnist-threads must be a positive integer, got {self.threads}")
        self._resolved = None

    def resolve(self):
        """Resolve models and device (imports torch); raises ``pytest.UsageError`` on bad values."""
        if self._resolved is None:
            from .cache import default_cache_dir
            from .device import resolve_device, set_threads
            from .registry import UnknownModelError, list_models, resolve_models
            from .suite import SuiteConfig

            try:
                device = resolve_device(self.device_name)
                if self.patterns:
                    specs = resolve_models(self.patterns)
                else:
                    specs = [s for s in resolve_models(list_models()) if not s.parametric]
            except (UnknownModelError, ValueError) as exc:
                raise pytest.UsageError(str(exc)) from None
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
            )
        return self._resolved


def _split_patterns(values: list[str]) -> list[str]:
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


def _parse_seeds(text: str) -> tuple[int, ...]:
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


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mnist-models", "mnist-models benchmark suite")
    group.addoption("--mnist-profile", choices=sorted(PROFILES), default="quick",
                    help="smoke (seconds), quick (default: every model in ~15 min on 2 CPU cores) or full (the notebook's protocol)")  # fmt: skip
    group.addoption("--mnist-models", action="append", metavar="PATTERNS",
                    help="comma-separated fnmatch patterns or parametric names, e.g. 'mlp_*,cnn(channels=(16,32))' (default: all built-in models)")  # fmt: skip
    group.addoption("--mnist-seeds", default="0", metavar="SEEDS", help="seeds to train with: 0, 0,1,2 or 0-4 (default: 0)")
    group.addoption("--mnist-device", default="auto", metavar="DEVICE", help="auto (default), cpu, cuda, cuda:N or mps")
    group.addoption("--mnist-dataset", choices=["mnist", "fashion-mnist"], default="mnist", help="dataset (default: mnist)")
    group.addoption("--mnist-data-dir", metavar="DIR", help="data root (default: $MNIST_MODELS_DATA or ~/.cache/mnist-models)")
    group.addoption("--mnist-cache-dir", metavar="DIR",
                    help="trained-weight cache (default: $MNIST_MODELS_CACHE or ~/.cache/mnist-models/weights)")  # fmt: skip
    group.addoption("--mnist-threads", type=int, metavar="N", help="CPU threads for torch (default: torch's choice)")
    group.addoption("--mnist-offline", action="store_true", help="do not try the dataset mirrors; use the offline route")


def pytest_configure(config: pytest.Config) -> None:
    options = SuiteOptions(config)
    config.stash[_CONFIG_KEY] = options
    explicit = any(config.getoption(name) not in (None, default) for name, default in
                   (("mnist_models", None), ("mnist_device", "auto")))  # fmt: skip
    if explicit:
        options.resolve()  # the user asked: check names and device before anything trains


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "mnist_case" not in metafunc.fixturenames:
        return
    suite_config = metafunc.config.stash[_CONFIG_KEY].resolve()
    cases = [(spec, seed) for spec in suite_config.specs for seed in suite_config.seeds]
    metafunc.parametrize("mnist_case", cases, ids=[f"{spec.display_name}-seed{seed}" for spec, seed in cases])


def _progress(config: pytest.Config):
    """A function printing one line to the terminal, through pytest's output capture."""
    if hasattr(config, "workerinput") or config.get_verbosity() < 0:
        return None
    capture = config.pluginmanager.getplugin("capturemanager")
    reporter = config.pluginmanager.getplugin("terminalreporter")
    if reporter is None:
        return None

    def say(message: str) -> None:
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line(f"[mnist] {message}")

    return say


@pytest.fixture(scope="session")
def mnist_config(pytestconfig: pytest.Config):
    """The resolved suite configuration (profile, models, seeds, device, paths)."""
    return pytestconfig.stash[_CONFIG_KEY].resolve()


@pytest.fixture(scope="session")
def mnist(mnist_config):
    """The dataset, loaded once, split and preprocessed, on the suite's device (a subset in ``smoke``)."""
    from .data import DataError, load_dataset

    try:
        data = load_dataset(mnist_config.dataset, mnist_config.data_dir, device=mnist_config.device, offline=mnist_config.offline)
    except DataError as exc:
        pytest.exit(f"mnist-models: cannot load the dataset:\n{exc}", returncode=pytest.ExitCode.USAGE_ERROR)
    subset = mnist_config.profile.subset
    return data.subset(*subset) if subset else data


@pytest.fixture(scope="session")
def mnist_suite(pytestconfig: pytest.Config, mnist_config, mnist):
    """The session's :class:`~mnist_models.suite.Suite`: weight cache, trained models, timed callables."""
    from .suite import Suite

    suite = Suite(mnist_config, mnist, on_progress=_progress(pytestconfig))
    pytestconfig.stash[_SUITE_KEY] = suite
    return suite


@pytest.fixture
def trained_model(mnist_case, mnist_suite):
    """Trained weights for this case's (architecture, seed): this session's, the disk cache's, or trained now."""
    spec, seed = mnist_case
    return mnist_suite.trained(spec, seed)


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    import torch

    from .suite import versions

    options = config.stash.get(_CONFIG_KEY, None)
    info = {**versions(), "threads": torch.get_num_threads(), "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None}  # fmt: skip
    if options is not None and options._resolved is not None:
        from .device import device_name

        info["device"] = str(options._resolved.device)
        info["device_name"] = device_name(options._resolved.device)
        info["profile"] = options._resolved.profile.name
    info["mnist_models"] = _package_version()
    info["hostname_cpu_count"] = os.cpu_count()
    machine_info["mnist_models"] = info


def _package_version() -> str:
    from . import __version__

    return __version__
