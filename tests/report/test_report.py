"""The report: files, figures, numbers, insights, comparison, gate and bad input, from a real smoke run."""

from __future__ import annotations

import copy
import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mnist_models.cli import main
from mnist_models.report.sections.compose import SECTIONS
from mnist_models.results.outcome import decode_classes
from mnist_models.results.record import RunError
from mnist_models.results.runs import load_run
from mnist_models.stats import paired, pareto

SMOKE = Path(__file__).parents[1] / "fixtures" / "smoke_run_schema1.json"  # saved by the suite in schema 1
FILES = SECTIONS.figure_files()  # (section, figure) -> its numbered file name
FIGURES = [FILES[key] for key in [("summary", "accuracy"), ("summary", "loss"), ("classes", "per_class"),
           ("costs", "complexity"), ("costs", "pareto"), ("costs", "inference"),
           ("costs", "accuracy_vs_latency"), ("classes", "confusion"), ("significance", "significance"),
           ("engine", "engine")]]  # fmt: skip


@pytest.fixture(scope="module")
def smoke():
    return json.loads(SMOKE.read_text())


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    assert main(["report", str(SMOKE), "--out", str(out)]) == 0
    return out


def _train_records(smoke):
    return {b["extra_info"]["model"]: b["extra_info"] for b in smoke["benchmarks"] if b["group"] == "train"}


def test_every_file_is_written_and_every_png_is_an_image(report_dir):
    for name in [*FIGURES, "index.html", "summary.md", "summary.csv", "per_class.csv", "insights.json"]:
        assert (report_dir / name).is_file(), name
    for name in FIGURES:
        with Image.open(report_dir / name) as image:
            image.verify()
            assert image.format == "PNG"
        assert (report_dir / name).stat().st_size < 400_000


def test_html_shows_every_figure_from_its_file(report_dir):
    page = (report_dir / "index.html").read_text()
    for name in FIGURES:
        assert f"<img src='{name}'" in page
        assert f"href='{name}'" in page
        assert (report_dir / name).is_file()
    assert "base64" not in page  # the PNGs are not stored a second time inside the page (unless --self-contained)
    assert "<h2>Insights</h2>" in page


def test_summary_numbers_match_the_json(report_dir, smoke):
    train = _train_records(smoke)
    with (report_dir / "summary.csv").open() as fh:
        rows = {r["model"]: r for r in csv.DictReader(fh)}
    assert set(rows) == set(train)
    for model, info in train.items():
        row = rows[model]
        assert float(row["test_accuracy"]) == pytest.approx(info["outcome"]["test"]["accuracy"])
        assert float(row["ci_low"]) == pytest.approx(info["outcome"]["test"]["ci_low"])
        assert int(row["params"]) == info["params"]
        assert float(row["train_time_s"]) == pytest.approx(info["outcome"]["train_time_s"])
        latency = next(
            b["extra_info"]
            for b in smoke["benchmarks"]
            if b["group"] == "latency" and b["extra_info"]["model"] == model
        )
        assert float(row["latency_p50_ms"]) == pytest.approx(latency["latency_p50_ms"])
    accuracies = [float(r["test_accuracy"]) for r in rows.values()]
    assert accuracies == sorted(accuracies, reverse=True)


def test_insights_match_hand_computation(report_dir, smoke):
    found = json.loads((report_dir / "insights.json").read_text())
    train = _train_records(smoke)
    acc = {m: i["outcome"]["test"]["accuracy"] for m, i in train.items()}
    assert found["best_model"] == max(acc, key=acc.get)
    assert "most_parameter_efficient" not in found  # accuracy per parameter always named the linear model
    per_class = np.mean([i["outcome"]["test"]["per_class_accuracy"] for i in train.values()], axis=0)
    assert found["hardest_class"] == str(int(np.argmin(per_class)))
    assert found["easiest_class"] == str(int(np.argmax(per_class)))
    cnn = [a for m, a in acc.items() if train[m]["family"] == "cnn"]
    assert found["family_mean_accuracy"]["cnn"] == pytest.approx(np.mean(cnn))
    md = (report_dir / "summary.md").read_text()
    assert f"**{found['best_model']}**" in md.split("## Insights")[1].split("##")[0]


def test_mcnemar_by_hand():
    labels = np.array([0] * 100)
    a = np.array([0] * 90 + [1] * 10)  # 90 right
    b = np.array([0] * 80 + [1] * 20)  # 80 right; a right where b wrong on 10, never the reverse
    # exact binomial, 10 discordant pairs all one way: p = 2 * 0.5**10
    assert paired.mcnemar_p(a, b, labels) == pytest.approx(2 * 0.5**10)
    assert paired.mcnemar_p(a, a, labels) == 1.0


def test_pareto_front():
    cost = np.array([1, 2, 3, 4])
    score = np.array([0.90, 0.95, 0.94, 0.99])
    assert pareto.pareto_front(cost, score).tolist() == [True, True, False, True]


# --- Comparing and gating --------------------------------------------------------------------------


def _write(tmp_path, name, data) -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data))
    return str(path)


def _gate(current, baseline, out, rule, *extra) -> int:
    """``mnist-models report CURRENT --compare BASELINE --out OUT --fail-on RULE [EXTRA...]``: its exit code."""
    return main(["report", str(current), "--compare", str(baseline), "--out", str(out), "--fail-on", rule, *extra])


def _degrade_accuracy(data, model, flips):
    """Make ``model`` wrong on ``flips`` more test images in every record."""
    out = copy.deepcopy(data)
    for bench in out["benchmarks"]:
        test = bench["extra_info"]["outcome"]["test"]
        if bench["extra_info"]["model"] != model:
            continue
        pred, labels = decode_classes(test["predictions"]).copy(), decode_classes(test["labels"])
        right = np.flatnonzero(pred == labels)[:flips]
        pred[right] = (labels[right] + 1) % 10
        _rescore(test, pred, labels)
    return out


def _rescore(evaluation, pred, labels):
    from conftest import rescore  # tests/conftest.py

    rescore(evaluation, pred, labels)


def _scale_times(data, factor, groups=None):
    out = copy.deepcopy(data)
    for bench in out["benchmarks"]:
        if groups is None or bench["group"] in groups:
            for key in ("min", "max", "mean", "median"):
                bench["stats"][key] *= factor
            bench["extra_info"]["round_times_s"] = [t * factor for t in bench["extra_info"]["round_times_s"]]
    return out


def test_identical_runs_pass_every_gate(tmp_path, capsys):
    code = main(
        [
            "report",
            str(SMOKE),
            "--compare",
            str(SMOKE),
            "--out",
            str(tmp_path / "r"),
            "--fail-on",
            "time:median:15%",
            "--fail-on",
            "accuracy:0.3pp",
        ]
    )
    assert code == 0
    assert "within thresholds" in capsys.readouterr().out
    with (tmp_path / "r" / "comparison.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert {float(r["time_change_pct"]) for r in rows} == {0.0}
    assert {float(r["accuracy_change_pp"]) for r in rows} == {0.0}
    assert (tmp_path / "r" / FILES[("baseline", "comparison")]).is_file()


def test_accuracy_drop_fails_the_gate_and_names_the_model(tmp_path, smoke, capsys):
    current = _write(tmp_path, "worse", _degrade_accuracy(smoke, "mlp_64", 10))  # 1000 test images: -1.0 pp
    code = _gate(current, str(SMOKE), str(tmp_path / "r"), "accuracy:0.3pp", "--no-figures")
    err = capsys.readouterr().err
    assert code == 1
    assert "mlp_64 (seed 0): test accuracy" in err
    assert "-1.00 pp" in err
    assert "McNemar p=0.00195" in err  # 10 discordant pairs, all one way: 2 * 0.5**10
    assert "linear" not in err
    # a looser threshold lets it through
    assert _gate(current, str(SMOKE), str(tmp_path / "r2"), "accuracy:1.5pp", "--no-figures") == 0


def test_accuracy_drop_beyond_the_threshold_but_not_significant_passes(tmp_path, capsys):
    # 4 more wrong of 1,000 images: -0.4 pp, beyond 0.3 pp, but McNemar p = 2 * 0.5**4 = 0.125
    current = _write(tmp_path, "noise", _degrade_accuracy(json.loads(SMOKE.read_text()), "mlp_64", 4))
    assert _gate(current, SMOKE, tmp_path / "r", "accuracy:0.3pp", "--no-figures") == 0
    with (tmp_path / "r" / "comparison.csv").open() as fh:
        row = next(r for r in csv.DictReader(fh) if r["model"] == "mlp_64")
    assert float(row["accuracy_change_pp"]) == pytest.approx(-0.4)
    assert float(row["accuracy_p_value"]) == pytest.approx(2 * 0.5**4)


def test_slower_run_fails_the_time_gate_only_in_the_named_groups(tmp_path, smoke, capsys):
    current = _write(tmp_path, "slower", _scale_times(smoke, 1.5, groups={"latency"}))
    assert _gate(current, str(SMOKE), str(tmp_path / "r"), "time:median:15%", "--no-figures") == 1
    err = capsys.readouterr().err
    assert "[latency, seed 0]: median time +50.0%" in err
    assert "throughput" not in err
    assert _gate(current, str(SMOKE), str(tmp_path / "r2"), "time:median:15%:train-step,throughput") == 0


def test_added_and_removed_models_are_reported_not_failed(tmp_path, smoke):
    fewer = copy.deepcopy(smoke)
    fewer["benchmarks"] = [b for b in fewer["benchmarks"] if b["extra_info"]["model"] != "lenet5"]
    path = _write(tmp_path, "fewer", fewer)
    assert _gate(path, str(SMOKE), str(tmp_path / "r"), "accuracy:0.3pp", "--no-figures") == 0
    assert "Removed since the baseline (not gated): lenet5." in (tmp_path / "r" / "summary.md").read_text()
    assert _gate(str(SMOKE), path, str(tmp_path / "r2"), "accuracy:0.3pp", "--no-figures") == 0
    assert "Added since the baseline (not gated): lenet5." in (tmp_path / "r2" / "summary.md").read_text()


def test_runs_are_found_by_number_name_and_glob_in_storage(tmp_path, capsys):
    folder = tmp_path / "store" / "Linux-CPython-3.11-64bit"
    folder.mkdir(parents=True)
    (folder / "0001_base.json").write_text(SMOKE.read_text())
    (folder / "0002_feature.json").write_text(SMOKE.read_text())
    store = f"file://{tmp_path / 'store'}"
    assert main(["report", "--storage", store, "--out", str(tmp_path / "newest"), "--no-figures"]) == 0
    assert "0002_feature" in (tmp_path / "newest" / "summary.md").read_text()
    assert (
        main(
            [
                "report",
                "0001",
                "*feature*",
                "--storage",
                store,
                "--out",
                str(tmp_path / "both"),
                "--no-figures",
                "--compare",
                "0001",
            ]
        )
        == 0
    )
    md = (tmp_path / "both" / "summary.md").read_text()
    assert "mlp_64 [0001_base]" in md
    assert "mlp_64 [0002_feature]" in md


# --- Bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ('{"benchmarks": [{"name": "x", "stat', "not valid JSON (Unterminated string"),
        ("[1, 2, 3]", "not a pytest-benchmark JSON file"),
        (
            '{"benchmarks": [{"name": "test_sum", "group": null, "stats": {}, "extra_info": {}}]}',
            "none of its 1 benchmarks carries an mnist-models record",
        ),
    ],
)
def test_bad_files_exit_2_with_a_clear_message(tmp_path, capsys, content, message):
    path = tmp_path / "run.json"
    if content is not None:
        path.write_text(content)
    assert main(["report", str(path), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_truncated_real_run_is_named(tmp_path, capsys):
    path = tmp_path / "cut.json"
    path.write_text(SMOKE.read_text()[:5000])
    assert main(["report", str(path)]) == 2
    assert "may be truncated" in capsys.readouterr().err


def test_unknown_run_id_and_mixed_datasets(tmp_path, smoke, capsys):
    assert main(["report", "0042", "--storage", str(tmp_path)]) == 2
    assert "no saved run matches '0042'" in capsys.readouterr().err
    fashion = copy.deepcopy(smoke)
    for bench in fashion["benchmarks"]:
        bench["extra_info"]["dataset"] = "fashion-mnist"
    path = _write(tmp_path, "fashion", fashion)
    assert main(["report", str(SMOKE), path]) == 2
    assert "different datasets" in capsys.readouterr().err
    assert main(["report", path, "--compare", str(SMOKE)]) == 2
    assert "is on mnist but" in capsys.readouterr().err


def test_gate_options_are_checked(capsys):
    assert main(["report", str(SMOKE), "--fail-on", "accuracy:0.3pp"]) == 2
    assert "--fail-on needs --compare" in capsys.readouterr().err
    assert main(["report", str(SMOKE), "--compare", str(SMOKE), "--fail-on", "speed:fast"]) == 2
    assert "expected accuracy:0.3pp" in capsys.readouterr().err


def test_partial_run_draws_what_it_can_and_says_what_is_missing(tmp_path, smoke):
    train_only = copy.deepcopy(smoke)
    train_only["benchmarks"] = [b for b in train_only["benchmarks"] if b["group"] == "train"]
    out = tmp_path / "r"
    assert main(["report", _write(tmp_path, "train_only", train_only), "--out", str(out)]) == 0
    assert not (out / FILES[("costs", "inference")]).exists()
    assert not (out / FILES[("costs", "accuracy_vs_latency")]).exists()
    assert (out / FILES[("summary", "accuracy")]).exists()
    notes = (out / "summary.md").read_text()
    assert "No train-step, latency, throughput, engine, memory-train, memory cases in these runs" in notes
    assert "the accuracy-vs-latency figure was not drawn" in notes


def test_python_dash_m_entry_point(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "mnist_models.report", str(SMOKE), "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "r" / "index.html").is_file()


def test_load_run_rejects_nothing_silently(tmp_path):
    with pytest.raises(RunError):
        load_run(tmp_path / "missing.json")


def test_restored_best_against_last_epoch_is_tabled_with_mcnemar(tmp_path, smoke):
    """A full-protocol record holds the last epoch's test scores too; the report compares the two."""
    run = copy.deepcopy(smoke)
    for bench in run["benchmarks"]:
        info = bench["extra_info"]
        outcome = info["outcome"]
        outcome["config"]["patience"] = 10
        if info["model"] != "mlp_64":
            continue
        last = copy.deepcopy(outcome["test"])
        pred, labels = decode_classes(last["predictions"]).copy(), decode_classes(last["labels"])
        right = np.flatnonzero(pred == labels)[:10]  # the last epoch got 10 more images wrong
        pred[right] = (labels[right] + 1) % 10
        _rescore(last, pred, labels)
        outcome["last_epoch_test"] = last
    out = tmp_path / "r"
    assert main(["report", _write(tmp_path, "full", run), "--out", str(out), "--no-figures"]) == 0
    with (out / "restore.csv").open() as fh:
        rows = {r["model"]: r for r in csv.DictReader(fh)}
    assert set(rows) == set(_train_records(smoke))
    assert float(rows["mlp_64"]["best_minus_last_pp"]) == pytest.approx(1.0)  # 1000 test images
    assert float(rows["mlp_64"]["mcnemar_p"]) == pytest.approx(2 * 0.5**10)
    assert float(rows["linear"]["best_minus_last_pp"]) == 0.0  # no last-epoch scores: the same weights
    assert "Restored best epoch vs last epoch" in (out / "summary.md").read_text()
    # a run without early stopping (quick, smoke) has no such table
    assert not (tmp_path / "plain").exists()
    assert main(["report", str(SMOKE), "--out", str(tmp_path / "plain"), "--no-figures"]) == 0
    assert not (tmp_path / "plain" / "restore.csv").exists()


LAYOUT = Path(__file__).resolve().parents[2] / "tools" / "check_report_layout.py"
needs_chromium = pytest.mark.skipif(
    not any(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")),
    reason="Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it",
)


@needs_chromium
@pytest.mark.slow
def test_report_reads_at_1400_px_without_scrolling_sideways(report_dir, tmp_path):
    import subprocess
    import sys

    check = [sys.executable, str(LAYOUT), "--width", "1400"]
    fits = subprocess.run(
        [*check, str(report_dir), "--screenshot", str(tmp_path / "shot.png")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert fits.returncode == 0, fits.stdout + fits.stderr
    with Image.open(tmp_path / "shot.png") as shot:
        assert shot.size[0] == 1400
    page = (report_dir / "index.html").read_text()
    assert "<table class='sortable'>" in page
    assert "<summary>All columns</summary>" in page
    # the check can fail: a page wider than the window, a figure that does not load
    (tmp_path / "lost").mkdir()
    (tmp_path / "lost" / "index.html").write_text(page)  # the page alone: its linked figures are not beside it
    lost = subprocess.run([*check, str(tmp_path / "lost")], capture_output=True, text=True, check=False)
    assert lost.returncode == 1
    assert f"{len(FIGURES)} of its {len(FIGURES)} figures did not load" in lost.stdout
    (tmp_path / "wide").mkdir()
    (tmp_path / "wide" / "index.html").write_text("<html><body><div style='width:2000px'>x</div></body></html>")
    wide = subprocess.run([*check, str(tmp_path / "wide")], capture_output=True, text=True, check=False)
    assert wide.returncode == 1, wide.stdout + wide.stderr
    assert "wider than a 1400 px window" in wide.stdout


@needs_chromium
@pytest.mark.slow
def test_self_contained_page_shows_every_figure_with_no_other_file_beside_it(tmp_path):
    import subprocess
    import sys

    assert main(["report", str(SMOKE), "--out", str(tmp_path / "r"), "--self-contained"]) == 0
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(tmp_path / "r" / "index.html", alone / "index.html")
    page = (alone / "index.html").read_text()
    assert page.count("src='data:image/png;base64,") == len(FIGURES)
    shown = subprocess.run([sys.executable, str(LAYOUT), str(alone)], capture_output=True, text=True, check=False)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert f"all {len(FIGURES)} figures loaded" in shown.stdout
    assert [p.name for p in alone.iterdir()] == ["index.html"]
