"""The A/B comparison: its paired statistics, and `mnist-models ab` end to end and on bad input."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mnist_models.ab.coordinator import Side, Worker, _message
from mnist_models.ab.paired import (
    UNDECIDABLE_FROM,
    Design,
    Verdict,
    chance_decided,
    compare_pairs,
    failures,
    markdown,
    replay,
    stop_rule,
)
from mnist_models.ab.protocol import Protocol
from mnist_models.bench.settings import SuiteSettings
from mnist_models.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _blocks(rng, n: int, ratio: float, noise: float = 0.05) -> tuple[list[float], list[float]]:
    drift = np.exp(rng.normal(0, 0.3, n))  # the machine's speed moves a lot from pair to pair...
    base = 0.01 * drift * np.exp(rng.normal(0, noise, n))
    head = 0.01 * ratio * drift * np.exp(rng.normal(0, noise, n))  # ...but both sides of a pair alike
    return list(base), list(head)


def test_identical_sides_pass_despite_drift_and_a_real_slowdown_fails():
    rng = np.random.default_rng(0)
    same = [_blocks(rng, 10, 1.0) for _ in range(6)]
    table = compare_pairs(
        {f"c{i}": b for i, (b, _) in enumerate(same)}, {f"c{i}": h for i, (_, h) in enumerate(same)}, 0.10
    )
    assert not table["failed"].any()
    slow = [_blocks(rng, 10, 1.25) for _ in range(6)]
    verdicts = replay(
        {f"c{i}": b for i, (b, _) in enumerate(slow)}, {f"c{i}": h for i, (_, h) in enumerate(slow)}, 0.10
    )
    assert all(v.failed for v in verdicts)
    lines = failures(verdicts, 0.10, 0.05)
    assert len(lines) == 6
    assert "95% interval" in lines[0]
    # the trimmed mean's 95% interval covers the true slowdown about 95% of the time
    many = {f"c{i}": _blocks(rng, 16, 1.25) for i in range(400)}
    table = compare_pairs({c: b for c, (b, _) in many.items()}, {c: h for c, (_, h) in many.items()}, 0.10)
    covered = ((table["ratio_low"] < 1.25) & (table["ratio_high"] > 1.25)).mean()
    assert 0.90 <= covered <= 0.99, covered


def test_wild_pairs_do_not_hide_a_slowdown_from_the_trimmed_statistic():
    """Measured pair noise is heavy-tailed: now and then a noisy neighbour on one block of a pair. With two such
    pairs in 16, a mean and a t-test see +8% at p = 0.22 (a miss); the 20%-trimmed mean sees the +25%."""
    rng = np.random.default_rng(3)
    base, head = _blocks(rng, 16, 1.25, noise=0.03)
    base[5] *= 3.0  # the base's blocks of pairs 6 and 12 hit by a neighbour: the head looks faster there
    base[11] *= 3.0
    table = compare_pairs({"c": base}, {"c": head}, 0.10)
    assert table["failed"].all()
    assert 1.15 < table["ratio"][0] < 1.35


def test_small_slowdown_below_the_threshold_passes_and_holm_guards_many_cases():
    rng = np.random.default_rng(1)
    small = {f"c{i}": _blocks(rng, 10, 1.04) for i in range(5)}  # real but below +10%: not a failure
    table = compare_pairs({c: b for c, (b, _) in small.items()}, {c: h for c, (_, h) in small.items()}, 0.10)
    assert (table["p_value"] < 0.05).any()
    assert not table["failed"].any()
    # false alarms over many identical cases: per-case p < 0.05 happens, Holm keeps the suite's rate at alpha
    alarms = 0
    for trial in range(200):
        rng = np.random.default_rng(100 + trial)
        cases = {f"c{i}": _blocks(rng, 10, 1.0, noise=0.2) for i in range(20)}
        table = compare_pairs({c: b for c, (b, _) in cases.items()}, {c: h for c, (_, h) in cases.items()}, 0.0)
        alarms += bool(table["failed"].any())
    assert alarms / 200 <= 0.08  # alpha 0.05, with room for the sampling error of 200 trials


def test_the_sequential_design_stops_early_when_it_can_and_keeps_the_false_alarm_rate():
    rng = np.random.default_rng(7)
    design = Design(max_pairs=16)
    calm = {f"c{i}": _blocks(rng, 16, 1.0, noise=0.02) for i in range(10)}  # identical code, quiet blocks
    table = compare_pairs({c: b for c, (b, _) in calm.items()}, {c: h for c, (_, h) in calm.items()}, 0.10,
                          design=design)  # fmt: skip
    assert (table["verdict"] == "within").all()
    assert table["pairs"].max() <= 8  # decided long before the cap
    slow = {f"c{i}": _blocks(rng, 16, 1.25, noise=0.02) for i in range(10)}
    table = compare_pairs({c: b for c, (b, _) in slow.items()}, {c: h for c, (_, h) in slow.items()}, 0.10,
                          design=design)  # fmt: skip
    assert (table["verdict"] == "slower").all()
    assert table["failed"].all()
    noisy = {"c": _blocks(rng, 16, 1.0, noise=0.4)}  # too noisy to decide: stopped as such, with what it could see
    table = compare_pairs({c: b for c, (b, _) in noisy.items()}, {c: h for c, (_, h) in noisy.items()}, 0.10,
                          design=design)  # fmt: skip
    row = table.iloc[0]
    assert row["verdict"] == "undecidable"
    assert UNDECIDABLE_FROM <= row["pairs"] < 16
    assert row["detectable"] > 0.10
    fixed = compare_pairs({c: b for c, (b, _) in noisy.items()}, {c: h for c, (_, h) in noisy.items()}, 0.10)
    assert (fixed.iloc[0]["verdict"], fixed.iloc[0]["pairs"]) == ("open", 16)  # the fixed design never stops early
    # false alarms over many identical comparisons, looked at after every pair: still at most alpha
    alarms = 0
    for trial in range(200):
        rng = np.random.default_rng(300 + trial)
        cases = {f"c{i}": _blocks(rng, 16, 1.0, noise=0.2) for i in range(20)}
        table = compare_pairs({c: b for c, (b, _) in cases.items()}, {c: h for c, (_, h) in cases.items()}, 0.0,
                              design=design)  # fmt: skip
        alarms += bool(table["failed"].any())
    assert alarms / 200 <= 0.08  # alpha 0.05, with room for the sampling error of 200 trials


def test_a_benchmark_stops_as_undecidable_only_when_the_cap_would_likely_not_decide_it():
    design = Design(max_pairs=16)
    # never before UNDECIDABLE_FROM pairs (fewer leave the standard error too uncertain), never at the cap, never in
    # the fixed design or where switched off (a bisect probe)
    assert design.futility_looks == range(UNDECIDABLE_FROM, 16)
    assert UNDECIDABLE_FROM >= 6
    assert Design(max_pairs=6, min_pairs=3).futility_looks == range(0)
    assert Design(max_pairs=16, min_pairs=9).futility_looks.start == 9
    assert not Design(fixed=True).futility_looks
    assert not Design(undecidable=False).futility_looks
    verdicts = replay({"c": [1.0] * 6}, {"c": [1.0] * 6}, 0.10, design=Design(max_pairs=6, min_pairs=3))
    for shown, named in ((Design(max_pairs=6, min_pairs=3), False), (design, True)):  # ab.md names only a real stop
        assert ("undecidable when" in markdown(verdicts, "t", shown, 0.10, 0.0)[2]) is named
        assert ("undecidable below" in stop_rule(shown)) is named
    row = _seen(pairs=8, ratio=1.0, log_se=0.01)  # quiet, centred on no change: the cap brings a verdict
    assert chance_decided(row, design, 0.10) > 0.99
    row = _seen(pairs=8, ratio=1.0, log_se=0.2)  # loud: 16 pairs leave it open whatever comes
    assert chance_decided(row, design, 0.10) < 0.01
    row = _seen(pairs=8, ratio=1.25, log_se=0.06)  # a +25% slowdown half seen: it is measured on
    assert chance_decided(row, design, 0.10) > 0.5
    assert chance_decided(_seen(pairs=16, ratio=1.25, log_se=0.06), design, 0.10) == 0.0  # nothing left to come
    # a real slowdown of noisy benchmarks is still found about as often as without the stop
    found = {"with": 0, "without": 0}
    for name, undecidable in (("with", True), ("without", False)):
        for seed in range(11, 16):  # 200 benchmarks
            rng = np.random.default_rng(seed)
            cases = {f"c{i}": _blocks(rng, 16, 1.25, noise=0.12) for i in range(40)}
            table = compare_pairs({c: b for c, (b, _) in cases.items()}, {c: h for c, (_, h) in cases.items()}, 0.10,
                                  design=Design(undecidable=undecidable))  # fmt: skip
            found[name] += int(table["failed"].sum())
    assert found["without"] > 150  # loud, but found mostly
    assert 0.97 * found["without"] <= found["with"] <= found["without"]  # the stop costs at most 3% of them


def _seen(pairs: int, ratio: float, log_se: float) -> Verdict:
    """A verdict with only what the conditional power reads."""
    return Verdict("c", pairs, 1, ratio, ratio, ratio, 0, 0.5, 0.0, True, log_se=log_se, excess=0.0)


def test_every_verdict_says_what_it_could_have_detected():
    rng = np.random.default_rng(9)
    quiet, loud = _blocks(rng, 16, 1.0, noise=0.01), _blocks(rng, 16, 1.0, noise=0.2)
    table = compare_pairs({"quiet": quiet[0], "loud": loud[0]}, {"quiet": quiet[1], "loud": loud[1]}, 0.10)
    detectable = table.set_index("benchmark")["detectable"]
    assert 0.10 < detectable["quiet"] < detectable["loud"]  # never below the threshold; wider with more noise


@pytest.fixture
def ab(tmp_path, data_root, monkeypatch):
    """Run `mnist-models ab` in the smoke profile on one small model, with this checkout as the head."""
    monkeypatch.chdir(ROOT)

    def run(base, *args, out=None):
        out = out or tmp_path / "out"
        argv = [
            "ab",
            "--base",
            str(base),
            "--profile",
            "smoke",
            "--models",
            "mlp_64",
            "--pairs",
            "4",
            "--data-dir",
            str(data_root[0]),
            "--cache-dir",
            str(tmp_path / "w"),
            "--out",
            str(out),
            *args,
        ]
        return main(argv), out

    return run


def _tree(tmp_path: Path, name: str = "base") -> Path:
    tree = tmp_path / name
    shutil.copytree(ROOT / "mnist_models", tree / "mnist_models", ignore=shutil.ignore_patterns("__pycache__"))
    return tree


@pytest.mark.slow
def test_identical_trees_pass_and_an_injected_slowdown_fails(ab, tmp_path, capsys):
    base = _tree(tmp_path)
    code, out = ab(base)
    assert code == 0
    assert {p.name for p in out.iterdir()} == {"base.json", "head.json", "ab.csv", "pairs.csv", "ab.md"}
    code, _ = ab(base, "--slowdown", "200%", out=tmp_path / "slow")
    assert code == 1
    assert "A/B gate FAILED" in capsys.readouterr().out
    # each side's run is stock pytest-benchmark JSON that our report reads; the slowdown is recorded
    assert main(["report", str(tmp_path / "slow" / "head.json"), "--out", str(tmp_path / "r")]) == 0
    assert "INJECTED slowdown" in (tmp_path / "r" / "summary.md").read_text()


@pytest.mark.slow
def test_both_sides_are_replaced_mid_way(ab, tmp_path, capsys):
    code, out = ab(_tree(tmp_path), "--restart-every", "2", "--groups", "latency")
    assert code == 0
    assert "[ab] 4 pairs at most, 2 process(es) per side" in capsys.readouterr().out
    assert json.loads((out / "head.json").read_text())["machine_info"]["mnist_models"]["ab"]["processes"] == 2


def test_a_replacement_takes_its_sides_first_peaks_instead_of_measuring(tmp_path, data_root):
    """So that both sides' replacements may start at once: neither measures a peak beside the other's start."""
    settings = SuiteSettings(
        profile="smoke", models=("mlp_64",), data_dir=str(data_root[0]), cache_dir=str(tmp_path / "w")
    )
    peaks = {"fp32": [1.5e9, 1.25e9], "bf16": None}
    worker = Worker(Side("head", ROOT, sys.executable), {**_message(settings, ["latency"]), "peaks": peaks})
    try:
        assert worker.ready()["protocol"] >= Protocol.GIVEN_PEAKS
        answer = worker.ask({"finish": True}, "finishing")
    finally:
        worker.close()
    assert answer["peaks"] == peaks
    assert answer["run"]["machine_info"]["mnist_models"]["matmul_peak_measurements"] == peaks["fp32"]


@pytest.mark.slow
def test_runtime_benchmarks_are_gated_with_the_same_runtime_on_both_sides(ab, tmp_path):
    pytest.importorskip("onnxruntime", reason="the onnx extra: pip install 'mnist-models[onnx]'")
    code, out = ab(_tree(tmp_path), "--groups", "latency", "--runtimes", "eager,onnxruntime", "--slowdown", "200%")
    assert code == 1
    table = pd.read_csv(out / "ab.csv").set_index("benchmark")
    assert set(table.index) == {"latency/mlp_64-seed0", "latency/mlp_64-seed0-onnxruntime"}
    assert table.loc["latency/mlp_64-seed0-onnxruntime", "failed"]
    head = json.loads((out / "head.json").read_text())
    assert {b["extra_info"]["runtime"] for b in head["benchmarks"]} == {"eager", "onnxruntime"}


def test_a_base_ref_that_does_not_exist_is_named(ab, capsys):
    code, out = ab("no-such-ref-anywhere")
    assert code == 2
    assert "'no-such-ref-anywhere' is neither a folder nor a commit" in capsys.readouterr().err
    assert not out.exists()


def test_a_base_tree_that_does_not_import_is_named(ab, tmp_path, capsys):
    base = _tree(tmp_path)
    (base / "mnist_models" / "__init__.py").write_text("def broken(:\n")
    code, out = ab(base)
    assert code == 2
    err = capsys.readouterr().err
    assert "the base side" in err
    assert "SyntaxError" in err
    assert not out.exists()


@pytest.mark.slow
def test_sides_measuring_different_data_are_refused(ab, tmp_path, capsys):
    base = _tree(tmp_path)
    profiles = base / "mnist_models" / "bench" / "profiles.py"
    profiles.write_text(profiles.read_text().replace("subset=(600, 200, 1000)", "subset=(600, 200, 500)"))
    code, out = ab(base)
    assert code == 2
    assert "do not measure the same thing" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_a_worker_dying_mid_run_is_named_and_nothing_is_written(ab, tmp_path, capsys):
    base = _tree(tmp_path)
    worker = base / "mnist_models" / "ab" / "worker.py"
    code = worker.read_text()
    assert 'send({"times": block})' in code
    worker.write_text(code.replace('send({"times": block})', "os._exit(3)"))  # dies at its first block
    code, out = ab(base)
    assert code == 2
    err = capsys.readouterr().err
    assert "the base side" in err
    assert "exited with code 3 while timing" in err
    assert not out.exists()


def test_the_trimmed_statistic_is_scipys():
    from scipy import stats
    from scipy.stats import mstats

    from mnist_models.stats.paired import trimmed_test

    rng = np.random.default_rng(11)
    for n in (3, 5, 8, 16, 23):
        logs = rng.standard_t(3, n)
        center, half, _ = trimmed_test(logs)
        df = n - 2 * int(0.2 * n) - 1
        assert center == pytest.approx(stats.trim_mean(logs, 0.2))
        assert half == pytest.approx(stats.t.ppf(0.975, df) * mstats.trimmed_stde(logs, limits=(0.2, 0.2)))
