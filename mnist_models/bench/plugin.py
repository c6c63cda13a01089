"""The pytest plugin: ``--mnist-*`` options, session fixtures, parametrization and machine info.

Registered through the ``pytest11`` entry point, so it works from any project that installs
mnist-models. It costs nothing where unused: loading it imports its option table and nothing
else of ours (no numpy, no torch); the rest (torch, the device, the models, machine facts, the
report) is imported when the session collects a test that asks for ``mnist_case``, or when an
``--mnist-*`` option names models, a device, a precision or runtimes to check.
"""

from __future__ import annotations

import contextlib
import sys

import pytest

from .foreign import refuse_foreign_runner, watch_workers
from .options import SuiteOptions, add_pytest_options
from .settings import AfterRun, SuiteSettings

_OPTIONS_KEY = pytest.StashKey[SuiteOptions]()
_JSON_KEY = pytest.StashKey[dict]()
_SUMMARY_KEY = pytest.StashKey[list]()
_SESSION_KEY = pytest.StashKey[object]()
_USED_KEY = pytest.StashKey[bool]()  # set once the session collects a case of the suite


def pytest_addoption(parser: pytest.Parser) -> None:
    add_pytest_options(parser, SuiteSettings, AfterRun)


@pytest.hookimpl(tryfirst=True)  # before pytest-benchmark's own refusal of --benchmark-only under xdist
def pytest_configure(config: pytest.Config) -> None:
    options = SuiteOptions(config)
    config.stash[_OPTIONS_KEY] = options
    if options.explicit or config.getoption("benchmark_only", False):
        refuse_foreign_runner(config, [], [])  # xdist or CodSpeed would time nothing: one line, before anything trains
    watch_workers(config)
    from .saving import SavingPlugin  # imports pytest only: costs nothing where the suite is unused

    config.pluginmanager.register(SavingPlugin(config), "mnist-models-saving")
    if options.explicit:
        options.resolve()  # the user asked: check names and device before anything trains


def _group_of(item_or_function) -> str | None:
    """The suite's benchmark group a test belongs to (its function's ``mnist_group``), else ``None``."""
    function = getattr(item_or_function, "function", item_or_function)
    return getattr(function, "mnist_group", None)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Each group's function runs once per case (a ``plan.Case``) and, for groups that have one, per variant."""
    group_name = _group_of(metafunc.function)
    if group_name is None or "mnist_case" not in metafunc.fixturenames:
        return
    from ..results.groups import GROUPS

    config = metafunc.config
    config.stash[_USED_KEY] = True
    options = config.stash[_OPTIONS_KEY]
    options.check_calibration(config)
    plan = options.resolve()
    group = GROUPS.get(group_name)
    # the case travels as its id (pytest-benchmark saves parameters as JSON), the fixture hands over the value
    params = [(case.id, variant) for case in plan.cases for variant in group.variant_values(plan)]
    ids = [group.param(case, variant) for case, variant in params]
    metafunc.parametrize(["mnist_case", "mnist_variant"], params, ids=ids, indirect=["mnist_case"])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the suite's cases in the order that trains before it measures trained weights; leave a group out
    unless the setting it needs was given (``--mnist-levers``); under torchrun, every process but rank 0
    keeps only the cases of the group that trains (which train together, under DDP)."""
    ours = [item for item in items if _group_of(item) is not None]
    if not ours:  # not one of ours: the registry is not even imported
        return
    refuse_foreign_runner(config, items, ours)  # a suite case collected under xdist or CodSpeed (no --mnist-*)
    if not (ours := [item for item in items if _group_of(item) is not None]):
        return
    from ..results.groups import GROUPS

    options = config.stash[_OPTIONS_KEY]
    slots = [i for i, item in enumerate(items) if _group_of(item) in GROUPS]
    ordered = sorted((items[i] for i in slots), key=lambda item: _run_order(item, options))
    for slot, item in zip(slots, ordered, strict=True):  # each case trains before any other asks for its weights
        items[slot] = item

    def dropped_here(item: pytest.Item) -> bool:
        name = _group_of(item)
        if name not in GROUPS:
            return False
        group = GROUPS.get(name)
        if not options.is_main:
            return not group.trains
        if group.left_out_by is not None and getattr(options.settings, group.left_out_by):
            return True
        return group.option is not None and not getattr(options.settings, group.option)

    dropped = [item for item in items if dropped_here(item)]
    if dropped:
        items[:] = [item for item in items if not dropped_here(item)]
        config.hook.pytest_deselected(items=dropped)


def _run_order(item: pytest.Item, options: SuiteOptions) -> tuple[int, int]:
    """Groups in their order (training first); with auto seeds, the training of each seed of every model before
    the next seed's, so that each round is complete when the next one asks whether it is needed."""
    from ..results.groups import GROUPS

    group = GROUPS.get(_group_of(item))
    plan = options.resolve()
    if plan.seed_plan is None or not group.trains:
        return group.order, 0
    return group.order, plan.case(item.callspec.params["mnist_case"]).seed


def _in_use(config: pytest.Config) -> bool:
    """Whether this session collected a case of the suite: the plugin stays silent otherwise."""
    return config.stash.get(_USED_KEY, False)


def _say(config: pytest.Config):
    """A function printing one line to the terminal, through pytest's output capture (rank 0's only)."""
    options = config.stash[_OPTIONS_KEY]
    if hasattr(config, "workerinput") or config.getoption("verbose") < 0 or not options.is_main:
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
def mnist_plan(pytestconfig: pytest.Config):
    """The session's resolved ``SuitePlan`` (profile, models, seeds, device, paths, cases)."""
    return pytestconfig.stash[_OPTIONS_KEY].resolve()


@pytest.fixture(scope="session")
def mnist(pytestconfig: pytest.Config, mnist_plan):
    """The dataset, loaded once, split and preprocessed, on the suite's device (a subset in ``smoke``)."""
    from ..data.dataset import DataError
    from .session import load_data

    try:
        data = load_data(mnist_plan)
    except DataError as exc:
        pytest.exit(f"mnist-models: cannot load the dataset:\n{exc}", returncode=pytest.ExitCode.USAGE_ERROR)
    except OSError as exc:  # a data root that cannot be written (or is full) while fetching: one line, no traceback
        from ..files import describe_error

        message = f"mnist-models: cannot fetch the dataset: {describe_error(exc)}"
        pytest.exit(message, returncode=pytest.ExitCode.USAGE_ERROR)
    say = _say(pytestconfig)
    if say is not None:
        say(f"data: {data.name} from {data.source}, in {data.location}")
    return data


@pytest.fixture(scope="session")
def mnist_suite(pytestconfig: pytest.Config, mnist_plan, mnist):
    """The session's :class:`~mnist_models.bench.session.Session`: weights, timed calls, records."""
    from ..files import clean_orphans
    from ..results.runs import storage_dir
    from .session import open_session

    # what a process killed mid-write (SIGKILL) left in the folders this session writes
    storage = storage_dir(pytestconfig.getoption("benchmark_storage"))
    machines = [p for p in storage.iterdir() if p.is_dir()] if storage.is_dir() else []  # a run is saved in one
    clean_orphans(storage, *machines, mnist_plan.cache_dir)
    # on a terminal a line every few seconds inside long epochs; in a CI log, one every half minute
    every = 5.0 if sys.stdout.isatty() else 30.0
    session = open_session(mnist_plan, mnist, say=_say(pytestconfig), say_every_s=every)
    pytestconfig.stash[_SESSION_KEY] = session
    return session


@pytest.fixture
def mnist_case(request: pytest.FixtureRequest, mnist_plan):
    """This benchmark's case (a ``plan.Case``: model spec, seed, training settings), by its id."""
    return mnist_plan.case(request.param)


@pytest.fixture
def mnist_variant() -> None:
    """The group's own parameter (a loop, a lever, a runtime); ``None`` for groups without one."""
    return None


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """Static facts; the measured peak is added when the run is saved (see ``pytest_benchmark_update_json``)."""
    if _in_use(config):
        machine_info["mnist_models"] = _machine_facts(config)


def _machine_facts(config: pytest.Config) -> dict:
    from .run_json import machine_facts

    return machine_facts(config.stash[_OPTIONS_KEY].resolve())


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


MEASURED_MACHINE_INFO = (
    "matmul_peak_flops",
    "matmul_peak_measurements",
    "peak_flops_in_use",  # runs before the peak stayed the measured one
    "peak_underestimated",
    "peak_exceeded",
    "matmul_peak_bf16_flops",
    "nominal_peak_flops",
    "seed_rounds",
    "command",  # how the run was made: not a fact of the machine
    "interrupted",  # how the run ended (bench.saving): neither
)


def pytest_benchmark_update_json(config: pytest.Config, benchmarks, output_json: dict) -> None:
    if not _in_use(config):
        return
    import shlex

    from .run_json import finish_run_json
    from .saving import interrupted_now, mark

    try:
        finish_run_json(output_json, config.stash.get(_SESSION_KEY, None))
    except KeyboardInterrupt:  # Ctrl-C during the closing peak probe: saved without it, marked interrupted
        interrupted_now(config)
        finish_run_json(output_json, None)
    mark(output_json, config)  # an interrupted session's run says so, and what it left out
    info = output_json.get("machine_info", {}).get("mnist_models")
    if isinstance(info, dict):  # how the run was made, so that it can be made again (mnist-models reproduce)
        info["command"] = shlex.join(["pytest", *map(str, config.invocation_params.args)])
    config.stash[_JSON_KEY] = output_json


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Runs after pytest-benchmark has saved the run: build the report, apply ``--mnist-fail-on``."""
    config = session.config
    options = config.stash.get(_OPTIONS_KEY, None)
    if options is None or hasattr(config, "workerinput") or not _in_use(config):
        return
    from ..training.distributed import leave

    leave()  # torchrun: this process's part of the process group is done
    from .finish import report_and_gate, unsaved_json
    from .saving import state

    saving = state(config)
    if saving["interrupted"] or saving["save_error"]:
        config.stash[_SUMMARY_KEY] = _unfinished(config, saving)
        return
    output = config.stash.get(_JSON_KEY, None)
    if output is None and (options.rules or options.after.report):
        # a gate needs no saved run, nor does a report that was asked for by name
        output = unsaved_json(config, config.stash.get(_SESSION_KEY, None))
    if output is None or (options.no_report and not options.rules):
        if output is None and options.after.report and options.is_main:
            config.stash[_SUMMARY_KEY] = ["no report: this session measured nothing to report"]
        return
    try:
        config.stash[_SUMMARY_KEY] = report_and_gate(session, options, output)
    except KeyboardInterrupt:  # Ctrl-C while the report is written: the staged folder never replaced the last one
        session.exitstatus = pytest.ExitCode.INTERRUPTED
        config.stash[_SUMMARY_KEY] = ["no report: interrupted while the report was written (the previous report, if "
                                      "any, is as it was)"]  # fmt: skip


def _unfinished(config: pytest.Config, saving: dict) -> list[str]:
    """The terminal's lines for a session that was interrupted or could not save its run: no report, no gate."""
    from .finish import saved_path

    if saving["save_error"]:
        return [f"no report: {saving['save_error']}"]
    saved = saved_path(config) if config.stash.get(_JSON_KEY, None) is not None else None
    where = f"saved as {saved.stem}, marked interrupted" if saved else "nothing saved"
    left = f"; left out, unfinished: {', '.join(saving['dropped'])}" if saving["dropped"] else ""
    return [f"no report: the session was interrupted ({where}{left}); the report, the history and the gates "
            "refuse an interrupted run unless given --include-interrupted: run the suite again"]  # fmt: skip


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    lines = config.stash.get(_SUMMARY_KEY, None)
    if lines:
        terminalreporter.section("mnist-models")
        for line in lines:
            terminalreporter.write_line(line, red="FAILED" in line or line.startswith("no report"))
