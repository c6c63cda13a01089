"""Shards: every case in exactly one shard, balanced, deterministic; and merging the shards' runs."""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

import pytest
import torch

from mnist_models.bench.plan import SuitePlan
from mnist_models.bench.profiles import PROFILES
from mnist_models.bench.settings import SuiteSettings
from mnist_models.bench.shards import assign_shards, seconds_per_case, shard_costs
from mnist_models.cli import main
from mnist_models.models.registry import resolve_models
from mnist_models.parse import parse_shard

SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "test_mnist.py"


@pytest.mark.parametrize("count", [1, 2, 3, 5, 40])
def test_every_case_lands_in_exactly_one_shard(count):
    cases = [f"case{i}" for i in range(13)]
    costs = {c: float((i * 7) % 5 + 1) for i, c in enumerate(cases)}
    shards = assign_shards(cases, costs.get, count)
    assert len(shards) == count
    assert sorted(c for shard in shards for c in shard) == sorted(cases)
    assert shards == assign_shards(list(cases), costs.get, count)  # deterministic
    if count >= len(cases):
        assert sum(1 for shard in shards if shard) == len(cases)


def test_greedy_split_balances_by_cost():
    costs = {"a": 8, "b": 7, "c": 6, "d": 5, "e": 4}
    shards = assign_shards(list(costs), costs.get, 2)
    loads = sorted(sum(costs[c] for c in shard) for shard in shards)
    assert loads == [13, 17]  # longest first: 8+5+4 and 7+6
    # the greedy bound: no shard ends more than the costliest case above the lightest
    many = {f"c{i}": float((i * 37) % 11 + 1) for i in range(50)}
    loads = [sum(many[c] for c in shard) for shard in assign_shards(list(many), many.get, 4)]
    assert max(loads) - min(loads) <= max(many.values())


def test_suite_shards_keep_seeds_of_a_model_apart_from_nothing_and_balance_the_quick_suite():
    specs = tuple(resolve_models(["*"]))

    def plan(shard):
        return SuitePlan(
            PROFILES["quick"], specs, (0, 1), torch.device("cpu"), None, Path("."), 1, SuiteSettings(shard=shard)
        )

    everything = {(c.model, c.seed) for c in plan(None).cases}
    halves = [{(c.model, c.seed) for c in plan((k, 2)).cases} for k in (1, 2)]
    assert halves[0] | halves[1] == everything
    assert not halves[0] & halves[1]
    # the Very Big CNN's cases go to different shards: each shard gets one of the two costliest
    assert {("cnn_128_256_fc256_128", 0), ("cnn_128_256_fc256_128", 1)} - halves[0]


@pytest.mark.parametrize("text", ["0/2", "3/2", "1-2", "", "a/b"])
def test_bad_shard_is_named(text):
    with pytest.raises(argparse.ArgumentTypeError, match="is not a shard; use K/N"):
        parse_shard(text)


@pytest.mark.slow
def test_two_shards_merge_into_the_unsharded_set_of_cases(pytester, data_root, tmp_path):
    pytester.makepyfile(test_mnist=SUITE.read_text())
    common = [
        "--benchmark-only",
        "--mnist-profile=smoke",
        "--mnist-models=linear,mlp_64,lenet5",
        f"--mnist-data-dir={data_root[0]}",
        f"--mnist-cache-dir={tmp_path / 'w'}",
        "-p",
        "no:cacheprovider",
        "--mnist-no-report",
        "-k",
        "latency or (test_train and not step)",
    ]
    for k in (1, 2):
        pytester.runpytest_subprocess(*common, f"--mnist-shard={k}/2", f"--benchmark-json=shard{k}.json")
    shard_cases = [
        {
            (b["extra_info"]["model"], b["group"])
            for b in json.loads((pytester.path / f"shard{k}.json").read_text())["benchmarks"]
        }
        for k in (1, 2)
    ]
    assert shard_cases[0]
    assert shard_cases[1]
    assert not shard_cases[0] & shard_cases[1]
    assert json.loads((pytester.path / "shard1.json").read_text())["machine_info"]["mnist_models"]["shard"] == "1/2"
    merged = pytester.path / "merged.json"
    assert (
        main(["merge", str(pytester.path / "shard1.json"), str(pytester.path / "shard2.json"), "--out", str(merged)])
        == 0
    )
    cases = {(b["extra_info"]["model"], b["group"]) for b in json.loads(merged.read_text())["benchmarks"]}
    assert cases == {(m, g) for m in ("linear", "mlp_64", "lenet5") for g in ("train", "latency")}
    assert main(["report", str(merged), "--out", str(tmp_path / "report")]) == 0
    assert "merges shard1" in (tmp_path / "report" / "summary.md").read_text()
    # the same shard twice is refused, and nothing is written
    assert main(["merge", str(pytester.path / "shard1.json"), str(merged), "--out", str(tmp_path / "again.json")]) == 2
    assert not (tmp_path / "again.json").exists()


def test_measured_times_balance_shards_and_fill_in_unmeasured_models():
    run = {
        "benchmarks": [
            {"extra_info": {"model": "mlp_64", "seed": 0}, "stats": {"mean": 2.0, "rounds": 1}},
            {"extra_info": {"model": "mlp_64", "seed": 0}, "stats": {"mean": 0.1, "rounds": 10}},
            {"extra_info": {"model": "mlp_64", "seed": 1}, "stats": {"mean": 4.0, "rounds": 1}},
            {"extra_info": {}, "stats": {"mean": 9.0, "rounds": 1}},  # not ours: ignored
        ]
    }
    assert seconds_per_case(run) == pytest.approx({"mlp_64": (2.0 + 1.0 + 4.0) / 2})
    specs = tuple(resolve_models(["mlp_64", "mlp_128_64"]))
    cases = SuitePlan(PROFILES["quick"], specs, (0,), torch.device("cpu"), None, Path("."), 1).cases
    costs = shard_costs(PROFILES["quick"], cases, {"mlp_64": 3.5})
    assert costs["mlp_64"] == 3.5
    # the unmeasured model at the measured one's seconds per FLOP: more FLOPs, more seconds
    assert costs["mlp_128_64"] > costs["mlp_64"]


@pytest.mark.slow
def test_unreadable_shard_times_are_a_usage_error(pytester, tmp_path):
    pytester.makepyfile(test_mnist=SUITE.read_text())
    (tmp_path / "cut.json").write_text('{"benchmarks": [')
    result = pytester.runpytest_subprocess(
        "--mnist-shard=1/2",
        f"--mnist-shard-times={tmp_path / 'cut.json'}",
        "--mnist-models=mlp_64",
        "-p",
        "no:cacheprovider",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--mnist-shard-times *cut.json: not a readable pytest-benchmark JSON run*"])
    alone = pytester.runpytest_subprocess(f"--mnist-shard-times={tmp_path / 'cut.json'}", "-p", "no:cacheprovider")
    assert alone.ret == pytest.ExitCode.USAGE_ERROR


SMOKE = Path(__file__).parents[1] / "fixtures" / "smoke_run_schema1.json"  # saved by the suite in schema 1


def _split_smoke(tmp_path, change=None):
    run = json.loads(SMOKE.read_text())
    first, second = copy.deepcopy(run), copy.deepcopy(run)
    first["benchmarks"] = [b for b in run["benchmarks"] if b["extra_info"]["model"] == "mlp_64"]
    second["benchmarks"] = [b for b in run["benchmarks"] if b["extra_info"]["model"] != "mlp_64"]
    if change:
        change(second)
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    for path, part in zip(paths, (first, second), strict=True):
        path.write_text(json.dumps(part))
    return [str(p) for p in paths]


def test_merge_restores_the_whole_run_and_says_where_each_case_ran(tmp_path):
    out = tmp_path / "merged.json"
    assert main(["merge", *_split_smoke(tmp_path), "--out", str(out)]) == 0
    merged = json.loads(out.read_text())
    assert len(merged["benchmarks"]) == len(json.loads(SMOKE.read_text())["benchmarks"])
    assert {b["extra_info"]["ran_in"] for b in merged["benchmarks"]} == {"a", "b"}
    assert [s["run"] for s in merged["machine_info"]["mnist_models"]["merged_from"]] == ["a", "b"]


def _profile(run, value):
    for bench in run["benchmarks"]:
        bench["extra_info"]["profile"] = value


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda run: _profile(run, "quick"), "different profiles (a.json: smoke, b.json: quick)"),
        (lambda run: run["machine_info"]["mnist_models"].update(mnist_models="9.9"), "different suite versions"),
        (
            lambda run: run.update(benchmarks=[{"name": "test_x", "stats": {}, "extra_info": {}}]),
            "carries an mnist-models record",
        ),
    ],
)
def test_merge_refuses_runs_that_do_not_belong_together(tmp_path, capsys, change, message):
    out = tmp_path / "merged.json"
    assert main(["merge", *_split_smoke(tmp_path, change), "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_merge_names_a_truncated_file(tmp_path, capsys):
    paths = _split_smoke(tmp_path)
    Path(paths[1]).write_text(Path(paths[1]).read_text()[:3000])
    assert main(["merge", *paths, "--out", str(tmp_path / "m.json")]) == 2
    assert "may be truncated" in capsys.readouterr().err
