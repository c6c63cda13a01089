"""The gate's between-process term: pairs that share a worker pair are not independent."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mnist_models.ab.paired import PROCESS_FALLBACK, Design, compare_pairs, failures, processes_of, replay
from mnist_models.stats.paired import trimmed_test

ROOT = Path(__file__).resolve().parents[2]
NAMES = [f"latency/m{k}" for k in range(12)]


def _compare(logs: np.ndarray, processes: list[int], threshold: float = 0.10):
    return compare_pairs({b: [1.0] * logs.shape[1] for b in NAMES},
                         {b: list(np.exp(row)) for b, row in zip(NAMES, logs, strict=True)}, threshold,
                         processes=processes)  # fmt: skip


def test_independent_pairs_keep_about_the_per_pair_interval_and_an_offset_widens_it():
    rng = np.random.default_rng(2)
    logs = rng.normal(0, 0.02, (len(NAMES), 16))
    table = _compare(logs, processes_of(16))
    old = np.array([trimmed_test(row)[1] for row in logs])
    new = np.log(table["ratio_high"]) - np.log(table["ratio"])
    assert 0.999 <= np.median(new / old) < 1.25  # the pooled excess floored at 0: here about none
    offset = np.repeat(rng.normal(0, 0.04, (1, 4)), 4, axis=1)  # every benchmark's worker pairs off alike
    wide = _compare(logs + offset, processes_of(16))
    assert wide["process_sd"].iloc[0] > 0.02
    assert wide["process_estimated"].all()
    assert (np.log(wide["ratio_high"] / wide["ratio_low"]) > 1.5 * 2 * old).all()


def test_one_worker_pair_cannot_tell_an_offset_and_assumes_one():
    logs = np.random.default_rng(3).normal(0, 0.02, (len(NAMES), 16))
    table = _compare(logs, processes_of(16, restart_every=0))
    assert not table["process_estimated"].any()
    assert table["process_sd"].iloc[0] == pytest.approx(PROCESS_FALLBACK)
    assert (table["processes"] == 1).all()


def test_the_failure_line_says_what_was_tested():
    logs = np.random.default_rng(4).normal(math.log(1.3), 0.01, (len(NAMES), 16))
    verdicts = replay({b: [1.0] * 16 for b in NAMES}, {b: list(np.exp(row)) for b, row in zip(NAMES, logs, strict=True)},
                      0.10, processes=processes_of(16))  # fmt: skip
    assert all(v.failed for v in verdicts)
    line = failures(verdicts, 0.10, 0.05)[0]
    assert line.startswith("latency/m0: slower than +10%: estimate +30")
    assert "4 worker pair(s)), different from no change at Holm-adjusted p=" in line
    assert "< 0.05 (this look's share of α 0.05)" in line  # the fixed design's one look
    # a slowdown estimated below the threshold passes, however significant
    below = _compare(np.random.default_rng(5).normal(math.log(1.08), 0.01, (len(NAMES), 16)), processes_of(16))
    assert not below["failed"].any()


@pytest.fixture(scope="module")
def simulation(script_module):
    return script_module("studies/gate-power/gate_process_term.py")


def test_the_vectorised_replay_decides_as_the_gate(simulation):
    noise = simulation.recorded_noise(ROOT / "reports" / "gate-power" / "comparisons")
    names = list(noise)[::3]
    rng = np.random.default_rng(6)
    logs = np.stack([rng.choice(noise[b], (3, 16)) for b in names], axis=1) + math.log(1.1)
    logs += simulation.offsets(rng, "every process, SD 4%", 3, 16, 4)[:, None, :]
    for design in (Design(), Design(fixed=True)):
        verdict, used = simulation.replay(logs, [b.split("/")[0] for b in names], design, "in force", processes_of(16))
        for r in range(3):
            table = compare_pairs({b: [1.0] * 16 for b in names}, {b: list(np.exp(logs[r, i])) for i, b in
                                  enumerate(names)}, 0.10, design=design, processes=processes_of(16))  # fmt: skip
            assert [simulation.VERDICT[v] for v in table["verdict"]] == list(verdict[r])
            assert list(table["pairs"]) == list(used[r])


def test_false_alarms_stay_near_alpha_with_a_persistent_process_offset_and_power_holds(simulation):
    """A short run of studies/gate-power/gate_process_term.py: identical code with every process offset, and +25% without."""
    noise = simulation.recorded_noise(ROOT / "reports" / "gate-power" / "comparisons")
    table = simulation.simulate(
        noise, reps=200, seed=3, scenarios=("every process, SD 4%", "one worker pair, head +4%")
    )
    suite = table[(table["group"] == "any") & (table["rule"] == "in force") & (table["slowdown"] == 0.0)]
    assert (suite["comparisons_failed"] / suite["comparisons"] <= 0.10).all()  # α 0.05, room for 200 draws
    calm = simulation.simulate(noise, reps=200, seed=3, scenarios=("none",))
    found = calm[(calm["group"] != "any") & (calm["rule"] == "in force") & (calm["slowdown"] == 0.25)]
    assert (found["verdicts_failed"] / found["verdicts"] >= 0.90).all()  # ≥ 95% at 2000 draws (process_term.md)
