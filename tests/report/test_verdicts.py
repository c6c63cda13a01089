"""The report's verdicts: corrected comparisons, architecture claims across seeds, budgets, a sound peak,
floors then and now, and no time gate across machines."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import rescore  # tests/conftest.py
from mnist_models.cli import main
from mnist_models.report.sections.compose import SECTIONS
from mnist_models.report.tables import budgets, reference
from mnist_models.results.outcome import decode_classes
from mnist_models.stats import multiple, seeds

SMOKE = Path(__file__).parents[1] / "fixtures" / "smoke_run_schema1.json"  # 5 models, one seed, 1,000 test images


@pytest.fixture(scope="module")
def smoke():
    return json.loads(SMOKE.read_text())


def _write(tmp_path, name, data) -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data))
    return str(path)


def _report(tmp_path, *args, figures: bool = False) -> Path:
    out = tmp_path / "r"
    assert main(["report", *args, "--out", str(out), *([] if figures else ["--no-figures"])]) == 0
    return out


def test_pairwise_comparisons_are_holm_corrected_ordered_by_accuracy_and_named(tmp_path):
    out = _report(tmp_path, str(SMOKE))
    with (out / "significance.csv").open() as fh:
        pairs = list(csv.DictReader(fh))
    assert len(pairs) == 10  # 5 models: every pair once
    raw, adjusted = np.array([float(p["p_value"]) for p in pairs]), np.array([float(p["holm_p"]) for p in pairs])
    assert np.allclose(adjusted, multiple.holm(raw))
    assert (adjusted >= raw - 1e-12).all()
    found = json.loads((out / "insights.json").read_text())
    assert found["comparisons_of"] == "weights"
    with (out / "summary.csv").open() as fh:
        order = [r["model"] for r in csv.DictReader(fh)]
    best = order[0]
    assert found["best_model"] == best
    # the family is every pair (chosen before the data), so a verdict about the model that came out best holds
    below = {(p["b"] if float(p["difference_pp"]) > 0 else p["a"]) for p in pairs if float(p["holm_p"]) < 0.05}
    assert found["could_be_best"] == [m for m in order if m not in below]
    assert best in found["could_be_best"]
    assert found["family"] == "every pair of models, Holm-corrected (10 pairs)"
    for model, versus in found["against_best"].items():  # each one says what it could have detected
        assert versus["detectable_pp"] > 0, model
    assert sum(found["rank_first"].values()) == pytest.approx(1.0)
    summary = (out / "summary.md").read_text()
    assert "in one family, every pair of models, Holm-corrected (10 pairs)" in summary
    assert "detectable (80%)" in summary
    assert "these trained weights" in summary
    assert "most_parameter_efficient" not in found  # accuracy per parameter always named the linear model


def test_one_seed_says_how_many_seeds_an_architecture_claim_needs(tmp_path, smoke):
    quick = copy.deepcopy(smoke)
    for bench in quick["benchmarks"]:
        bench["extra_info"]["profile"] = "quick"  # a profile whose seed-to-seed spread was measured
    found = json.loads((_report(tmp_path, _write(tmp_path, "quick", quick)) / "insights.json").read_text())
    claim = found["seeds_for_an_architecture_claim"]
    known = reference.seed_spread("quick")  # a committed run's spread, named in the text
    assert claim["seed_sd_pp"] == pytest.approx(known["seed_variance"] ** 0.5 * 100)
    assert known["source"] in claim["source"]
    needed = [claim["seeds"][size] or 10**6 for size in ("0.5", "0.2", "0.1")]  # None: no number of seeds will do
    assert needed == sorted(needed)
    assert "telling two architectures apart by 0.5 points takes" in (tmp_path / "r" / "summary.md").read_text()


def test_budgets_name_the_pareto_set_of_each_cost(tmp_path):
    found = json.loads((_report(tmp_path, str(SMOKE)) / "insights.json").read_text())
    with (tmp_path / "r" / "summary.csv").open() as fh:
        rows = {r["model"]: r for r in csv.DictReader(fh)}
    for cost, front in found["pareto"].items():
        higher = budgets.COSTS[cost][1]
        values = [p["value"] for p in front]
        assert values == sorted(values, reverse=higher)  # cheapest (or fastest) first
        accuracies = [p["accuracy"] for p in front]
        assert accuracies == sorted(accuracies)  # each step up the front buys accuracy
        for model, row in rows.items():  # nothing off the front beats a pick on both counts
            for point in front:
                cheaper = float(row[cost]) > point["value"] if higher else float(row[cost]) < point["value"]
                assert not (cheaper and float(row["test_accuracy"]) > point["accuracy"]), (cost, model, point)
    assert found["pareto"]["params"][-1]["model"] == found["best_model"]


def _seeded(smoke: dict, seeds: int) -> dict:
    """The smoke run as if each model had ``seeds`` seeds: seed k's network wrong on k*3 more images."""
    run = copy.deepcopy(smoke)
    benches = []
    for k in range(seeds):
        for bench in copy.deepcopy(smoke["benchmarks"]):
            info = bench["extra_info"]
            info["seed"] = k
            bench["name"] = bench["name"].replace("seed0", f"seed{k}")
            test = info["outcome"]["test"]
            pred, labels = decode_classes(test["predictions"]).copy(), decode_classes(test["labels"])
            right = np.flatnonzero(pred == labels)[: k * 3]
            pred[right] = (labels[right] + 1) % 10
            rescore(test, pred, labels)
            info["outcome"]["time_to_accuracy"] = {"0.97": 1.0 + k if info["family"] == "cnn" else None}
            benches.append(bench)
    run["benchmarks"] = benches
    return run


def test_with_several_seeds_the_comparisons_are_of_architectures(tmp_path, smoke):
    out = _report(tmp_path, _write(tmp_path, "seeds", _seeded(smoke, 3)), figures=True)
    found = json.loads((out / "insights.json").read_text())
    assert found["comparisons_of"] == "architectures"
    assert found["seeds_per_model"] == 3
    assert found["seeds_for_an_architecture_claim"]["source"].startswith("measured in this run")
    with (out / "significance.csv").open() as fh:
        pair = next(csv.DictReader(fh))
    assert float(pair["rank_p"]) >= 0.1  # 3 x 3 seeds: the distribution-free p cannot go below 0.1
    assert float(pair["test_set_sd_pp"]) >= 0
    summary = (out / "summary.md").read_text()
    assert "Comparisons of **architectures** over 3 seeds" in summary
    files = SECTIONS.figure_files()
    for figure in (
        ("time_to_target", "time_to_target"),
        ("significance", "significance"),
    ):
        assert (out / files[figure]).is_file()
    # one epoch each (the smoke profile): no curve to draw, and the page says so
    assert not (out / files[("learning", "learning_curves")]).exists()
    assert "learning-curves figure was not drawn" in summary


def test_architecture_test_on_known_answers():
    rng = np.random.default_rng(0)
    same = (rng.random((3, 2000)) < 0.97).astype(float)  # three seeds of one architecture...
    other = (rng.random((3, 2000)) < 0.97).astype(float)  # ...and of another as good
    result = seeds.architecture_test(same, other)
    assert abs(result.difference) < 3 * result.se
    assert result.p_value > 0.01
    assert seeds.architecture_test(same, same).p_value == 1.0  # identical seeds: nothing to tell apart
    better = (rng.random((5, 10_000)) < 0.98).astype(float)  # 1 point more accurate, five seeds of each
    result = seeds.architecture_test(better, (rng.random((5, 10_000)) < 0.97).astype(float))
    assert result.difference == pytest.approx(0.01, abs=0.003)
    assert result.p_value < 0.001
    with pytest.raises(ValueError, match="two seeds of each"):
        seeds.architecture_test(same[:1], other)


def test_the_test_set_term_is_counted_once_and_never_lowers_the_variance():
    rng = np.random.default_rng(1)
    hard = rng.random(5000) < 0.05  # images that fail often
    a = ((rng.random((4, 5000)) < 0.99) & ~(hard & (rng.random((4, 5000)) < 0.5))).astype(float)
    b = ((rng.random((4, 5000)) < 0.99) & ~(np.roll(hard, 7) & (rng.random((4, 5000)) < 0.5))).astype(float)
    variance = seeds.seed_variance(a, b)
    welch = a.mean(1).var(ddof=1) / 4 + b.mean(1).var(ddof=1) / 4
    assert variance.total >= welch  # the test-set term can only widen the interval
    assert variance.images > 0  # the two err on different images: the term is there
    naive = welch + (a.mean(0) - b.mean(0)).var(ddof=1) / 5000  # the interaction counted twice, as before
    assert variance.total < naive


def test_detectable_difference_and_seeds_needed_follow_the_same_variance():
    variance = seeds.SeedVariance(0.0015**2 / 3, 0.0015**2 / 3, 0.0008**2, 3, 3, 10_000)
    mdd = seeds.detectable(variance, 0.05)
    assert seeds.detectable(variance.at(10, 10), 0.05) < mdd  # more seeds, smaller detectable difference
    k = seeds.seeds_needed(mdd, variance, 0.05)
    assert k is not None
    assert k <= 3
    assert seeds.seeds_needed(0.0005, variance, 0.05) is None  # below the test-set term's reach: no number of seeds
    assert seeds.rank_p(np.array([0.99, 0.992, 0.991]), np.array([0.98, 0.981, 0.982])) == pytest.approx(0.1)


def test_an_efficiency_above_the_peak_is_shown_and_said_not_hidden(tmp_path, smoke):
    """A run whose peak probes fell short of what a benchmark achieved: the peak stays the measured one, the
    fraction shows above 100%, and the report says by how much the probes fell short."""
    run = copy.deepcopy(smoke)
    best = max(b["extra_info"].get("peak_fraction") or 0 for b in run["benchmarks"])
    for bench in run["benchmarks"]:
        info = bench["extra_info"]
        if info.get("peak_fraction"):
            info["peak_fraction"] *= 1.4 / best  # the best now at 140% of the recorded peak
    out = _report(tmp_path, _write(tmp_path, "over", run))
    with (out / "summary.csv").open() as fh:
        fractions = [
            float(r[c])
            for r in csv.DictReader(fh)
            for c in ("train_step_peak_fraction", "throughput_peak_fraction")
            if r[c]
        ]
    assert max(fractions) == pytest.approx(1.4)
    assert "ran at up to 140% of the measured matmul peak" in (out / "summary.md").read_text()
    assert "fell short of the true ceiling by at least 40%" in (out / "summary.md").read_text()


def test_floors_then_and_today_are_both_shown_with_the_reason(tmp_path, smoke):
    run = copy.deepcopy(smoke)
    for bench in run["benchmarks"]:
        info = bench["extra_info"]
        if info["model"] == "mlp_256_128":
            info["profile"], info["floor"], info["floor_passed"] = "full", 0.999, False  # then: 99.9%, failed
            test = info["outcome"]["test"]
            labels = decode_classes(test["labels"])
            pred = labels.copy()
            pred[:20] = (labels[:20] + 1) % 10  # 980 of 1,000 right: 98%
            rescore(test, pred, labels)
    md = (_report(tmp_path, _write(tmp_path, "floors", run)) / "summary.md").read_text()
    assert "99.90% ✗ FAILED (today 97.06% ✓)" in md
    assert "mlp_256_128: 99.90% then, 97.06% today (lowered to the median of three seeds" in md


def test_a_time_rule_across_machines_is_refused_pointing_to_ab(tmp_path, smoke, capsys):
    other = copy.deepcopy(smoke)
    other["machine_info"]["cpu"]["brand_raw"] = "Intel Xeon"
    other["machine_info"]["cpu"]["flags"] = ["avx2"]
    code = main(["report", str(SMOKE), "--compare", _write(tmp_path, "other", other), "--out", str(tmp_path / "r"),
                 "--fail-on", "time:median:15%", "--no-figures"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "ran on different machines (CPU: Intel Xeon vs AMD EPYC, ISA: avx2 vs" in err
    assert "mnist-models ab" in err
    # the accuracy rule across the same two runs is what holds: accepted
    assert main(["report", str(SMOKE), "--compare", str(tmp_path / "other.json"), "--out", str(tmp_path / "r2"),
                 "--fail-on", "accuracy:0.3pp", "--no-figures"]) == 0  # fmt: skip


def test_a_time_rule_on_one_machine_needs_significance_too(tmp_path, smoke, capsys):
    slower = copy.deepcopy(smoke)
    for bench in slower["benchmarks"]:
        if bench["group"] == "throughput":  # 3 rounds: +50% on the medians, yet too few rounds to be significant
            for key in ("min", "max", "mean", "median"):
                bench["stats"][key] *= 1.5
            bench["extra_info"]["round_times_s"] = [t * 1.5 for t in bench["extra_info"]["round_times_s"]]
    args = ["report", _write(tmp_path, "slower", slower), "--compare", str(SMOKE), "--out", str(tmp_path / "r"),
            "--no-figures"]  # fmt: skip
    assert main([*args, "--fail-on", "time:median:15%:throughput"]) == 0
    assert main([*args, "--fail-on", "time:median:15%:latency"]) == 0


def test_holm_is_statsmodels_holm():
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(3)
    for size in (1, 2, 7, 40):
        p = rng.uniform(0, 0.2, size)
        p[rng.random(size) < 0.2] = 1.0
        assert np.allclose(multiple.holm(p), multipletests(p, method="holm")[1])


def test_models_whose_latency_intervals_overlap_are_named_together(monkeypatch):
    """Between fresh processes a latency moves (a committed study's spread): the front is the point estimates',
    and beside each pick the answer names the models whose cost interval overlaps its own and whose accuracy is
    not separated from it."""
    monkeypatch.setattr(budgets, "process_spread", lambda group, model: 0.2)  # ×/÷ e^(1.96·0.2) ≈ 1.48
    summary = pd.DataFrame(
        {
            "model": ["big", "mid", "small", "slow"],
            "test_accuracy": [0.99, 0.98, 0.97, 0.96],
            "ci_low": [0.98, 0.97, 0.96, 0.95],
            "ci_high": [0.995, 0.985, 0.975, 0.965],
            "latency_p50_ms": [1.0, 0.30, 0.25, 0.26],  # mid and small overlap; big is slower beyond both
        }
    )
    front = budgets.fronts(summary, [])["latency_p50_ms"]
    assert [p["model"] for p in front] == ["small", "mid", "big"]  # slow: dearer than small and less accurate
    named = {p["model"]: p["apart"] for p in front}
    assert named == {"small": ["mid", "slow"], "mid": ["small", "slow"], "big": []}
    assert front[0]["low"] < 0.25 < front[0]["high"]
    assert front[1]["gain_over"] == "small"
    assert front[1]["gain_pp"] == pytest.approx(1.0)
    # without the spread no cost overlaps another: nothing to name, the front the same
    monkeypatch.setattr(budgets, "process_spread", lambda group, model: 0.0)
    again = budgets.fronts(summary, [])["latency_p50_ms"]
    assert [p["model"] for p in again] == ["small", "mid", "big"]
    assert all(not p["apart"] for p in again)
