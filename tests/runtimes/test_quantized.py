"""The int8 runtime: calibrated on training images only, quantized by what its graph holds, judged by McNemar's test
against eager fp32 (Holm over the models) beside its speed."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from mnist_models.bench.context import Conversions, Mode
from mnist_models.report.sections.tables import display_quantized
from mnist_models.report.tables.groups import best_runtimes
from mnist_models.report.tables.quantized import findings, quantized_table
from mnist_models.runtimes import base
from mnist_models.runtimes.base import NotSupported, calibration_images, get_runtime
from mnist_models.runtimes.quantized import calibration_batches, scheme
from mnist_models.stats.paired import mcnemar_counts_p, mcnemar_p

SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "test_mnist.py"
INT8 = "onnxruntime-int8"


def test_calibration_images_come_from_the_training_split_only(monkeypatch):
    """Training images hold their index (0, 1, ...), test images negative numbers: a test image would show."""
    x_train = torch.arange(50.0).reshape(50, 1, 1, 1).expand(50, 1, 28, 28).contiguous()
    given = []
    spy = SimpleNamespace(calibration=8, build=lambda *args, **kwargs: given.append(kwargs["calibration"]))
    monkeypatch.setattr("mnist_models.bench.context.get_runtime", lambda name: spy)
    plan = SimpleNamespace(device=torch.device("cpu"), threads=1)
    case = SimpleNamespace(id="m-seed0", model="m", training=SimpleNamespace(config=SimpleNamespace(precision="fp32")))
    conversions = Conversions(plan, Mode.SUITE, x_train)
    for batch in (1, 4):
        conversions.prepared(case, "spy", None, -torch.ones(batch, 1, 28, 28))
    first, second = given
    assert first.shape == (8, 1, 28, 28)
    assert torch.equal(first, second)
    rows = first[:, 0, 0, 0]
    assert (rows >= 0).all()
    assert len(set(rows.tolist())) == 8
    assert torch.equal(first, x_train[rows.long()])
    assert torch.equal(calibration_images(x_train, 80), x_train)  # a split smaller than the sample: all of it


def test_a_graph_is_quantized_by_the_operators_it_holds():
    assert scheme({"Conv", "Gemm", "Relu", "MaxPool"}) == "static QDQ"
    assert scheme({"Gemm", "Relu", "Reshape"}) == "dynamic"
    assert scheme({"Relu", "Reshape"}) is None
    images = np.arange(5)
    assert [b.tolist() for b in calibration_batches(images, 2)] == [[0, 1], [2, 3], [4, 0]]
    assert [b.tolist() for b in calibration_batches(images, 8)] == [[0, 1, 2, 3, 4, 0, 1, 2]]  # every image, no other


def test_mcnemar_from_the_discordant_counts():
    assert mcnemar_counts_p(10, 0) == pytest.approx(2 * 0.5**10)  # exact below 25 discordant images
    assert mcnemar_counts_p(10, 2) == pytest.approx(2 * (1 + 12 + 66) / 2**12)
    assert mcnemar_counts_p(30, 10) == pytest.approx(stats.chi2.sf((20 - 1) ** 2 / 40, 1))  # continuity-corrected
    assert mcnemar_counts_p(0, 0) == 1.0
    labels = np.zeros(20, int)
    a, b = np.r_[np.zeros(12), np.ones(8)], np.r_[np.ones(10), np.zeros(2), np.ones(8)]  # 10 only a, 0 only b
    assert mcnemar_p(a, b, labels) == mcnemar_counts_p(10, 0)


def _runtimes_table() -> pd.DataFrame:
    """Three models on eager, onnxruntime and int8 (lenet5's fp32 onnxruntime did not run), as runtime_table has
    them: 10,000 test images; int8 counts (fp32 only right, int8 only right) 0/0, 40/5 and 10/2."""
    rows = []
    for model, (fp32_only, int8_only), baseline in (("a", (0, 0), True), ("b", (40, 5), True), ("c", (10, 2), False)):
        rows.append({"model": model, "runtime": "eager", "latency_p50_ms": 0.4, "throughput_img_s": 1000.0})
        if baseline:
            rows.append({"model": model, "runtime": "onnxruntime", "latency_p50_ms": 0.1, "throughput_img_s": 4000.0,
                         "artifact_bytes": 400})  # fmt: skip
        rows.append({"model": model, "runtime": INT8, "latency_p50_ms": 0.05, "throughput_img_s": 8000.0,
                     "artifact_bytes": 100, "agreement": 0.995, "quantization": "int8 dynamic",
                     "runtime_baseline": "onnxruntime", "fp32_only_correct": fp32_only,
                     "runtime_only_correct": int8_only, "paired_accuracy": 0.98, "test_images": 10_000})  # fmt: skip
    table = pd.DataFrame(rows)
    eager = table[table["runtime"] == "eager"].set_index("model")
    table["latency_speedup"] = table["model"].map(eager["latency_p50_ms"]) / table["latency_p50_ms"]
    table["throughput_speedup"] = table["throughput_img_s"] / table["model"].map(eager["throughput_img_s"])
    return table


def test_the_int8_table_tests_each_model_and_holm_corrects_over_them():
    table = quantized_table(_runtimes_table()).set_index("model")
    p = [1.0, mcnemar_counts_p(40, 5), mcnemar_counts_p(10, 2)]
    assert table["mcnemar_p"].tolist() == pytest.approx(p)
    assert table["holm_p"].tolist() == pytest.approx([1.0, 3 * p[1], 2 * p[2]])
    assert table["verdict"].tolist() == ["no significant change", "significantly worse", "no significant change"]
    assert p[2] < 0.05  # c: below 5% alone, not once the three models are one family
    assert table.loc["b", "delta_pp"] == pytest.approx(-0.35)
    assert table.loc["b", "fp32_accuracy"] == pytest.approx(0.9835)
    assert table.loc["a", ["latency_vs_eager", "throughput_vs_eager"]].tolist() == [8.0, 8.0]
    assert table.loc["a", ["latency_vs_baseline", "throughput_vs_baseline", "artifact_ratio"]].tolist() == [2, 2, 0.25]
    assert pd.isna(table.loc["c", "baseline"])  # its fp32 runtime did not run: no ratio over it
    shown = display_quantized(table.reset_index()).set_index("model")
    assert shown.loc["b", "accuracy fp32 → quantized"] == "98.35% → 98.00%"
    assert shown.loc["b", "verdict"] == "significantly worse"
    assert shown.loc["c", "vs onnxruntime: latency / throughput / size"] == "–"
    found = json.loads(json.dumps(findings(table.reset_index()), allow_nan=False))  # plain JSON, no NaN
    assert found["models"] == 3
    assert "Holm" in found["test"]
    assert quantized_table(_runtimes_table().drop(columns="quantization").assign(quantization=None)).empty


def test_the_int8_runtime_is_data_on_its_spec():
    int8 = get_runtime(INT8)
    assert (int8.calibration, int8.baseline, int8.agreement_floor) == (base.QUANTIZED_CALIBRATION, "onnxruntime",
                                                                        base.QUANTIZED_AGREEMENT)  # fmt: skip
    assert get_runtime("onnxruntime").agreement_floor == 0.999
    assert int8.why_not("cuda", "fp32") in (int8.missing(), f"{INT8} runs on cpu only; this session runs on cuda")
    assert int8.why_not("cpu", "bf16") in (int8.missing(), f"{INT8} runs the weights at fp32; this session runs bf16")


def test_an_mlp_is_quantized_dynamically_a_cnn_statically_and_a_graph_without_either_is_skipped():
    pytest.importorskip("onnxruntime", reason="the onnx extra: pip install 'mnist-models[onnx]'")
    from mnist_models.models.registry import create_model

    torch.manual_seed(0)
    x, calibration = torch.rand(4, 1, 28, 28), torch.rand(16, 1, 28, 28)
    int8 = get_runtime(INT8)
    for name, how in (("mlp_64", "int8 dynamic"), ("lenet5", "int8 static QDQ, 16 calibration images")):
        model = create_model(name).eval()
        prepared = int8.build(name, model, x, torch.device("cpu"), 1, "fp32", calibration=calibration)
        assert prepared.quantization == how
        with torch.no_grad():
            assert (prepared.forward(x) - model(x)).abs().max() < 0.1  # int8 rounding, not another model
        assert prepared.artifact_bytes < 4 * sum(p.numel() for p in model.parameters())  # int8 weights, not fp32
    with pytest.raises(NotSupported, match="nothing to quantize"):
        int8.build("flat", torch.nn.Sequential(torch.nn.Flatten(), torch.nn.ReLU()).eval(), x, torch.device("cpu"), 1,
                   "fp32", calibration=calibration)  # fmt: skip


@pytest.mark.slow
def test_int8_on_an_mlp_and_a_cnn_end_to_end(pytester, data_root, tmp_path):
    pytest.importorskip("onnxruntime", reason="the onnx extra: pip install 'mnist-models[onnx]'")
    pytester.makepyfile(test_mnist=SUITE.read_text())
    result = pytester.runpytest_subprocess(
        "--benchmark-only", "--mnist-profile=smoke", "--mnist-models=mlp_64,lenet5", "-k", "latency",
        f"--mnist-runtimes=eager,onnxruntime,{INT8}", f"--mnist-data-dir={data_root[0]}",
        f"--mnist-cache-dir={tmp_path / 'w'}", "-p", "no:cacheprovider", "--benchmark-json=out.json",
        f"--mnist-report={tmp_path / 'report'}",
    )  # fmt: skip
    result.assert_outcomes(passed=6)
    records = {b["name"]: b["extra_info"] for b in json.loads((pytester.path / "out.json").read_text())["benchmarks"]}
    mlp, cnn = (records[f"test_latency[{m}-seed0-{INT8}]"] for m in ("mlp_64", "lenet5"))
    assert mlp["quantization"] == "int8 dynamic"
    assert cnn["quantization"] == f"int8 static QDQ, {base.QUANTIZED_CALIBRATION} calibration images"
    for record in (mlp, cnn):
        assert record["agreement_floor"] == base.QUANTIZED_AGREEMENT
        assert record["runtime_baseline"] == "onnxruntime"
        assert record["fp32_only_correct"] + record["runtime_only_correct"] <= record["disagreements"]
    eager = records["test_latency[lenet5-seed0]"]
    assert (eager["fp32_only_correct"], eager["runtime_only_correct"]) == (0, 0)
    shift = (cnn["runtime_only_correct"] - cnn["fp32_only_correct"]) / 1000
    assert math.isclose(cnn["runtime_accuracy"] - eager["runtime_accuracy"], shift, abs_tol=1e-6)  # float32 accuracies
    found = json.loads((tmp_path / "report" / "insights.json").read_text())["quantized"]
    assert {r["model"] for r in found["rows"]} == {"mlp_64", "lenet5"}
    assert "accuracy fp32 → quantized" in (tmp_path / "report" / "summary.md").read_text()


def test_the_fastest_runtime_runs_the_trained_weights_as_they_are():
    """int8 is the fastest and agrees fully here, yet the answer's fastest runtime is fp32's: int8 is another model."""
    best = best_runtimes(_runtimes_table().assign(agreement=1.0)).set_index("model")["best_runtime"]
    assert best.to_dict() == {"a": "onnxruntime", "b": "onnxruntime", "c": "eager"}
