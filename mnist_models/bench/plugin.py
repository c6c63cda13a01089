"""The pytest plugin: ``--mnist-*`` options, session fixtures, parametrization and machine info.

Registered through the ``pytest11`` entry point, so it works from any project that
installs mnist-models. It costs nothing where unused: loading it imports no torch, and
nothing heavy happens (torch, the device, the models, machine facts, the report) until
the session collects a test that asks for ``mnist_case``, or an ``--mnist-*`` option
names models, a device or a precision to check.
"""

from __future__ import annotations

import contextlib
import re
import sys
from pathlib import Path

import pytest

from ..training.distributed import launched_world, leave
from .profiles import PROFILES
from .shards import parse_shard

_CONFIG_KEY = pytest.StashKey["SuiteOptions"]()
_JSON_KEY = pytest.StashKey[dict]()
_SUMMARY_KEY = pytest.StashKey[list]()
_PEAK_KEY = pytest.StashKey[float]()
_USED_KEY = pytest.StashKey[bool]()  # set once the session collects a case of the suite
LEVERS_MARK = "mnist_levers"


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
        self.precision = get("mnist_precision")
        self.compile = get("mnist_compile")
        self.levers = get("mnist_levers")
        try:
            self.shard = parse_shard(get("mnist_shard")) if get("mnist_shard") else None
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
        self.shard_times = get("mnist_shard_times")
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
            from ..training.device import resolve_device, set_threads
            from ..training.distributed import join
            from ..training.loop import check_precision
            from .cache import default_cache_dir
            from .session import SuiteConfig

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
            )
        return self._resolved


def _measured_seconds(path: str) -> dict[str, float]:
    """Each model's timed seconds per seed in a previous run, to balance shards by."""
    import json

    from .session import seconds_per_case

    try:
        return seconds_per_case(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError) as exc:
        raise pytest.UsageError(
            f"--mnist-shard-times {path}: not a readable pytest-benchmark JSON run ({type(exc).__name__}: {exc})"
        ) from None


def _parse_rules(texts: list[str]) -> list:
    if not texts:
        return []
    from ..report.compute import GateRule

    try:
        return [GateRule.parse(t) for t in texts]
    except ValueError as exc:
        raise pytest.UsageError(str(exc).replace("--fail-on", "--mnist-fail-on")) from None


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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{LEVERS_MARK}: the levers group; runs only with --mnist-levers")
    options = SuiteOptions(config)
    config.stash[_CONFIG_KEY] = options
    explicit = any(
        config.getoption(name) not in (None, default)
        for name, default in (("mnist_models", None), ("mnist_device", "auto"), ("mnist_precision", None))
    )
    if explicit:
        options.resolve()  # the user asked: check names and device before anything trains


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "mnist_case" not in metafunc.fixturenames:
        return
    metafunc.config.stash[_USED_KEY] = True
    suite_config = metafunc.config.stash[_CONFIG_KEY].resolve()
    cases = suite_config.cases
    metafunc.parametrize("mnist_case", cases, ids=[f"{spec.display_name}-seed{seed}" for spec, seed in cases])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the suite's cases in the order that trains before it measures trained weights; leave the
    levers group out unless ``--mnist-levers`` asked for it; under torchrun, every process but rank 0
    keeps only the ``train`` cases (which train together, under DDP)."""
    options = config.stash.get(_CONFIG_KEY, None)
    if options is None:
        return
    _train_first(items)

    def dropped_here(item: pytest.Item) -> bool:
        if options.world.parallel and not options.world.is_main and "mnist_case" in getattr(item, "fixturenames", ()):
            return getattr(item, "originalname", item.name) != "test_train"
        return not options.levers and item.get_closest_marker(LEVERS_MARK) is not None

    dropped = [item for item in items if dropped_here(item)]
    if dropped:
        items[:] = [item for item in items if not dropped_here(item)]
        config.hook.pytest_deselected(items=dropped)


CASE_ORDER = ("test_train", "test_train_step", "test_latency", "test_throughput", "test_engine", "test_levers")


def _train_first(items: list[pytest.Item]) -> None:
    """Reorder the suite's items in place, by case (``CASE_ORDER``), in the slots they already hold.

    However a test module imports the cases (``from mnist_models.bench.cases import *`` binds them
    alphabetically), each (model, seed) trains in its ``train`` case before any other case
    asks for its weights; other tests keep their places, and each case its parameter order.
    """
    slots = [i for i, item in enumerate(items) if "mnist_case" in getattr(item, "fixturenames", ())]

    def rank(item: pytest.Item) -> int:
        name = getattr(item, "originalname", item.name)
        return CASE_ORDER.index(name) if name in CASE_ORDER else len(CASE_ORDER)

    for slot, item in zip(slots, sorted((items[i] for i in slots), key=rank), strict=True):
        items[slot] = item


def _in_use(config: pytest.Config) -> bool:
    """Whether this session collected a case of the suite: the plugin stays silent otherwise."""
    return config.stash.get(_USED_KEY, False)


def _progress(config: pytest.Config):
    """A function printing one line to the terminal, through pytest's output capture (rank 0's only)."""
    if hasattr(config, "workerinput") or config.get_verbosity() < 0 or not launched_world().is_main:
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
def mnist(pytestconfig: pytest.Config, mnist_config):
    """The dataset, loaded once, split and preprocessed, on the suite's device (a subset in ``smoke``)."""
    from ..data.dataset import DataError, load_dataset

    try:
        data = load_dataset(
            mnist_config.dataset, mnist_config.data_dir, device=mnist_config.device, offline=mnist_config.offline
        )
    except DataError as exc:
        pytest.exit(f"mnist-models: cannot load the dataset:\n{exc}", returncode=pytest.ExitCode.USAGE_ERROR)
    say = _progress(pytestconfig)
    if say is not None:
        say(f"data: {data.name} from {data.source}, in {data.location}")
    subset = mnist_config.profile.subset
    return data.subset(*subset) if subset else data


@pytest.fixture(scope="session")
def mnist_suite(pytestconfig: pytest.Config, mnist_config, mnist):
    """The session's :class:`~mnist_models.bench.session.Suite`: weight cache, trained models, timed callables."""
    from .session import Suite

    # on a terminal a line every few seconds inside long epochs; in a CI log, one every half minute
    interval = 5.0 if sys.stdout.isatty() else 30.0
    suite = Suite(mnist_config, mnist, on_progress=_progress(pytestconfig), progress_interval_s=interval)
    pytestconfig.stash[_PEAK_KEY] = suite.peak_flops
    return suite


@pytest.fixture
def trained_model(mnist_case, mnist_suite):
    """Trained weights for this case's (architecture, seed): this session's, the disk cache's, or trained now."""
    spec, seed = mnist_case
    return mnist_suite.trained(spec, seed)


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """Static facts; the measured peak is added when the run is saved (see ``pytest_benchmark_update_json``)."""
    if _in_use(config):
        machine_info["mnist_models"] = _machine_facts(config)


def _machine_facts(config: pytest.Config) -> dict:
    import torch

    from .. import __version__
    from ..training.device import device_name
    from .session import versions

    options = config.stash.get(_CONFIG_KEY, None)
    info = {**versions(), "mnist_models": __version__, "threads": torch.get_num_threads(), "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None}  # fmt: skip
    if options is not None:
        device = options.resolve().device
        info["device"], info["device_name"] = str(device), device_name(device)
        if options.shard is not None:
            info["shard"] = "{}/{}".format(*options.shard)
        world = options.resolve().world
        if world.parallel:
            info["world_size"], info["backend"] = world.size, world.backend
    return info


# --- Report and accuracy gate after the run ----------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_benchmark_compare_machine_info(config, benchmarksession, machine_info: dict, compared_benchmark: dict):
    """Compare machines on their static facts: the measured matmul peak differs from run to run.

    Runs before pytest-benchmark's own check, which warns on any difference; the
    baseline's measured values are left out of the (in-memory) copy it compares.
    """
    saved = compared_benchmark.get("machine_info")
    if isinstance(saved, dict) and isinstance(saved.get("mnist_models"), dict):
        # the baseline is a suite run, so this session is one too; pytest-benchmark asks before collection
        machine_info.setdefault("mnist_models", _machine_facts(config))
        facts = {k: v for k, v in saved["mnist_models"].items() if k not in MEASURED_MACHINE_INFO}
        compared_benchmark["machine_info"] = {**saved, "mnist_models": facts}


MEASURED_MACHINE_INFO = ("matmul_peak_flops",)


def pytest_benchmark_update_json(config: pytest.Config, benchmarks, output_json: dict) -> None:
    if not _in_use(config):
        return
    peak = config.stash.get(_PEAK_KEY, None)
    info = output_json.get("machine_info", {}).get("mnist_models")
    if peak is not None and isinstance(info, dict):
        info["matmul_peak_flops"] = peak  # measured once this session: the ceiling of every peak_fraction
    config.stash[_JSON_KEY] = output_json


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Runs after pytest-benchmark has saved the run: build the report, apply ``--mnist-fail-on``."""
    config = session.config
    options = config.stash.get(_CONFIG_KEY, None)
    if options is None or hasattr(config, "workerinput") or not _in_use(config):
        return
    leave()  # torchrun: this process's part of the process group is done
    output = config.stash.get(_JSON_KEY, None)
    if output is None and options.fail_on:
        output = _unsaved_json(config)  # a gate needs no saved run
    if output is None or (options.no_report and not options.fail_on):
        return
    from ..report.build import build_report
    from ..report.runs import ReportError, load_run, parse_run

    lines: list[str] = []
    config.stash[_SUMMARY_KEY] = lines
    saved = _saved_path(config)
    name = (
        saved.stem
        if saved
        else Path(config.getoption("benchmark_json").name).stem
        if config.getoption("benchmark_json")
        else "run"
    )
    try:
        run = parse_run(output, name)
        baseline = load_run(_baseline_path(config, saved)) if options.fail_on else None
        directory = Path(options.report_dir) if options.report_dir else Path("reports") / name
        if options.no_report:  # gate only: compute into a scratch folder
            import tempfile

            directory = Path(tempfile.mkdtemp(prefix="mnist-gate-"))
        report = build_report([run], directory, baseline, options.fail_on)
    except ReportError as exc:
        lines.append(f"no report: {exc}")
        if options.fail_on:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        return
    if not options.no_report:
        lines.append(f"report: {report.directory / 'index.html'}")
        lines.append(f"summary: {report.directory / 'summary.md'}")
    lines.extend(f"note: {n}" for n in report.notes)
    if report.gate_failures is not None:
        if report.gate_failures:
            lines.append(f"accuracy/time gate FAILED against {baseline.name}:")
            lines.extend(f"  {f}" for f in report.gate_failures)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        else:
            lines.append(f"accuracy/time gate: within thresholds against {baseline.name}")


def _unsaved_json(config: pytest.Config) -> dict | None:
    """This session's results as pytest-benchmark would save them, when it was not asked to save."""
    session = getattr(config, "_benchmarksession", None)
    if session is None or not session.benchmarks:
        return None
    return config.hook.pytest_benchmark_generate_json(
        config=config, benchmarks=session.benchmarks, include_data=False, machine_info={}, commit_info={}
    )


def _storage_dir(config: pytest.Config) -> Path:
    return Path(str(config.getoption("benchmark_storage")).removeprefix("file://")).expanduser()


def _saved_path(config: pytest.Config) -> Path | None:
    """The file pytest-benchmark just saved (the newest numbered run), if this run saved one."""
    if not (config.getoption("benchmark_save") or config.getoption("benchmark_autosave")):
        return None
    runs = sorted(_storage_dir(config).glob("*/[0-9][0-9][0-9][0-9]_*.json"), key=lambda p: p.name)
    return runs[-1] if runs else None


def _baseline_path(config: pytest.Config, saved: Path | None) -> Path:
    """The run ``--benchmark-compare`` names (its default: the newest saved run before this one)."""
    from ..report.runs import ReportError, find_runs

    wanted = config.getoption("benchmark_compare")
    if wanted is True or wanted == "":
        runs = sorted(
            (p for p in _storage_dir(config).glob("*/[0-9][0-9][0-9][0-9]_*.json") if p != saved), key=lambda p: p.name
        )
        if not runs:
            raise ReportError(f"no baseline run in {_storage_dir(config)} to gate against")
        return runs[-1]
    paths = [p for p in find_runs([str(wanted)], _storage_dir(config)) if p != saved]
    if not paths:
        raise ReportError(f"--benchmark-compare={wanted!r} matches no saved run other than this one")
    return paths[-1]


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    lines = config.stash.get(_SUMMARY_KEY, None)
    if lines:
        terminalreporter.section("mnist-models")
        for line in lines:
            terminalreporter.write_line(line, red="FAILED" in line or line.startswith("no report"))
