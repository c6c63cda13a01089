"""The report's verdicts: corrected comparisons, architecture claims across seeds, budgets, a sound peak,
floors then and now, and no time gate across machines."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import numpy as np
import pytest

from mnist_models.cli import main
from mnist_models.report.sections.compose import SECTIONS
from mnist_models.report.tables import verdicts
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
    with_best = [p for p in pairs if best in (p["a"], p["b"])]  # the verdict's own family: one per other model
    holm_vs_best = multiple.holm([float(p["p_value"]) for p in with_best])
    others = [p["b"] if p["a"] == best else p["a"] for p in with_best]
    assert found["tied_with_best"] == pytest.approx(
        {m: p for m, p in zip(others, holm_vs_best, strict=True) if p >= 0.05}
    )
    summary = (out / "summary.md").read_text()
    assert "Holm-corrected over the 10 pairs" in summary
    assert "these trained weights" in summary
    assert "most_parameter_efficient" not in found  # accuracy per parameter always named the linear model


def test_one_seed_says_how_many_seeds_an_architecture_claim_needs(tmp_path, smoke):
    quick = copy.deepcopy(smoke)
    for bench in quick["benchmarks"]:
        bench["extra_info"]["profile"] = "quick"  # a profile whose seed-to-seed spread was measured
    found = json.loads((_report(tmp_path, _write(tmp_path, "quick", quick)) / "insights.json").read_text())
    claim = found["seeds_for_an_architecture_claim"]
    assert claim["seed_sd_pp"] == verdicts.REFERENCE_SEED_SD_PP["quick"]
    assert claim["seeds"]["0.5"] < claim["seeds"]["0.2"] < claim["seeds"]["0.1"]
    assert "telling two architectures apart by 0.5 points takes" in (tmp_path / "r" / "summary.md").read_text()


def test_budgets_name_the_pareto_set_of_each_cost(tmp_path):
    found = json.loads((_report(tmp_path, str(SMOKE)) / "insights.json").read_text())
    with (tmp_path / "r" / "summary.csv").open() as fh:
        rows = {r["model"]: r for r in csv.DictReader(fh)}
    for cost, front in found["pareto"].items():
        higher = verdicts.COSTS[cost][1]
        values = [p["value"] for p in front]
        assert values == sorted(values, reverse=higher)  # cheapest (or fastest) first
        accuracies = [p["accuracy"] for p in front]
        assert accuracies == sorted(accuracies)  # each step up the front buys accuracy
        for model, row in rows.items():  # nothing off the front beats a front member on both counts
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
            test["predictions"], test["accuracy"] = "".join(map(str, pred.tolist())), float(np.mean(pred == labels))
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
    assert 0 <= float(pair["p_a_beats_b"]) <= 1
    summary = (out / "summary.md").read_text()
    assert "Comparisons of **architectures** over 3 seeds" in summary
    files = SECTIONS.figure_files()
    for figure in (
        ("learning", "learning_curves"),
        ("time_to_target", "time_to_target"),
        ("significance", "significance"),
    ):
        assert (out / files[figure]).is_file()


def test_architecture_test_by_hand():
    rng = np.random.default_rng(0)
    same = rng.random((3, 2000)) < 0.97  # three seeds of one architecture...
    other = rng.random((3, 2000)) < 0.97  # ...and of another as good
    diff, se, _df, p = seeds.architecture_test(same.mean(1), other.mean(1), same, other)
    assert abs(diff) < 3 * se
    assert p > 0.01
    better = rng.random((3, 2000)) < 0.99
    diff, se, _df, p = seeds.architecture_test(better.mean(1), other.mean(1), better, other)
    assert diff > 0.015
    assert p < 0.001
    assert seeds.prob_outperform(np.array([0.99, 0.98]), np.array([0.97, 0.98])) == pytest.approx(0.875)
    assert seeds.seeds_needed(0.5, 0.18) < seeds.seeds_needed(0.2, 0.18) < seeds.seeds_needed(0.1, 0.18)


def test_no_efficiency_above_the_peak_is_shown(tmp_path, smoke):
    """A run whose one-shot peak was below what a benchmark achieved: fractions against the best achieved."""
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
    assert max(fractions) == pytest.approx(1.0)
    assert "the peak was underestimated" in (out / "summary.md").read_text()


def test_floors_then_and_today_are_both_shown_with_the_reason(tmp_path, smoke):
    run = copy.deepcopy(smoke)
    for bench in run["benchmarks"]:
        info = bench["extra_info"]
        if info["model"] == "mlp_256_128":
            info["profile"], info["floor"], info["floor_passed"] = "full", 0.999, False  # then: 99.9%, failed
            info["outcome"]["test"].update(accuracy=0.98, ci_low=0.97, ci_high=0.99)
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
