"""A group and a section from a project's conftest.py, through the doors the built-ins use: the toy group's
spec, runner and report section, and a section of its own, in a smoke run with one model and its report."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow

CONFTEST = """
from mnist_models import GroupSpec, SummaryColumn, TimedCall, register_group, register_runner
from mnist_models.report.page.content import Section
from mnist_models.report.sections.inputs import Part
from mnist_models.report.sections.registry import register_section

TOY = register_group(GroupSpec("toy", "batch-8 inference on the trained weights", rounds="throughput_rounds",
                               timed=True, order=35, sections=("toy",),
                               summary=(SummaryColumn("toy_img_s", "images_per_s", "toy img/s", order=40),)))


@register_runner("toy")
def toy(context, case, variant=None) -> TimedCall:
    trained = context.trained(case)  # typed arguments: the context's weights, data and services
    model, x = trained.model.eval(), context.data.x_test[:8].clone()
    model(x)  # warm-up, outside the clock
    return TimedCall(lambda: model(x), context.rounds(TOY), 1, 8, context.facts(case).flops_inference,
                     trained=trained)


@register_section("toy", order=95)
def toy_section(inputs):
    records = [r for v in inputs.items for r in v.records.get("toy", [])]
    lines = (f"TOY-SECTION: {len(records)} batch-8 benchmark(s), {records[0].images_per_s:.0f} img/s.",)
    return Part(Section("toy", "Toy group", lines=lines), {"toy_benchmarks": len(records)})


@register_section("toy_note", order=115)
def toy_note(inputs):
    return Part(Section("toy_note", "Toy note", lines=(f"TOY-NOTE: {len(inputs.items)} model(s).",)))
"""


def test_a_conftest_group_and_section_run_and_reach_the_report(pytester, data_root, tmp_path):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_bench="from mnist_models.bench.cases import *  # noqa: F403\n")
    result = pytester.runpytest_subprocess(
        "--benchmark-only", "--mnist-profile=smoke", "--mnist-models=mlp_64", "-k", "toy or (test_train and not step)",
        f"--mnist-data-dir={data_root[0]}", f"--mnist-cache-dir={tmp_path / 'w'}", "-p", "no:cacheprovider",
        "--benchmark-json=out.json", "--mnist-report=report",
    )  # fmt: skip
    result.assert_outcomes(passed=2)
    benches = {b["name"]: b for b in json.loads((pytester.path / "out.json").read_text())["benchmarks"]}
    toy = benches["test_toy[mlp_64-seed0]"]
    assert toy["group"] == "toy"
    assert toy["extra_info"]["images_per_s"] > 0
    summary = (pytester.path / "report" / "summary.md").read_text()
    assert "TOY-SECTION: 1 batch-8 benchmark(s)" in summary
    assert "TOY-NOTE: 1 model(s)." in summary
    assert summary.index("## Toy group") < summary.index("## Toy note")  # each placed by its own order
    assert "toy img/s" in summary
    assert json.loads((pytester.path / "report" / "insights.json").read_text())["toy_benchmarks"] == 1
