"""The history: series per machine, change points at the right commit, a page, and bad input named."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import numpy as np
import pytest

from mnist_models.cli import main

SMOKE = Path(__file__).parents[1] / "fixtures" / "smoke_run_schema1.json"


@pytest.fixture(scope="module")
def smoke():
    return json.loads(SMOKE.read_text())


def _run(smoke: dict, k: int, factor: float, rng, cpu: str = "AMD EPYC") -> dict:
    """Run ``k`` of a history: its own commit an hour after the last, times x ``factor`` x 2% noise."""
    run = copy.deepcopy(smoke)
    run["commit_info"] = {"id": f"{k:02d}" + "ab" * 19, "time": f"2026-11-{k + 1:02d}T10:00:00+00:00", "dirty": False}
    run["datetime"] = f"2026-11-{k + 1:02d}T11:00:00+00:00"
    run["machine_info"]["cpu"]["brand_raw"] = cpu
    for bench in run["benchmarks"]:
        noise = factor * float(np.exp(rng.normal(0, 0.02)))
        for key in ("min", "max", "mean", "median"):
            bench["stats"][key] *= noise
        bench["extra_info"]["round_times_s"] = [t * noise for t in bench["extra_info"]["round_times_s"]]
    return run


def _storage(tmp_path: Path, runs: list[dict], folder: str = "Linux-CPython-3.11-64bit") -> Path:
    where = tmp_path / "store" / folder
    where.mkdir(parents=True, exist_ok=True)
    for k, run in enumerate(runs):
        (where / f"{k + 1:04d}_run{k:02d}.json").write_text(json.dumps(run))
    return tmp_path / "store"


def test_a_slowdown_from_one_run_on_is_one_step_at_that_run_in_every_time_series(tmp_path, smoke, capsys):
    rng = np.random.default_rng(0)
    store = _storage(tmp_path, [_run(smoke, k, 1.3 if k >= 6 else 1.0, rng) for k in range(12)])
    assert main(["history", "--storage", str(store), "--out", str(tmp_path / "h")]) == 0
    with (tmp_path / "h" / "changes.csv").open() as fh:
        changes = list(csv.DictReader(fh))
    timed = [c for c in changes if c["metric"] == "time"]
    benchmarks = {(c["model"], c["benchmark"]) for c in timed}
    assert len(benchmarks) == 5 * 6  # every time series: 5 models x 6 benchmarks (engine has two loops)...
    assert all(
        c["between"] == "05ababab → 06ababab" and c["verdict"] == "REGRESSION" for c in timed
    )  # ...one step each
    assert not [c for c in changes if c["metric"] == "accuracy"]  # the weights did not change
    page = (tmp_path / "h" / "index.html").read_text()
    assert "Regressions, newest first" in page
    assert (tmp_path / "h" / "summary.md").read_text().count("REGRESSION") >= 30
    assert any(p.name.startswith("history_time_") for p in (tmp_path / "h").iterdir())
    # the two commits are not in this repository, so nothing says they are one apart: how to find the commit
    printed = capsys.readouterr().out
    assert "to find the commit, mnist-models bisect --good 05ababababab --bad 06ababababab --models" in printed
    assert "--groups latency --benchmarks 'latency/" in printed


def test_series_never_mix_machine_identities(tmp_path, smoke):
    rng = np.random.default_rng(1)
    # two machines in one storage, alternating, the second twice as slow: no step, since no series holds both
    runs = [_run(smoke, k, 2.0 if k % 2 else 1.0, rng, cpu="Intel Xeon" if k % 2 else "AMD EPYC") for k in range(12)]
    store = _storage(tmp_path, runs)
    assert main(["history", "--storage", str(store), "--out", str(tmp_path / "h"), "--no-figures"]) == 0
    with (tmp_path / "h" / "history.csv").open() as fh:
        points = list(csv.DictReader(fh))
    machines = {p["machine"] for p in points}
    assert len(machines) == 2
    for machine in machines:  # each series' points all from its own machine's runs
        runs_of = {p["run"] for p in points if p["machine"] == machine}
        assert len(runs_of) == 6
    with (tmp_path / "h" / "changes.csv").open() as fh:
        assert [c for c in csv.DictReader(fh) if c["metric"] == "time"] == []


def test_ab_ratios_kept_beside_suite_runs_are_series_of_their_own_with_the_step_at_its_run(tmp_path, smoke):
    """The example workflow's history branch: suite runs in runs/, A/B heads (+ ab.csv) in ab/<commit>/."""
    rng = np.random.default_rng(2)
    store = _storage(tmp_path, [_run(smoke, k, 1.0, rng) for k in range(12)], folder="runs")
    for k in range(12):
        head = _run(smoke, k, 1.0, rng)
        head["machine_info"]["mnist_models"]["ab"] = {"side": "head"}
        folder = store / "ab" / f"{k:02d}"
        folder.mkdir(parents=True)
        (folder / "head.json").write_text(json.dumps(head))
        ratio = (1.25 if k >= 6 else 1.0) * float(np.exp(rng.normal(0, 0.02)))
        rows = [f"{b['group']}/{b['name'].split('[', 1)[-1].rstrip(']')},16,{ratio},{ratio * 0.97},{ratio * 1.03},8,0.5,0.5,False"
                for b in head["benchmarks"]]  # fmt: skip
        (folder / "ab.csv").write_text("benchmark,pairs,ratio,ratio_low,ratio_high,head_faster_pairs,p_value,holm_p,failed\n"
                                       + "\n".join(rows) + "\n")  # fmt: skip
    assert main(["history", "--storage", str(store), "--out", str(tmp_path / "h"), "--no-figures"]) == 0
    with (tmp_path / "h" / "history.csv").open() as fh:
        points = list(csv.DictReader(fh))
    suite = {p["run"] for p in points if p["metric"] == "time" and "A/B" not in p["benchmark"]}
    blocks = {p["run"] for p in points if p["metric"] == "time" and p["benchmark"].endswith("· A/B blocks")}
    assert len(suite) == 12
    assert len(blocks) == 12
    assert not suite & blocks
    assert {p["run"] for p in points if p["metric"] == "ab_ratio"} == {f"{k:02d}/head" for k in range(12)}
    with (tmp_path / "h" / "changes.csv").open() as fh:
        changes = list(csv.DictReader(fh))
    ratios = [c for c in changes if c["metric"] == "ab_ratio"]
    assert ratios
    assert all(c["between"] == "05ababab → 06ababab" and c["run"] == "06/head" for c in ratios)
    assert not [c for c in changes if c["metric"] == "time"]  # the raw times did not move


def test_fail_on_change_exits_1_when_the_newest_point_regresses(tmp_path, smoke, capsys):
    rng = np.random.default_rng(2)
    steady = [_run(smoke, k, 1.0, rng) for k in range(10)]
    store = _storage(tmp_path, steady)
    assert main(["history", "--storage", str(store), "--out", str(tmp_path / "h"), "--fail-on-change", "10%",
                 "--no-figures"]) == 0  # fmt: skip
    (store / "Linux-CPython-3.11-64bit" / "0011_run10.json").write_text(json.dumps(_run(smoke, 10, 1.4, rng)))
    assert main(["history", "--storage", str(store), "--out", str(tmp_path / "h2"), "--fail-on-change", "10%",
                 "--no-figures"]) == 1  # fmt: skip
    assert "the newest point opens a regression step" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"benchmarks": [{"name": "x", "stat', "not valid JSON"),
        (
            '{"machine_info": {}, "benchmarks": [{"name": "t", "extra_info": {"rows": 1}}]}',
            "carries an mnist-models record",
        ),
        (None, "no saved runs there"),
    ],
)
def test_bad_input_is_exit_2_with_a_clear_message(tmp_path, content, message, capsys):
    store = tmp_path / "store"
    store.mkdir()
    if content is not None:
        (store / "0001_bad.json").write_text(content)
    assert main(["history", "--storage", str(store), "--out", str(tmp_path / "h")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "h").exists()
