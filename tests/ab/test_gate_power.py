"""studies/gate-power/gate_power.py analyse: the study's tables from recorded pairs (synthetic here, so the answers are known)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def gate_power(script_module):
    return script_module("studies/gate-power/gate_power.py")


BENCHMARKS = [f"{group}/m{k}-seed0" for group in ("latency", "train-step") for k in range(4)]


def _pairs(rng, slowdown: float, bias: dict[str, float] | None = None) -> pd.DataFrame:
    rows = []
    for bench in BENCHMARKS:
        for pair in range(1, 17):
            base = 0.01 * math.exp(rng.normal(0, 0.03))
            head = 0.01 * math.exp(rng.normal(0, 0.03)) * (1 + slowdown) * (1 + (bias or {}).get(bench, 0))
            rows.append({"benchmark": bench, "pair": pair, "base_s": base, "head_s": head,
                         "log_ratio": math.log(head / base)})  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def study(gate_power, tmp_path_factory) -> Path:
    """Two studies: four models on a made-up CPU (3 identical fixed comparisons, two of them followed by a real
    sequential run, 2 at +25%), and one at +0% on another CPU whose m0 latency carries a +8% side bias."""
    tmp_path = tmp_path_factory.mktemp("gate-power")
    rng = np.random.default_rng(7)
    rows = []

    def keep(name, design, slowdown, pairs, wall, cpu="Test CPU (avx2), 2 cores", models="*"):
        folder = tmp_path / "comparisons" / name
        folder.mkdir(parents=True)
        pairs.to_csv(folder / "pairs.csv", index=False)
        if design == "sequential":
            base = {b: list(g["base_s"]) for b, g in pairs.groupby("benchmark")}
            head = {b: list(g["head_s"]) for b, g in pairs.groupby("benchmark")}
            gate_power.compare_pairs(base, head, 0.10, design=gate_power.SEQUENTIAL).to_csv(
                folder / "ab.csv", index=False
            )
        rows.append({"name": name, "design": design, "slowdown_pct": slowdown, "seed": 0, "wall_s": wall, "exit": 0,
                     "models": models, "profile": "quick", "cpu": cpu, "commit": "abc1234"})  # fmt: skip

    for k, (fixed_s, sequential_s) in enumerate([(700, 300), (720, 420), (690, None)]):
        keep(f"fixed-00pct-{k:02d}", "fixed", 0, _pairs(rng, 0), fixed_s)
        if sequential_s:
            keep(f"sequential-00pct-{k:02d}", "sequential", 0, _pairs(rng, 0), sequential_s)
    for k in range(2):
        keep(f"fixed-25pct-{k:02d}", "fixed", 25, _pairs(rng, 0.25), 800)
    for k in range(4):
        keep(f"other-{k:02d}", "fixed", 0, _pairs(rng, 0, bias={"latency/m0-seed0": 0.08}), 500,
             cpu="Other CPU (avx2, avx512f), 2 cores", models="m0,m1")  # fmt: skip
    pd.DataFrame(rows).to_csv(tmp_path / "comparisons.csv", index=False)
    assert gate_power.analyse(argparse.Namespace(out=str(tmp_path))) == 0
    return tmp_path


def test_rates_carry_wilson_intervals_and_studies_are_not_pooled(study):
    out = study
    suites = pd.read_csv(out / "suites.csv")
    assert set(suites["study"]) == {"every built-in model, profile quick, Test CPU (avx2), 2 cores",
                                    "models m0, m1, profile quick, Other CPU (avx2, avx512f), 2 cores"}  # fmt: skip
    fixed0 = suites[
        (suites["slowdown_pct"] == 0) & (suites["design"] == "fixed") & suites["study"].str.startswith("every")
    ]
    assert fixed0[["total", "hits"]].values.tolist() == [[3, 0]]
    assert fixed0["high"].iloc[0] == pytest.approx(0.5615, abs=1e-3)  # Wilson's upper end for 0 of 3
    flagged = suites[(suites["slowdown_pct"] == 25) & (suites["design"] == "fixed")]
    assert flagged[["total", "hits"]].values.tolist() == [[2, 2]]  # a +25% slowdown at 3% noise is always found
    power = pd.read_csv(out / "power.csv")
    assert len(power) == 2 * len(BENCHMARKS)  # per benchmark, fixed and replayed sequential
    assert (power["rate"] == 1).all()


def test_wall_ratios_pair_each_sequential_run_with_the_fixed_run_before_it(study):
    walls = pd.read_csv(study / "walls.csv")
    assert walls[["fixed", "sequential"]].values.tolist() == [["fixed-00pct-00", "sequential-00pct-00"],
                                                              ["fixed-00pct-01", "sequential-00pct-01"]]  # fmt: skip
    assert walls["ratio"].tolist() == pytest.approx([300 / 700, 420 / 720])
    text = (study / "gate_power.md").read_text()
    assert f"Median of the 2 paired ratios: **{np.median([300 / 700, 420 / 720]):.0%}**" in text


def test_a_side_bias_on_identical_code_is_named_in_its_own_study(study):
    bias = pd.read_csv(study / "bias.csv")
    assert bias.loc[bias["biased"], "benchmark"].tolist() == ["latency/m0-seed0"]
    assert bias.loc[bias["biased"], "study"].str.startswith("models m0, m1").all()
    assert bias.loc[bias["biased"], "slowdown"].iloc[0] == pytest.approx(0.08, abs=0.02)
    # pairs drawn independently: one comparison's interval covers what moves between comparisons
    assert 0.3 < bias["dispersion"].median() < 3


@pytest.fixture(scope="module")
def within_calibration(script_module):
    return script_module("studies/within-calibration/within_calibration.py")


def test_the_vectorised_interval_is_the_gates_own(within_calibration):
    """The simulation's many-rows interval gives the numbers of stats.paired.trimmed_test, row by row."""
    from scipy import stats

    from mnist_models.stats.paired import trimmed_test

    logs = np.random.default_rng(3).standard_t(3, size=(20, 9))
    upper = within_calibration.trimmed_upper(logs, 0.01)
    for row, value in zip(logs, upper, strict=True):
        center, half, _ = trimmed_test(row)
        se = half / stats.t.ppf(0.975, 9 - 2 - 1)
        assert value == pytest.approx(center + stats.t.ppf(0.99, 9 - 2 - 1) * se)


def test_the_within_verdict_keeps_five_percent_over_its_looks(within_calibration):
    """At exactly the threshold the design's looks call at most 5% within; 95% at every look would call ~13%."""
    table = within_calibration.calibrate(reps=6000, seed=11)
    design = table[table["schedule"].str.startswith("the design's")]
    assert (design["called_within"] <= 0.05).all(), design
    naive = table[table["schedule"] == "95.00% at every look"]
    assert (naive["called_within"] > 0.10).all(), naive
