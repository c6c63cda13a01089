"""The saved record: one outcome per (model, seed), old schemas read the same, bad records are named."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from mnist_models.cli import main
from mnist_models.results.record import SCHEMA, RunError, pack_outcomes, records_of

ROOT = Path(__file__).resolve().parents[2]
OLD = ROOT / "tests" / "fixtures" / "smoke_run_schema1.json"  # saved by the suite before schema 2


def _upgraded(tmp_path: Path) -> Path:
    target = tmp_path / OLD.name  # the same run name: the reports say it
    assert main(["upgrade", str(OLD), str(target)]) == 0
    return target


def _same(a, b) -> None:
    assert (a.model, a.group, a.seed, a.images_per_s, a.round_times_s) == (
        b.model,
        b.group,
        b.seed,
        b.images_per_s,
        b.round_times_s,
    )
    assert a.outcome.to_json() == b.outcome.to_json()
    assert np.array_equal(a.outcome.test.predictions, b.outcome.test.predictions)


def test_upgraded_run_stores_each_outcome_once_and_reads_back_the_same(tmp_path):
    old = json.loads(OLD.read_text())["benchmarks"]
    new = json.loads(_upgraded(tmp_path).read_text())["benchmarks"]
    assert {b["extra_info"]["schema"] for b in new} == {SCHEMA}
    kept = [b for b in new if b["extra_info"]["outcome"] is not None]
    assert len(kept) == len({(b["extra_info"]["model"], b["extra_info"]["seed"]) for b in new}) < len(new)
    for before, after in zip(records_of(old), records_of(new), strict=True):
        _same(before, after)
    assert _upgraded(tmp_path).stat().st_size < OLD.stat().st_size / 2  # smoke: 1,000 test images; default: 10,000


def test_an_outcome_that_differs_is_kept_whole(tmp_path):
    benchmarks = json.loads(_upgraded(tmp_path).read_text())["benchmarks"]
    full = next(b for b in benchmarks if b["extra_info"]["outcome"] is not None)
    later = next(
        b for b in benchmarks[benchmarks.index(full) + 1 :] if b["extra_info"]["model"] == full["extra_info"]["model"]
    )
    other = copy.deepcopy(full["extra_info"]["outcome"])
    other["best_epoch"] = 99  # weights from another session's cache
    later["extra_info"]["outcome"] = other
    after = benchmarks[benchmarks.index(later) + 1 :]
    pack_outcomes(benchmarks)
    assert later["extra_info"]["outcome"]["best_epoch"] == 99
    records = records_of(benchmarks)
    assert records[benchmarks.index(later)].outcome.best_epoch == 99
    assert records[benchmarks.index(full)].outcome.best_epoch != 99
    same_model = [b for b in after if b["extra_info"]["model"] == full["extra_info"]["model"]]
    assert all(records[benchmarks.index(b)].outcome.best_epoch == 99 for b in same_model)


def test_a_missing_outcome_is_an_error_naming_the_benchmark_and_field(tmp_path):
    data = json.loads(_upgraded(tmp_path).read_text())
    for bench in data["benchmarks"]:
        bench["extra_info"]["outcome"] = None  # e.g. a hand-cut file
    with pytest.raises(RunError, match=r"cut.json: benchmark test_\w+\[\S+\]: field outcome: none stored for"):
        records_of(data["benchmarks"], "cut.json")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("params", "many", "field params: 'many' is not of type 'integer'"),
        ("seed", None, "field seed: None is not of type 'integer'"),
        ("cache", "somewhere", "field cache: 'somewhere' is not one of"),
        ("schema", "mnist-models/9", "record schema 'mnist-models/9' is not one this version"),
    ],
)
def test_a_bad_record_is_an_error_naming_file_benchmark_and_field(tmp_path, field, value, message):
    data = json.loads(_upgraded(tmp_path).read_text())
    bench = data["benchmarks"][3]
    bench["extra_info"][field] = value
    with pytest.raises(RunError) as error:
        records_of(data["benchmarks"], "run.json")
    assert str(error.value).startswith(f"run.json: benchmark {bench['name']}: ")
    assert message in str(error.value)


def test_a_bad_field_deep_in_an_outcome_is_named_by_its_path(tmp_path):
    data = json.loads(_upgraded(tmp_path).read_text())
    outcome = next(b["extra_info"]["outcome"] for b in data["benchmarks"] if b["extra_info"]["outcome"])
    outcome["test"]["predictions"] = "12x4"
    with pytest.raises(RunError, match=r"field outcome/test/predictions: '12x4' does not match"):
        records_of(data["benchmarks"], "run.json")


def test_benchmarks_of_other_projects_are_not_ours_and_left_out(tmp_path):
    data = json.loads(_upgraded(tmp_path).read_text())
    foreign = {"name": "test_sum", "group": None, "stats": {}, "extra_info": {"rows": 3}}
    records = records_of([foreign, *data["benchmarks"]], "run.json")
    assert records[0] is None
    assert all(r is not None for r in records[1:])


def test_report_of_the_old_and_the_upgraded_run_is_the_same(tmp_path):
    upgraded = _upgraded(tmp_path)
    assert main(["report", str(OLD), "--out", str(tmp_path / "old"), "--no-figures"]) == 0
    assert main(["report", str(upgraded), "--out", str(tmp_path / "new"), "--no-figures"]) == 0
    for name in ("summary.csv", "per_class.csv", "insights.json", "summary.md"):
        assert (tmp_path / "old" / name).read_text() == (tmp_path / "new" / name).read_text(), name


def test_upgrade_of_a_run_that_does_not_read_is_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["upgrade", str(bad), str(tmp_path / "new.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mnist-models upgrade: error: {bad}: ")
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "new.json").exists()
