"""A new report section is one registered function: it reaches the Markdown and the HTML, its figure numbered."""

from __future__ import annotations

import json
from pathlib import Path

from matplotlib.figure import Figure as MplFigure

from mnist_models.report.build import build_report
from mnist_models.report.page.content import Section
from mnist_models.report.sections.compose import SECTIONS
from mnist_models.report.sections.inputs import Drawing, Part, draw
from mnist_models.report.sections.registry import register_section
from mnist_models.results.runs import parse_run

SMOKE = Path(__file__).parents[1] / "fixtures" / "smoke_run_schema1.json"


def _toy(inputs) -> Part:
    def picture():
        fig = MplFigure(figsize=(3, 2))
        fig.subplots().bar(list(inputs.summary["model"]), list(inputs.summary["params"]))
        return fig

    figures, _ = draw(inputs, Drawing("toy_params", "Parameters per model (a toy section)", picture))
    lines = (f"The toy section counted {len(inputs.summary)} models.",)
    return Part(
        Section("toy", "A toy section", lines=lines, figures=figures), findings={"toy_models": len(inputs.summary)}
    )


def test_a_registered_section_reaches_the_page_with_its_figure_numbered(tmp_path):
    register_section("toy", order=55, figures=("toy_params",))(_toy)
    try:
        name = SECTIONS.figure_files()[("toy", "toy_params")]
        run = parse_run(json.loads(SMOKE.read_text()), "smoke")
        report = build_report([run], tmp_path / "r")
    finally:
        SECTIONS.remove("toy")
    # numbered after the figures of the sections registered before it (order 55: after classes, before learning)
    assert name == f"{1 + sum(len(s.figures) for s in SECTIONS.specs() if s.order < 55):02d}_toy_params.png"
    assert (tmp_path / "r" / name).is_file()
    assert "## A toy section" in (tmp_path / "r" / "summary.md").read_text()
    html = (tmp_path / "r" / "index.html").read_text()
    assert "<h2>A toy section</h2>" in html
    assert f"src='{name}'" in html
    assert report.insights["toy_models"] == len({b.record.model for b in run.benches})
    # and gone once unregistered: the figure numbers close up again
    assert ("toy", "toy_params") not in SECTIONS.figure_files()
