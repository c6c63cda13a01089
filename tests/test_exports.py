"""mnist-models export: each format written from a committed run and read back with its own library."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from mnist_models.exports import cases_of
from mnist_models.results.runs import load_run

ROOT = Path(__file__).resolve().parents[1]
[RUN] = sorted((ROOT / "reports" / "seeds").glob("0001_*.json"))  # 13 models x 5 seeds, train group only


def _export(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "mnist_models", "export", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd or ROOT, timeout=300)


@pytest.fixture(scope="module")
def cases():
    return cases_of(load_run(RUN))


def test_one_case_per_model_and_seed_with_its_curves_and_interval(cases):
    run = load_run(RUN)
    assert len(cases) == len({(b.record.model, b.record.seed) for b in run.benches}) == 65
    first = run.benches[0].record
    [case] = [c for c in cases if (c.model, c.seed) == (first.model, first.seed)]
    assert case.curves["val_acc"] == [epoch.val_acc for epoch in first.outcome.history]
    assert case.metrics["test/accuracy"] == first.outcome.test.accuracy
    low, high = case.intervals["test/accuracy"]
    assert low < case.metrics["test/accuracy"] < high
    assert case.params["config.lr"] == first.outcome.config.lr


def test_bencher_metric_format(tmp_path, cases):
    """No Python library reads BMF: the shape its documentation gives, and every value where it came from."""
    out = tmp_path / "bmf.json"
    done = _export("bencher", str(RUN), "--out", str(out))
    assert done.returncode == 0, done.stderr
    document = json.loads(out.read_text())
    for measures in document.values():
        for measure in measures.values():
            assert set(measure) == {"value", "lower_value", "upper_value"}
            assert measure["lower_value"] <= measure["value"] <= measure["upper_value"]
    case = cases[0]
    assert document[f"accuracy/{case.name}"]["accuracy"]["value"] == pytest.approx(100 * case.metrics["test/accuracy"])
    assert document[f"train/{case.name}"]["latency"]["value"] == pytest.approx(1e9 * case.metrics["train/median_s"])


def test_github_action_benchmark_format(tmp_path, cases):
    out = tmp_path / "gab.json"
    assert _export("gab", str(RUN), "--out", str(out)).returncode == 0
    entries = json.loads(out.read_text())
    assert all(set(e) == {"name", "unit", "value", "range", "extra"} for e in entries)
    assert len({e["name"] for e in entries}) == len(entries)  # the action keys its series by name
    by_name = {e["name"]: e for e in entries}
    case = cases[0]
    assert by_name[f"error_rate/{case.name}"]["value"] == pytest.approx(100 * (1 - case.metrics["test/accuracy"]))
    assert by_name[f"error_rate/{case.name}"]["unit"] == "%"


@pytest.mark.slow
def test_tensorboard_round_trip(tmp_path, cases):
    pytest.importorskip("tensorboardX")
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    done = _export("tensorboard", str(RUN), "--out", str(tmp_path / "tb"))
    assert done.returncode == 0, done.stderr
    assert "tensorboard --logdir" in done.stdout
    case = cases[0]
    folder = tmp_path / "tb" / case.run / case.name
    events = event_accumulator.EventAccumulator(str(folder))
    events.Reload()
    curve = [event.value for event in events.Scalars("epoch/val_acc")]
    assert curve == pytest.approx(case.curves["val_acc"])
    assert [event.step for event in events.Scalars("epoch/val_acc")] == list(range(1, len(curve) + 1))
    assert events.Scalars("test/accuracy")[0].value == pytest.approx(case.metrics["test/accuracy"])
    assert events.PluginTagToContent("hparams")  # the HParams tab's session: config and metrics
    assert len(list((tmp_path / "tb" / case.run).iterdir())) == len(cases)


@pytest.mark.slow
def test_mlflow_round_trip_on_a_sqlite_store(tmp_path, cases):
    mlflow = pytest.importorskip("mlflow")
    pytest.importorskip("sqlalchemy")
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    done = _export("mlflow", str(RUN), "--tracking-uri", uri, "--experiment", "roundtrip")
    assert done.returncode == 0, done.stderr
    assert "mlflow ui --backend-store-uri" in done.stdout
    assert "INFO" not in done.stderr
    with warnings.catch_warnings():  # SQLAlchemy 2.1 deprecates a loader MLflow's sqlite store uses
        warnings.simplefilter("ignore", DeprecationWarning)
        client = mlflow.MlflowClient(tracking_uri=uri)
        experiment = client.get_experiment_by_name("roundtrip")
        runs = client.search_runs([experiment.experiment_id], max_results=1000)
        assert len(runs) == len(cases)
        case = cases[0]
        [run] = [r for r in runs if r.info.run_name == f"{case.run}/{case.name}"]
        assert run.data.metrics["test/accuracy"] == pytest.approx(case.metrics["test/accuracy"])
        assert run.data.params["config.lr"] == str(case.params["config.lr"])
        history = client.get_metric_history(run.info.run_id, "epoch/val_acc")
        assert [m.value for m in sorted(history, key=lambda m: m.step)] == pytest.approx(case.curves["val_acc"])


def test_a_missing_run_or_a_bad_folder_is_one_line_and_exit_2(tmp_path):
    done = _export("bencher", str(tmp_path / "nope.json"))
    assert (done.returncode, len(done.stderr.strip().splitlines())) == (2, 1), done.stderr
    broken = tmp_path / "0001_broken.json"
    broken.write_text(RUN.read_text()[:5000])
    done = _export("gab", str(broken))
    assert done.returncode == 2
    assert "mnist-models export: error:" in done.stderr
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = _export("gab", str(RUN), "--out", str(blocker / "out.json"))
    assert (done.returncode, len(done.stderr.strip().splitlines())) == (2, 1), done.stderr
    done = _export("tensorboard", str(RUN))
    assert done.returncode == 2
    assert "--out" in done.stderr


def test_options_that_do_not_apply_and_two_runs_of_one_name_are_refused(tmp_path):
    done = _export("gab", str(RUN), "--tracking-uri", "sqlite:///x.db")
    assert (done.returncode, len(done.stderr.strip().splitlines())) == (2, 1), done.stderr
    assert "--tracking-uri does not apply to gab" in done.stderr
    assert "--out does not apply to mlflow" in _export("mlflow", str(RUN), "--out", "x.json").stderr
    for side in ("a", "b"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "run.json").write_bytes(RUN.read_bytes())
    done = _export("bencher", str(tmp_path / "a" / "run.json"), str(tmp_path / "b" / "run.json"))
    assert done.returncode == 2
    assert "are both run 'run'" in done.stderr
    once = json.loads(_export("bencher", str(RUN), str(RUN), f"{RUN.parent}/./{RUN.name}").stdout)
    assert once == json.loads(_export("bencher", str(RUN)).stdout)  # one file named three ways: exported once


@pytest.mark.slow
def test_exporting_again_replaces_instead_of_doubling(tmp_path, cases):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    mlflow = pytest.importorskip("mlflow")
    for _ in range(2):
        assert _export("tensorboard", str(RUN), "--out", str(tmp_path / "tb")).returncode == 0
    events = event_accumulator.EventAccumulator(str(tmp_path / "tb" / cases[0].run / cases[0].name)).Reload()
    assert [e.step for e in events.Scalars("epoch/val_acc")] == list(range(1, len(cases[0].curves["val_acc"]) + 1))
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    for _ in range(2):
        assert _export("mlflow", str(RUN), "--tracking-uri", uri).returncode == 0
    with warnings.catch_warnings():  # SQLAlchemy 2.1 deprecates a loader MLflow's sqlite store uses
        warnings.simplefilter("ignore", DeprecationWarning)
        client = mlflow.MlflowClient(tracking_uri=uri)
        experiment = client.get_experiment_by_name("mnist-models")
        assert len(client.search_runs([experiment.experiment_id], max_results=1000)) == len(cases)


@pytest.mark.slow
def test_an_mlflow_store_that_cannot_be_written_is_one_line(tmp_path):
    pytest.importorskip("mlflow")
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = _export("mlflow", str(RUN), "--tracking-uri", f"sqlite:///{blocker}/sub/m.db")
    assert (done.returncode, len(done.stderr.strip().splitlines())) == (2, 1), done.stderr
    done = _export("mlflow", str(RUN), "--tracking-uri", f"sqlite:///{RUN}")  # a file that is not a database
    assert (done.returncode, len(done.stderr.strip().splitlines())) == (2, 1), done.stderr
    assert "--tracking-uri" in done.stderr
