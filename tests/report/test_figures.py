"""Every report figure is readable: a one-line title, a unit on every numeric axis, no text over another text,
over a scatter marker or off the figure; checked on every figure of the smoke run (alone and against itself as
the baseline, for the comparison figure) and of the committed sample run.

The figures are caught as matplotlib Figures where ``inputs.draw`` turns them into PNG bytes, drawn once at
the PNGs' resolution, and checked on what was actually drawn (a tick out of view or a hidden panel draws nothing).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.category import StrCategoryFormatter
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.ticker import FixedFormatter, FuncFormatter

from mnist_models.report.figures import basic
from mnist_models.report.sections import inputs
from mnist_models.report.sections.compose import build_content
from mnist_models.results.runs import load_run

ROOT = Path(__file__).parents[2]
SMOKE = ROOT / "tests" / "fixtures" / "smoke_run_schema1.json"
SAMPLE = next((ROOT / "reports" / "sample").glob("0001_*.json"))
RUNS = {"smoke": (SMOKE, None), "smoke_vs_baseline": (SMOKE, SMOKE), "sample": (SAMPLE, None)}  # (run, baseline)
DPI = 90  # the PNGs' (page.content.png)
SLACK = 1.0  # pixels two extents may share: antialiasing, not an overlap
# a unit: "(ms", "(%", "(count, log scale)", a ratio's "×"; "(log scale)" alone is no unit
UNIT = re.compile(r"\((?!log)[^)\s]|×")
NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$")


def _figures(path: Path, baseline: Path | None = None) -> dict[str, Figure]:
    """Every figure the report of the run at ``path`` (against ``baseline``) draws, by its file name."""
    caught: dict[bytes, Figure] = {}

    def catch(figure: Figure) -> bytes:  # a token for bytes: the file name is known only once numbered
        token = str(len(caught)).encode()
        caught[token] = figure
        return token

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(inputs, "png", catch)
        content = build_content([load_run(path)], load_run(baseline) if baseline else None)
    return {f.name: caught[f.png] for f in content.figures}


def _drawn_texts(figure: Figure) -> list[Text]:
    """The figure's texts that drawing it shows: visible, non-empty, in a shown panel, their tick in view."""
    drawn: set[int] = set()
    draw = Text.draw

    def recording(text, renderer):
        draw(text, renderer)
        drawn.add(id(text))

    FigureCanvasAgg(figure)  # a figure drawn for its PNG only has no canvas to measure texts on
    figure.set_dpi(DPI)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Text, "draw", recording)
        figure.draw_without_rendering()
    found = figure.findobj(lambda a: isinstance(a, Text) and id(a) in drawn and a.get_text().strip())
    return list(dict.fromkeys(found))  # an artist reached twice (a legend both legend_ and artist) is one text


def _overlapping(extents: np.ndarray) -> list[tuple[int, int]]:
    """Pairs (i < j) of extents (x0, y0, x1, y1 rows) that share more than SLACK pixels each way."""
    x0, y0, x1, y1 = extents.T
    wide = np.minimum(x1[:, None], x1[None, :]) - np.maximum(x0[:, None], x0[None, :]) > SLACK
    high = np.minimum(y1[:, None], y1[None, :]) - np.maximum(y0[:, None], y0[None, :]) > SLACK
    i, j = np.nonzero(np.triu(wide & high, k=1))
    return list(zip(i.tolist(), j.tolist(), strict=True))


def _markers(ax, figure: Figure) -> np.ndarray:
    """Rows (x, y, radius) in pixels of every scatter marker drawn inside ``ax``."""
    rows = []
    for points in ax.collections:
        if not isinstance(points, PathCollection) or not points.get_visible() or not len(points.get_offsets()):
            continue
        xy = points.get_offset_transform().transform(points.get_offsets())
        sizes = points.get_sizes() if len(points.get_sizes()) else np.array([36.0])
        radius = np.sqrt(np.resize(sizes, len(xy))) / 2 * figure.dpi / 72  # s is the marker's area in points²
        rows.append(np.column_stack([xy, radius]))
    if not rows:
        return np.empty((0, 3))
    markers = np.vstack(rows)
    inside = [ax.bbox.contains(x, y) for x, y, _ in markers]
    return markers[np.asarray(inside, bool)]


def _on_marker(box, markers: np.ndarray) -> bool:
    """Whether the box covers part of a marker (a circle) by more than SLACK pixels."""
    dx = np.maximum.reduce([box.x0 - markers[:, 0], np.zeros(len(markers)), markers[:, 0] - box.x1])
    dy = np.maximum.reduce([box.y0 - markers[:, 1], np.zeros(len(markers)), markers[:, 1] - box.y1])
    return bool(np.any(np.hypot(dx, dy) < markers[:, 2] - SLACK))


def _is_number(label: str) -> bool:
    plain = re.sub(r"\\mathdefault|[${}×%,\s]", "", label).replace("\u2212", "-").replace("10^", "1e")
    return bool(NUMBER.match(plain))


def _categorical(axis) -> bool:
    """Whether the axis names categories (models, classes): string data, or labels fixed by hand at its ticks
    (``set_ticks(ticks, labels)``, seaborn's heatmaps: matplotlib keeps them in a partial of ``_format_with_dict``)."""
    formatter = axis.get_major_formatter()
    by_hand = isinstance(formatter, FuncFormatter) and getattr(formatter.func, "func", None) == axis._format_with_dict
    return by_hand or isinstance(formatter, FixedFormatter | StrCategoryFormatter)


def _unit_problems(ax, shown: set[int]) -> list[str]:
    """A numeric axis (shown, numeric tick labels) without a label, or with a label without a unit."""
    problems = []
    for axis in (ax.xaxis, ax.yaxis):
        if _categorical(axis):
            continue  # no unit for models or classes
        ticks = [t.get_text() for t in axis.get_ticklabels(which="both") if id(t) in shown]
        if not any(_is_number(t) for t in ticks):
            continue
        label = axis.label.get_text() if id(axis.label) in shown else ""
        if not UNIT.search(label):
            problems.append(f"numeric {axis.axis_name} axis (ticks {ticks[:3]}) has no unit in its label {label!r}")
    return problems


def _legend_problems(figure: Figure, texts: list[Text], boxes: list) -> list[str]:
    """A drawn legend whose box covers a text that is not its own (a point's name, a tick label)."""
    renderer = figure.canvas.get_renderer()
    shown = {id(t) for t in texts}
    found = []
    for legend in dict.fromkeys(figure.findobj(Legend)):
        own = {id(t) for t in [*legend.texts, legend.get_title()]}
        if not own & shown:
            continue  # not drawn
        frame = np.array([legend.get_window_extent(renderer).extents])
        found += [
            f"a legend ({legend.texts[0].get_text()!r}, …) covers {t.get_text()!r}"
            for t, b in zip(texts, boxes, strict=True)
            if id(t) not in own and _overlapping(np.vstack([frame, [b.extents]]))
        ]
    return found


def _off_the_figure(figure: Figure, texts: list[Text], boxes: list) -> list[str]:
    page = figure.bbox
    return [
        f"{t.get_text()!r} runs off the figure"
        for t, b in zip(texts, boxes, strict=True)
        if b.x0 < page.x0 - SLACK or b.y0 < page.y0 - SLACK or b.x1 > page.x1 + SLACK or b.y1 > page.y1 + SLACK
    ]


def problems(figure: Figure) -> list[str]:
    """What makes ``figure`` hard to read, one line each; none: readable."""
    texts = _drawn_texts(figure)
    shown = {id(t) for t in texts}
    boxes = [t.get_window_extent(figure.canvas.get_renderer()) for t in texts]
    titles = [figure.get_suptitle()] + [ax.get_title(loc) for ax in figure.axes for loc in ("left", "center", "right")]
    found = [f"title on several lines: {t!r}" for t in titles if "\n" in t]
    extents = np.array([b.extents for b in boxes]).reshape(-1, 4)
    found += [f"{texts[i].get_text()!r} overlaps {texts[j].get_text()!r}" for i, j in _overlapping(extents)]
    found += _off_the_figure(figure, texts, boxes) + _legend_problems(figure, texts, boxes)
    for ax in figure.axes:
        if not ax.get_visible():
            continue
        markers = _markers(ax, figure)
        labels = [(t, b) for t, b in zip(texts, boxes, strict=True) if t in ax.texts]
        found += [f"{t.get_text()!r} covers a marker" for t, b in labels if len(markers) and _on_marker(b, markers)]
        found += _unit_problems(ax, shown)
    return found


@pytest.fixture(scope="module", params=sorted(RUNS))
def drawn(request) -> tuple[str, dict[str, Figure]]:
    return request.param, _figures(*RUNS[request.param])


def test_every_figure_is_readable(drawn):
    run, figures = drawn
    expected = {"sample": 14, "smoke": 10, "smoke_vs_baseline": 11}[run]  # every figure the run supports
    assert len(figures) == expected, sorted(figures)
    found = [f"{name}: {line}" for name, figure in figures.items() for line in problems(figure)]
    assert not found, "\n".join(found)


def test_the_check_catches_an_unreadable_figure():
    figure = Figure(figsize=(4, 3), layout="constrained")
    ax = figure.subplots()
    ax.scatter([1, 2], [1, 2], s=400)
    ax.text(1, 1, "on its marker", ha="center", va="center")
    ax.text(1.5, 1.5, "one label")
    ax.text(1.5, 1.5, "another label")
    ax.text(2.0, 1.0, "under the legend", ha="center", va="center")
    ax.legend([Line2D([], [])], ["a legend"], loc="center", bbox_to_anchor=(2.0, 1.0), bbox_transform=ax.transData)
    ax.set_xlabel("latency (log scale)")
    ax.set_title("a title\non two lines")
    found = "\n".join(problems(figure))
    assert "title on several lines" in found
    assert "'one label' overlaps 'another label'" in found
    assert "'on its marker' covers a marker" in found
    assert "a legend ('a legend', …) covers 'under the legend'" in found
    assert "numeric x axis" in found  # "(log scale)" is no unit
    assert "numeric y axis" in found  # no label at all
    # and a readable one passes
    fine = Figure(figsize=(4, 3), layout="constrained")
    ax = fine.subplots()
    ax.scatter([1, 2], [1, 2], s=40)
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Which model is fastest?")
    assert problems(fine) == []


def test_learning_curves_leave_out_one_epoch_models_and_name_them():
    rows = [
        {"model": model, "seed": seed, "epoch": epoch, "train_acc": 0.9 + 0.01 * epoch, "val_acc": 0.9,
         "train_loss": 0.3 / epoch, "val_loss": 0.3}
        for model, epochs in (("mlp_64", 3), ("cnn", 4), ("speedrun_cnn", 1))
        for seed in (0, 1)
        for epoch in range(1, epochs + 1)
    ]  # fmt: skip
    curves = pd.DataFrame(rows)
    assert basic.curve_models(curves) == ["mlp_64", "cnn"]
    figure = basic.learning_curves(curves, {"mlp_64": "tab:orange", "cnn": "tab:blue", "speedrun_cnn": "grey"})
    panels = [ax.get_title() for ax in figure.axes if ax.get_visible() and ax.get_title()]
    assert panels == ["mlp_64 (2 seeds)", "cnn (2 seeds)"]
    assert "speedrun_cnn" in figure.legends[0].get_title().get_text()
    assert problems(figure) == []
    assert basic.curve_models(curves[curves["model"] == "speedrun_cnn"]) == []  # the section notes it, no figure
