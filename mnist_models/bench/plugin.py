"""The pytest plugin: ``--mnist-*`` options, session fixtures, parametrization and machine info.

Registered through the ``pytest11`` entry point, so it works from any project that
installs mnist-models. It costs nothing where unused: loading it imports no torch, and
nothing heavy happens (torch, the device, the models, machine facts, the report) until
the session collects a test that asks for ``mnist_case``, or an ``--mnist-*`` option
names models, a device or a precision to check.
"""

from __future__ import annotations

import contextlib
import sys

import pytest

from ..training.distributed import launched_world, leave
from .finish import unsaved_json
from .groups import CASE_FUNCTIONS
from .options import SuiteOptions, add_options

_CONFIG_KEY = pytest.StashKey["SuiteOptions"]()
_JSON_KEY = pytest.StashKey[dict]()
_SUMMARY_KEY = pytest.StashKey[list]()
_PEAK_KEY = pytest.StashKey[float]()
_USED_KEY = pytest.StashKey[bool]()  # set once the session collects a case of the suite
LEVERS_MARK = "mnist_levers"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


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


def _train_first(items: list[pytest.Item]) -> None:
    """Reorder the suite's items in place, by group (``CASE_FUNCTIONS``), in the slots they already hold.

    However a test module imports the cases (``from mnist_models.bench.cases import *`` binds them
    alphabetically), each (model, seed) trains in its ``train`` case before any other case
    asks for its weights; other tests keep their places, and each case its parameter order.
    """
    slots = [i for i, item in enumerate(items) if "mnist_case" in getattr(item, "fixturenames", ())]

    order = list(CASE_FUNCTIONS)

    def rank(item: pytest.Item) -> int:
        name = getattr(item, "originalname", item.name)
        return order.index(name) if name in order else len(order)

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
    """The session's :class:`~mnist_models.bench.session.Suite`: weights, timed calls, records."""
    from .session import Suite
    from .weights import Weights

    # on a terminal a line every few seconds inside long epochs; in a CI log, one every half minute
    interval = 5.0 if sys.stdout.isatty() else 30.0
    suite = Suite(Weights(mnist_config, mnist, on_progress=_progress(pytestconfig), progress_interval_s=interval))
    pytestconfig.stash[_PEAK_KEY] = suite.peak_flops
    return suite


@pytest.fixture
def trained_model(mnist_case, mnist_suite):
    """Trained weights for this case's (architecture, seed): this session's, the disk cache's, or trained now."""
    spec, seed = mnist_case
    return mnist_suite.weights.get(spec, seed)


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
    info = {
        **versions(),
        "mnist_models": __version__,
        "threads": torch.get_num_threads(),
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
    }
    if options is not None:
        device = options.resolve().device
        info["device"], info["device_name"] = str(device), device_name(device)
        if options.shard is not None:
            info["shard"] = "{}/{}".format(*options.shard)
        if options.slowdown:
            info["injected_slowdown"] = options.slowdown
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
    from .record import pack_outcomes

    pack_outcomes(output_json.get("benchmarks", []))
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
        output = unsaved_json(config)  # a gate needs no saved run
    if output is None or (options.no_report and not options.fail_on):
        return
    from .finish import report_and_gate

    config.stash[_SUMMARY_KEY] = report_and_gate(session, options, output)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    lines = config.stash.get(_SUMMARY_KEY, None)
    if lines:
        terminalreporter.section("mnist-models")
        for line in lines:
            terminalreporter.write_line(line, red="FAILED" in line or line.startswith("no report"))
