"""A/B verdicts as typed records: a recorded comparison replays to the numbers it gave before they were typed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mnist_models.ab.paired import Design, compare_pairs, processes_of, replay
from mnist_models.ab.verdict import COLUMNS, table_of

ROOT = Path(__file__).resolve().parents[2]
COMPARISONS = ROOT / "reports" / "gate-power" / "comparisons"
# compare_pairs's tables of these comparisons at 0b8baab, when its rows were dicts (both designs, 4 worker pairs)
EXPECTED = Path(__file__).parent / "fixtures" / "replayed_verdicts.csv"
DESIGNS = {"fixed": Design(max_pairs=16, fixed=True), "sequential": Design(max_pairs=16)}


def _recorded(name: str) -> tuple[dict, dict]:
    pairs = pd.read_csv(COMPARISONS / name / "pairs.csv").sort_values(["benchmark", "pair"])
    return ({b: list(g["base_s"]) for b, g in pairs.groupby("benchmark")},
            {b: list(g["head_s"]) for b, g in pairs.groupby("benchmark")})  # fmt: skip


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("name", ["fixed-00pct-21", "fixed-25pct-20"])
def test_a_recorded_comparison_replays_to_the_same_verdicts_and_numbers(name, design):
    table = compare_pairs(*_recorded(name), 0.10, design=DESIGNS[design], processes=processes_of(16, 4))
    expected = pd.read_csv(EXPECTED)
    expected = expected[(expected["comparison"] == name) & (expected["design"] == design)].reset_index(drop=True)
    slower = bool(table["failed"].any())
    assert list(table.columns) == [c for c in COLUMNS if slower or c != "alpha_spent"]  # ab.csv's columns, in order
    assert list(table["verdict"]) == list(expected["verdict"])
    pd.testing.assert_frame_equal(table, expected[table.columns], check_exact=False, rtol=1e-12, atol=0)


def test_the_table_is_the_verdicts_fields():
    verdicts = replay(*_recorded("fixed-25pct-20"), 0.10, design=DESIGNS["sequential"])
    table = table_of(verdicts)
    assert list(table["failed"]) == [v.failed for v in verdicts] == [v.verdict == "slower" for v in verdicts]
    assert table["detectable"].notna().all()  # conclude gave every verdict what it could have detected
    assert table_of([]).empty
