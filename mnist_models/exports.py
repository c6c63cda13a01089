"""Saved runs in the tools ML engineers already look at: TensorBoard, MLflow, Bencher and github-action-benchmark.

One exported run per (saved run, model, seed): its per-epoch training curves (as steps), its test scores
with their 95% interval, every benchmark's median time (and the inference groups' images/s and latency
percentiles), and its facts and training config as parameters. Everything is read from the saved runs
(``results.runs.load_run``, so a damaged run is refused before anything is written) and written offline.
``mnist-models export`` is the command; the libraries are the ``export`` extra, imported only when asked.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .files import atomic_write_bytes
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
    metrics: dict[str, float]  # "test/accuracy", "train/median_s", "latency:eager/latency_p50_ms", ...
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
        label = ":".join([bench.group, *(str(v) for v in variant if v)])  # "latency:eager": a name MLflow accepts
        stats = bench.stats
        case.metrics[f"{label}/median_s"] = float(stats["median"])
        case.intervals[f"{label}/median_s"] = (float(stats["min"]), float(stats["max"]))
        for name in ("images_per_s", "latency_p50_ms", "latency_p99_ms", "runtime_accuracy", "agreement"):
            value = getattr(record, name, None)
            if value is not None:
                case.metrics[f"{label}/{name}"] = float(value)
    return list(cases.values())


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
    metrics and costs as hparams metrics beside the config (TensorBoard's HParams tab)."""
    try:
        from tensorboardX import SummaryWriter
        from tensorboardX.summary import hparams
    except ImportError:
        raise ExportError(f"the tensorboard export needs tensorboardX: {EXTRA}") from None
    folders = []
    for case in cases:
        folder = out / case.run / case.name
        writer = SummaryWriter(logdir=str(folder), flush_secs=1)
        for name, values in case.curves.items():
            for epoch, value in enumerate(values, start=1):
                writer.add_scalar(f"epoch/{name}", value, epoch)
        metrics = _finite(case.metrics)
        for key, value in metrics.items():
            writer.add_scalar(key, value, 0)
        # the HParams tab's three summaries, in this run's own file (add_hparams would open a second writer on a
        # sub-folder, whose file name can collide with this one's within the same second)
        for summary in hparams(case.params, metrics):
            writer.file_writer.add_summary(summary)
        writer.close()
        folders.append(folder)
    return folders


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
    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found else client.create_experiment(experiment)
    ids = []
    for case in cases:
        run = client.create_run(experiment_id, run_name=f"{case.run}/{case.name}", tags={"mnist_models.run": case.run})
        metrics = [Metric(f"epoch/{name}", value, 0, epoch) for name, values in case.curves.items()
                   for epoch, value in enumerate(values, start=1)]  # fmt: skip
        metrics += [Metric(key, value, 0, 0) for key, value in _finite(case.metrics).items()]
        params = [Param(key, str(value)) for key, value in case.params.items()]
        for start in range(0, max(len(metrics), len(params)), 900):  # MLflow's batch limit is 1000 metrics
            client.log_batch(run.info.run_id, metrics=metrics[start : start + 900], params=params[start : start + 90])
        client.set_terminated(run.info.run_id)
        ids.append(run.info.run_id)
    return ids


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
    parser.add_argument("--experiment", default="mnist-models", help="mlflow: the experiment (default: %(default)s)")
    from .report.cli import add_storage_option

    add_storage_option(parser)
    parser.set_defaults(func=run_export)


def _cases(runs: list[str], storage) -> Iterator[Case]:
    for path in find_runs(runs, storage):
        run = load_run(path)
        if not run.benches:
            raise ExportError(f"{path}: holds no mnist-models benchmark to export")
        yield from cases_of(run)


def run_export(args: argparse.Namespace) -> int:
    try:
        cases = list(_cases(args.runs, args.storage))
        if args.format == "tensorboard":
            if not args.out:
                raise ExportError("tensorboard needs --out DIR (the log folder to open with tensorboard --logdir)")
            folders = to_tensorboard(cases, Path(args.out))
            print(f"export: {len(folders)} run(s) in {args.out}; open with: tensorboard --logdir {args.out}")
        elif args.format == "mlflow":
            uri = args.tracking_uri or f"sqlite:///{Path('mlruns.db').resolve()}"
            ids = to_mlflow(cases, uri, args.experiment)
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
