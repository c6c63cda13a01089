"""The answer first: the report opens with the answer table, and each cost's picks are exactly the Pareto front of
the point estimates, computed here independently, and the front the Pareto figure draws."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from mnist_models.report.figures import costs
from mnist_models.report.sections.compose import build_content, inputs_of
from mnist_models.report.tables import budgets
from mnist_models.results.runs import load_run, parse_run

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "tests" / "fixtures" / "smoke_run_schema1.json"
SAMPLE = next((ROOT / "reports" / "sample").glob("0001_*.json"))
RUNS = {"smoke": SMOKE, "sample": SAMPLE}


@pytest.fixture(scope="module", params=sorted(RUNS))
def built(request):
    runs = [load_run(RUNS[request.param])]
    return runs, inputs_of(runs, draw=False), build_content(runs, draw=False)


def _front_by_hand(summary: pd.DataFrame, column: str) -> set[str]:
    """The models no other model beats: at least as cheap and at least as accurate, one of the two strictly."""
    higher = budgets.COSTS[column][1]
    table = summary.dropna(subset=[column])
    out = set()
    for _, row in table.iterrows():
        cost = -row[column] if higher else row[column]
        beaten = False
        for _, other in table.iterrows():
            other_cost = -other[column] if higher else other[column]
            as_good = other_cost <= cost and other["test_accuracy"] >= row["test_accuracy"]
            if as_good and (other_cost < cost or other["test_accuracy"] > row["test_accuracy"]):
                beaten = True
        if not beaten:
            out.add(row["model"])
    return out


def test_each_costs_picks_are_the_point_estimate_front(built):
    _, inputs, content = built
    summary, fronts = inputs.summary, content.insights["pareto"]
    assert fronts, "no cost measured"
    for column, front in fronts.items():
        picks = [p["model"] for p in front]
        assert set(picks) == _front_by_hand(summary, column), column
        accuracy = dict(zip(summary["model"], summary["test_accuracy"], strict=True))
        cost = dict(zip(summary["model"], summary[column], strict=True))
        higher = budgets.COSTS[column][1]
        for pick in picks:  # never less accurate than a model cheaper than it
            cheaper = [
                m for m in cost if pd.notna(cost[m]) and (cost[m] > cost[pick] if higher else cost[m] < cost[pick])
            ]
            assert all(accuracy[m] <= accuracy[pick] for m in cheaper), (column, pick)
        values = [p["value"] for p in front]
        assert values == sorted(values, reverse=higher)  # cheapest (or fastest) first


def _drawn_fronts(summary: pd.DataFrame) -> list[set[tuple[float, float]]]:
    """The points on each panel's dashed front line of the Pareto figure, in the panels' order."""
    figure = costs.pareto_panels(summary, dict.fromkeys(summary["model"], "grey"), budgets.COSTS)
    out = []
    for ax in figure.axes:
        if not ax.get_visible():
            continue
        lines = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
        if lines:
            x, y = lines[0].get_data()
            out.append({(round(float(a), 9), round(float(b), 6)) for a, b in zip(x, y, strict=True)})
    return out


def test_the_picks_are_the_front_the_figure_draws(built):
    _, inputs, content = built
    fronts = content.insights["pareto"]
    drawn = _drawn_fronts(inputs.summary)
    assert len(drawn) == len(fronts)
    for points, (column, front) in zip(drawn, fronts.items(), strict=True):
        ours = {(round(p["value"], 9), round(p["accuracy"] * 100, 6)) for p in front}
        assert points == ours, column


def test_the_answer_is_the_first_table_and_the_first_section(tmp_path, built):
    runs, _, content = built
    from mnist_models.report.build import write_content

    write_content(content, tmp_path)
    markdown = (tmp_path / "summary.md").read_text()
    first_table = next(line for line in markdown.splitlines() if line.startswith("|"))
    assert "pick" in first_table
    assert "not told apart from" in first_table
    assert markdown.index("## The answer") < markdown.index("## Summary")
    page = (tmp_path / "index.html").read_text()
    assert re.findall(r"<section id='([\w-]+)'>", page)[0] == "answer"
    assert content.sections[0].id == "answer"
    # the answer names the most accurate model with its verdict and scope
    found = content.insights
    assert f"**{found['best_model']}**" in content.sections[0].lines[0]
    assert runs[0].profile in found["scope"]
    assert runs[0].dataset in found["scope"]


def test_a_tie_is_called_a_tie(tmp_path):
    """Two identical networks under two names: neither is "the most accurate"; the answer says tied, and the
    cheaper of the two (by point estimate) is the pick of the training-time budget, never both."""
    run = json.loads(SMOKE.read_text())
    twin = copy.deepcopy([b for b in run["benchmarks"] if b["extra_info"]["model"] == "mlp_64"])
    for bench in twin:
        bench["extra_info"]["model"] = "twin_of_mlp_64"
        bench["name"] = bench["name"].replace("mlp_64", "twin_of_mlp_64")
        bench["fullname"] = bench["fullname"].replace("mlp_64", "twin_of_mlp_64")
        for epoch in bench["extra_info"]["outcome"]["history"]:  # the same weights, trained a little slower
            epoch["train_time_s"] *= 1.15
    run["benchmarks"] += twin
    content = build_content([parse_run(run, "twins")], draw=False)
    found = content.insights
    if found["best_model"] in ("mlp_64", "twin_of_mlp_64"):
        assert found["best_verdict"] == "tied for most accurate"
    picks = [p["model"] for p in found["pareto"]["train_time_s"]]
    assert "twin_of_mlp_64" not in picks  # same accuracy, dearer: beaten by its twin
    train = {p["model"]: p for p in found["pareto"]["params"]}
    if "mlp_64" in train:
        assert "twin_of_mlp_64" in train["mlp_64"]["apart"]  # same cost, same accuracy: not told apart


def test_verdict_words_of_the_seed_rounds_say_tied():
    from mnist_models.report.sections.rounds import status_word

    verdicts = {"a": {"status": "decided"}, "b": {"status": "futile"}, "c": {"status": "below"}}
    assert status_word("decided", verdicts) == "decided: tied for most accurate"
    assert status_word("futile", verdicts) == "decided: not separable from the most accurate"
    assert status_word("decided", {"a": {"status": "decided"}, "c": {"status": "below"}}) == "decided: most accurate"


def test_insights_are_few_short_and_linked(built):
    _, _, content = built
    [insights] = [s for s in content.sections if s.id == "insights"]
    assert 1 <= len(insights.lines) <= 6
    for line in insights.lines:
        assert len(re.sub(r"\]\([^)]*\)", "]", line)) <= 200, line
        # each links to its table; drawn without figures, a figure-only section is not there to link to
        assert re.search(r"\]\(#[\w-]+\)", line) or "hardest" in line.lower(), f"no link to its table: {line}"
    assert len(set(insights.lines)) == len(insights.lines)
    ids = {s.id for s in content.sections}
    for target in re.findall(r"\]\(#([\w-]+)\)", " ".join(insights.lines)):
        assert target in ids, target


def test_the_terminal_answer_is_short():
    from mnist_models.report.sections.text import answer_lines

    content = build_content([load_run(SAMPLE)], draw=False)
    lines = answer_lines(content.insights)
    assert 2 <= len(lines) <= 15
    assert content.insights["best_model"] in lines[1]


def test_links_in_cells_lead_only_to_anchors_and_relative_paths():
    from mnist_models.report.page.render import _bold

    shown = str(_bold("**x** ([t](#answer)) [a](javascript:alert(1)) <script> [r](reports/x.md)"))
    assert "<a href='#answer'>t</a>" in shown
    assert "<a href='reports/x.md'>r</a>" in shown
    assert "javascript" not in shown.split("<a ")[-1]
    assert "<script>" not in shown


def test_cells_and_numbers_read_whatever_the_values():
    """A "|" in a name does not split a Markdown row; costs never print in scientific notation; a rate below a
    thousand is not "0k"; a p of 0.049 is not shown as 0.05 beside "significant"."""
    from mnist_models.report.page.content import Table
    from mnist_models.report.page.render import _markdown_table
    from mnist_models.report.sections.text import _p

    table = _markdown_table(Table(pd.DataFrame({"model": ["a|b*c*", "<b>x</b>"], "acc": ["99.05%", "98.00%"]})))
    assert all(row.count("|") - row.count("\\|") == 3 for row in table.splitlines())
    assert "<b>" not in table
    assert budgets.cost_text("train_time_s", 1590.4) == "1,590 s"
    assert budgets.cost_text("latency_p50_ms", 0.005012) == "0.00501 ms"
    assert budgets.rate_text(736.2) == "736"
    assert budgets.rate_text(23481) == "23k"
    assert _p(0.049) == "0.049"
    assert _p(0.61) == "0.61"
    assert _p(0.0004) == "<0.001"
