"""Saved runs in the tools ML engineers already look at: TensorBoard, MLflow, Bencher and github-action-benchmark.

One exported run per (saved run, model, seed): its per-epoch training curves (as steps), its test scores
with their 95% interval, every benchmark's median time (and the inference groups' images/s and latency
percentiles), and its facts and training config as parameters. Everything is read from the saved runs
(``results.runs.load_run``, so a damaged run is refused before anything is written) and written offline.
``mnist-models export`` is the command; the libraries are the ``export`` extra, imported only when asked.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import signal
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .files import INTERRUPTED, TERMINATED, Interrupted, atomic_write_bytes, atomic_write_folder
from .results.runs import Run, RunError, find_runs, load_run

FORMATS = ("tensorboard", "mlflow", "bencher", "gab")
CURVES = ("train_loss", "train_acc", "val_loss", "val_acc", "lr")  # EpochRecord fields drawn per epoch
EXTRA = "pip install 'mnist-models[export]'"


class ExportError(Exception):
    """Bad input for an export (a missing library, a folder that cannot be written): one line, exit 2."""


@dataclass
class Case:
    """One model and seed of one saved run: what every exporter writes."""

    run: str
    model: str
    seed: int
    curves: dict[str, list[float]]  # CURVES -> one value per epoch
    metrics: dict[str, float]  # "test/accuracy", "train/median_s", "latency.eager/latency_p50_ms", ...
    intervals: dict[str, tuple[float, float]]  # metric -> (low, high): accuracy's 95% interval, a time's min-max
    params: dict[str, str | int | float | bool] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.model}-seed{self.seed}"


def cases_of(run: Run) -> list[Case]:
    """The run's (model, seed) cases, in the order their first benchmark was saved."""
    cases: dict[tuple[str, int], Case] = {}
    for bench in run.benches:
        record = bench.record
        case = cases.get((record.model, record.seed))
        if case is None:
            case = cases[(record.model, record.seed)] = _case(run, record)
        variant = [getattr(record, name, None) for name in ("runtime", "lever", "engine_loop")]
        label = ".".join(
            [bench.group, *(str(v) for v in variant if v)]
        )  # "latency.eager": TensorBoard and MLflow keep it
        median, low, high = _times(run, bench)
        case.metrics[f"{label}/median_s"] = median
        case.intervals[f"{label}/median_s"] = (low, high)
        for name in ("images_per_s", "latency_p50_ms", "latency_p99_ms", "runtime_accuracy", "agreement"):
            value = getattr(record, name, None)
            if value is not None:
                case.metrics[f"{label}/{name}"] = float(value)
    return list(cases.values())


def _times(run: Run, bench) -> tuple[float, float, float]:
    """A benchmark's median, min and max (s), checked: finite, and small enough to be written in nanoseconds."""
    stats = bench.stats if isinstance(bench.stats, dict) else {}
    try:
        values = tuple(float(stats[key]) for key in ("median", "min", "max"))
    except (KeyError, TypeError, ValueError):
        raise ExportError(f"{run.path or run.name}: benchmark {bench.name}: stats need numbers median, min and max; "
                          "save the run again with pytest-benchmark") from None  # fmt: skip
    if not all(math.isfinite(v) and 0 <= v < 1e9 for v in values):
        raise ExportError(f"{run.path or run.name}: benchmark {bench.name}: a time of {values} s is not a time; "
                          "save the run again")  # fmt: skip
    return values


def _case(run: Run, record) -> Case:
    outcome = record.outcome
    test = outcome.test
    metrics: dict[str, float] = {"train/epochs_run": float(outcome.epochs_run), "train/best_epoch": outcome.best_epoch}
    intervals: dict[str, tuple[float, float]] = {}
    if test is not None:
        metrics.update({"test/accuracy": test.accuracy, "test/error_rate": 1 - test.accuracy, "test/loss": test.loss})
        intervals["test/accuracy"] = (test.ci_low, test.ci_high)
        intervals["test/error_rate"] = (1 - test.ci_high, 1 - test.ci_low)
    params: dict[str, Any] = {
        "model": record.model, "family": record.family, "params": record.params,
        "flops_inference": record.flops_inference, "flops_train_step": record.flops_train_step,
        "profile": record.profile, "dataset": record.dataset, "seed": record.seed, "device": record.device,
        "threads": record.threads, "run": run.name, "commit": str(run.commit.get("id", ""))[:12],
    }  # fmt: skip
    for key, value in outcome.config.to_dict().items():
        params[f"config.{key}"] = value if isinstance(value, (str, int, float, bool)) else json.dumps(value)
    curves = {name: [float(getattr(epoch, name)) for epoch in outcome.history] for name in CURVES}
    return Case(run.name, record.model, record.seed, curves, metrics, intervals, params)


def _finite(metrics: dict[str, float]) -> dict[str, float]:
    return {key: value for key, value in metrics.items() if math.isfinite(value)}


# --- TensorBoard (tensorboardX) --------------------------------------------------------------------------------


def to_tensorboard(cases: list[Case], out: Path) -> list[Path]:
    """One event-file folder per case, ``out/<run>/<model>-seed<seed>``: curves as scalars per epoch, the test
    metrics and costs as hparams metrics beside the config (TensorBoard's HParams tab).

    Written into a scratch folder first, then swapped in whole (``files.atomic_write_folder``): exporting again
    replaces what an earlier export wrote instead of adding a second copy of every point, and a full disk or a
    Ctrl-C leaves the previous folder as it was.
    """
    try:
        from tensorboardX import SummaryWriter
        from tensorboardX.summary import hparams
    except ImportError:
        raise ExportError(f"the tensorboard export needs tensorboardX: {EXTRA}") from None
    with tempfile.TemporaryDirectory(prefix="mnist-models-tb-") as scratch:
        for case in cases:
            with _stop_between_steps():
                writer = SummaryWriter(logdir=str(Path(scratch) / case.run / case.name), flush_secs=3600)
                try:
                    for name, values in case.curves.items():
                        for epoch, value in enumerate(values, start=1):
                            writer.add_scalar(f"epoch/{name}", value, epoch)
                    metrics = _finite(case.metrics)
                    for key, value in metrics.items():
                        writer.add_scalar(key, value, 0)
                    # the HParams tab's three summaries, in this run's own file (add_hparams would open a second
                    # writer on a sub-folder, whose file name can collide with this one's within the same second)
                    for summary in hparams(case.params, metrics):
                        writer.file_writer.add_summary(summary)
                finally:
                    writer.close()
        files = {
            str(path.relative_to(scratch)): path.read_bytes() for path in Path(scratch).rglob("*") if path.is_file()
        }
    with _stop_between_steps(f"{out} was written whole first"):
        atomic_write_folder(out, files)
    return [out / case.run / case.name for case in cases]


_PENDING: list[int] = []


@contextlib.contextmanager
def _stop_between_steps(said: str = "nothing written") -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the step is done (a Ctrl-C inside tensorboardX's writer deadlocks it with its
    own thread), then stop: ``Interrupted`` is cli.guarded's one line, 130 or 143."""
    if not hasattr(signal, "SIGTERM") or not _main_thread():
        yield
        return
    previous = {
        sig: signal.signal(sig, lambda signum, frame: _PENDING.append(signum))
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if _PENDING:
        signum = _PENDING.pop()
        _PENDING.clear()
        name = signal.Signals(signum).name
        stop = Interrupted(name, INTERRUPTED if signum == signal.SIGINT else TERMINATED)
        stop.done.append(said)
        raise stop


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


# --- MLflow ----------------------------------------------------------------------------------------------------


def to_mlflow(cases: list[Case], tracking_uri: str, experiment: str) -> list[str]:
    """One MLflow run per case in ``experiment``: curves as metrics with the epoch as step, the test metrics and
    costs as metrics, the facts and config as params. Returns the run ids."""
    try:
        import mlflow
    except ImportError:
        raise ExportError(f"the mlflow export needs mlflow (or mlflow-skinny): {EXTRA}") from None
    import logging

    from mlflow.entities import Metric, Param

    for name in ("mlflow", "alembic"):  # creating a sqlite store logs every migration at INFO
        logging.getLogger(name).setLevel(logging.WARNING)
    from mlflow.exceptions import MlflowException

    _check_store(tracking_uri)
    created: list[str] = []
    try:
        client = mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        found = client.get_experiment_by_name(experiment)
        experiment_id = found.experiment_id if found else client.create_experiment(experiment)
        for case in cases:
            with _stop_between_steps("the runs of this export removed"):
                created.append(_mlflow_run(client, experiment_id, case, Metric, Param))
    except BaseException as exc:
        for run_id in created:  # nothing half-exported: the runs this export made go (an earlier export's stay)
            with contextlib.suppress(Exception):
                client.delete_run(run_id)
        if isinstance(exc, MlflowException) or type(exc).__module__.startswith("sqlalchemy"):
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ExportError(f"--tracking-uri {tracking_uri}: {first[:300]}; give a store MLflow can write, e.g. "
                              "sqlite:///PATH/mlruns.db in a writable folder with room") from None  # fmt: skip
        raise
    return created


def _mlflow_run(client, experiment_id: str, case: Case, Metric, Param) -> str:
    """One case as an MLflow run; a run of the same name an earlier export made is replaced (no duplicates)."""
    name = f"{case.run}/{case.name}"
    query = f"tags.`mnist_models.run` = '{case.run}' and attributes.run_name = '{name}'"
    for old in client.search_runs([experiment_id], filter_string=query, max_results=100):
        client.delete_run(old.info.run_id)
    run = client.create_run(experiment_id, run_name=name, tags={"mnist_models.run": case.run})
    metrics = [Metric(f"epoch/{name}", value, 0, epoch) for name, values in case.curves.items()
               for epoch, value in enumerate(values, start=1)]  # fmt: skip
    metrics += [Metric(key, value, 0, 0) for key, value in _finite(case.metrics).items()]
    params = [Param(key, str(value)) for key, value in case.params.items()]
    for start in range(0, max(len(metrics), len(params)), 900):  # MLflow's batch limit: 1000 metrics, 100 params
        client.log_batch(run.info.run_id, metrics=metrics[start : start + 900], params=params[start : start + 90])
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def _check_store(uri: str) -> None:
    """A sqlite store's folder must be writable (MLflow would retry for minutes, then print a traceback)."""
    import os

    if not uri.startswith("sqlite:///"):
        if "://" not in uri:
            raise ExportError(
                f"--tracking-uri {uri}: not a store URI; give sqlite:///PATH/mlruns.db or an http(s) server"
            )
        return
    path = Path(uri.removeprefix("sqlite:///")).expanduser()
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ExportError(f"--tracking-uri {uri}: {folder} cannot be written; give --tracking-uri sqlite:///PATH "
                          "in a writable folder")  # fmt: skip


# --- Bencher (BMF) and github-action-benchmark -----------------------------------------------------------------


def to_bencher(cases: list[Case]) -> dict[str, dict[str, dict[str, float]]]:
    """Bencher Metric Format: benchmark -> measure -> value with lower and upper values.

    Each timed group is a benchmark ``<group>/<model>-seed<seed>`` with Bencher's built-in ``latency`` measure (its
    median in nanoseconds, min and max as bounds); ``accuracy/<model>-seed<seed>`` carries the test accuracy (%)
    with its 95% interval as bounds, so a dashboard's threshold can watch accuracy as well as time.
    """
    document: dict[str, dict[str, dict[str, float]]] = {}
    for case in cases:
        prefix = f"{case.run}/" if len({c.run for c in cases}) > 1 else ""
        for key, value in case.metrics.items():
            if key.endswith("/median_s"):
                low, high = case.intervals[key]
                name = f"{prefix}{key.removesuffix('/median_s')}/{case.name}"
                document[name] = {
                    "latency": {"value": value * 1e9, "lower_value": low * 1e9, "upper_value": high * 1e9}
                }
        if "test/accuracy" in case.metrics:
            low, high = case.intervals["test/accuracy"]
            value = case.metrics["test/accuracy"]
            document[f"{prefix}accuracy/{case.name}"] = {
                "accuracy": {"value": 100 * value, "lower_value": 100 * low, "upper_value": 100 * high}
            }
    return document


def to_gab(cases: list[Case]) -> list[dict[str, Any]]:
    """github-action-benchmark's ``customSmallerIsBetter`` list: every timed group's median (s) and the test error
    rate (%), each with its range (min-max; the error rate's 95% interval) and its model facts as ``extra``.
    One direction for the whole file, as the action wants: accuracy travels as error rate."""
    entries = []
    for case in cases:
        prefix = f"{case.run}/" if len({c.run for c in cases}) > 1 else ""
        extra = f"profile {case.params['profile']}, dataset {case.params['dataset']}, {case.params['params']} params"
        for key, value in case.metrics.items():
            if key.endswith("/median_s"):
                low, high = case.intervals[key]
                entries.append({"name": f"{prefix}{key.removesuffix('/median_s')}/{case.name}", "unit": "s",
                                "value": value, "range": f"{low:.6g} to {high:.6g}", "extra": extra})  # fmt: skip
        if "test/error_rate" in case.metrics:
            low, high = case.intervals["test/error_rate"]
            entries.append({"name": f"{prefix}error_rate/{case.name}", "unit": "%",
                            "value": 100 * case.metrics["test/error_rate"],
                            "range": f"{100 * low:.3f} to {100 * high:.3f} (95% interval)", "extra": extra})  # fmt: skip
    return entries


# --- The command -----------------------------------------------------------------------------------------------


def add_export_parser(sub) -> None:
    parser = sub.add_parser(
        "export",
        help="write saved runs for TensorBoard, MLflow, Bencher or github-action-benchmark",
        description="Write saved runs where ML engineers and CI dashboards look: one exported run per model and "
        "seed. Offline; exit 2 with one line for a run that does not read, a missing library or a bad folder.",
    )
    parser.add_argument("format", choices=FORMATS, help="tensorboard (event files), mlflow (a tracking store), "
                        "bencher (Bencher Metric Format JSON), gab (github-action-benchmark customSmallerIsBetter)")  # fmt: skip
    parser.add_argument("runs", nargs="+", metavar="RUN", help="run numbers, names, globs or JSON paths")
    parser.add_argument("--out", help="tensorboard: the log folder; bencher, gab: the JSON file (default: stdout)")
    parser.add_argument("--tracking-uri", help="mlflow: the store (default: sqlite:///mlruns.db, a file here)")
    parser.add_argument("--experiment", help="mlflow: the experiment (default: mnist-models)")
    from .report.cli import add_storage_option

    add_storage_option(parser)
    parser.set_defaults(func=run_export)


APPLIES = {"out": ("tensorboard", "bencher", "gab"), "tracking_uri": ("mlflow",), "experiment": ("mlflow",)}


def _check_options(args: argparse.Namespace) -> None:
    for option, formats in APPLIES.items():
        value = getattr(args, option)
        if value is not None and args.format not in formats:
            flag = "--" + option.replace("_", "-")
            raise ExportError(f"{flag} does not apply to {args.format} (only to {', '.join(formats)}); leave it out")
        if value is not None and not str(value).strip():
            raise ExportError(f"--{option.replace('_', '-')} is empty; give a value or leave it out")


def _cases(runs: list[str], storage) -> Iterator[Case]:
    paths = list(dict.fromkeys(Path(path).resolve() for path in find_runs(runs, storage)))  # one file named twice
    names: dict[str, Path] = {}
    for path in paths:
        if path.stem in names:
            raise ExportError(f"{names[path.stem]} and {path} are both run {path.stem!r}, and an export names its runs "
                              "by their file names; rename one of them")  # fmt: skip
        names[path.stem] = path
    for path in paths:
        run = load_run(path)
        if not run.benches:
            raise ExportError(f"{path}: holds no mnist-models benchmark to export")
        yield from cases_of(run)


def run_export(args: argparse.Namespace) -> int:
    try:
        _check_options(args)
        cases = list(_cases(args.runs, args.storage))
        if args.format == "tensorboard":
            if not args.out:
                raise ExportError("tensorboard needs --out DIR (the log folder to open with tensorboard --logdir)")
            folders = to_tensorboard(cases, Path(args.out))
            print(f"export: {len(folders)} run(s) in {args.out}; open with: tensorboard --logdir {args.out}")
        elif args.format == "mlflow":
            uri = args.tracking_uri or f"sqlite:///{Path('mlruns.db').resolve()}"
            ids = to_mlflow(cases, uri, args.experiment or "mnist-models")
            print(f"export: {len(ids)} run(s) in experiment {args.experiment!r} at {uri}; open with: "
                  f"mlflow ui --backend-store-uri {uri}")  # fmt: skip
        else:
            document = to_bencher(cases) if args.format == "bencher" else to_gab(cases)
            text = json.dumps(document, indent=2, allow_nan=False) + "\n"
            if args.out:
                atomic_write_bytes(Path(args.out), text.encode())
                print(f"export: {len(document)} {args.format} entries in {args.out}")
            else:
                sys.stdout.write(text)
    except (ExportError, RunError) as exc:
        print(f"mnist-models export: error: {exc}", file=sys.stderr)
        return 2
    return 0  # a filesystem error (a folder that cannot be written, a full disk) is cli.guarded's one line, exit 2
