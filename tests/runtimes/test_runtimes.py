"""Runtimes: each checked against eager PyTorch before it is timed; missing ones skip with their install command,
failing conversions fail their own benchmark only, disagreeing outputs fail the agreement check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mnist_models.runtimes.agreement import compare
from mnist_models.runtimes.base import RUNTIMES, Runtime

SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "test_mnist.py"

FAKE_RUNTIMES = '''
import torch

from mnist_models.runtimes.base import Prepared, Runtime, register_runtime
from mnist_models.runtimes.eager import prepare as eager


def broken(model, x, device, threads, precision):
    raise RuntimeError("this exporter does not know Flatten")


def noisy(model, x, device, threads, precision):
    """Eager, with every logit shuffled: fast and wrong."""
    prepared = eager(model, x, device, threads, precision)
    generator = torch.Generator().manual_seed(0)
    wrong = lambda batch: prepared.forward(batch)[:, torch.randperm(10, generator=generator)]
    return Prepared(prepared.run, wrong)


register_runtime(Runtime("absent", "needs a package nobody has", "mnist_models.runtimes.eager:prepare",
                         requires=("no_such_package_xyz",), extra="absent"))
register_runtime(Runtime("broken", "fails to convert", "conftest:broken"))
register_runtime(Runtime("noisy", "disagrees with eager", "conftest:noisy"))
'''


def test_a_missing_runtime_says_how_to_install_it():
    runtime = Runtime("x", "needs onnx", "m:f", requires=("no_such_package_xyz", "torch"), extra="onnx")
    assert runtime.missing() == "x needs no_such_package_xyz, which is not installed: pip install 'mnist-models[onnx]'"
    assert RUNTIMES.get("eager").missing() is None


def test_agreement_counts_every_image_at_the_timed_batch_size():
    torch.manual_seed(0)
    x, reference = torch.randn(10, 3), torch.randn(10, 4)
    labels = reference.argmax(1)
    same = compare(lambda batch: reference[: len(batch)] if len(batch) == 10 else None, x, 10, reference, labels)
    assert same == {"agreement": 1.0, "disagreements": 0, "max_logit_diff": 0.0, "runtime_accuracy": 1.0,
                    "fp32_only_correct": 0, "runtime_only_correct": 0}  # fmt: skip
    rows = {tuple(r.tolist()): i for i, r in enumerate(x)}

    def exact(batch):  # batch 4 of 10 images: the last batch padded with the first two, which are sliced off
        assert len(batch) == 4
        return reference[[rows[tuple(r.tolist())] for r in batch]]

    assert compare(exact, x, 4, reference, labels)["agreement"] == 1.0
    wrong = compare(lambda batch: -exact(batch), x, 4, reference, labels)
    assert wrong["disagreements"] == 10
    assert wrong["runtime_accuracy"] == 0.0
    assert (wrong["fp32_only_correct"], wrong["runtime_only_correct"]) == (10, 0)


@pytest.mark.slow
def test_each_runtime_is_timed_only_when_it_agrees_with_eager(pytester, data_root, tmp_path):
    pytester.makepyfile(test_mnist=SUITE.read_text())
    pytester.makeconftest(FAKE_RUNTIMES)
    pytester._monkeypatch.setenv("COLUMNS", "400")  # skip reasons whole in the short summary
    result = pytester.runpytest_subprocess(
        "--benchmark-only", "--mnist-profile=smoke", "--mnist-models=mlp_64", "-k", "latency or test_train and not step",
        "--mnist-runtimes=eager,onnxruntime,compile,absent,broken,noisy", f"--mnist-data-dir={data_root[0]}",
        f"--mnist-cache-dir={tmp_path / 'w'}", "-p", "no:cacheprovider", "--benchmark-json=out.json", "-rsf",
    )  # fmt: skip
    result.assert_outcomes(passed=4, skipped=1, failed=2)  # train, eager, onnxruntime, compile; absent; broken, noisy
    result.stdout.fnmatch_lines(
        [
            "*absent needs no_such_package_xyz, which is not installed: pip install 'mnist-models[[]absent[]]'*",  # [[] is a literal [ to fnmatch
            "*ConversionError: mlp_64 on broken: RuntimeError: this exporter does not know Flatten*",
            "*mlp_64 on noisy: top-1 agreement with eager PyTorch *% (* of 1000 test images differ*",
        ]
    )
    records = {b["name"]: b["extra_info"] for b in json.loads((pytester.path / "out.json").read_text())["benchmarks"]}
    assert "test_latency[mlp_64-seed0]" in records  # eager keeps the name it always had
    for name in ("onnxruntime", "compile"):
        record = records[f"test_latency[mlp_64-seed0-{name}]"]
        assert record["runtime"] == name
        assert record["agreement"] >= 0.999
        assert record["conversion_time_s"] > 0
        assert record["conversion_warm_time_s"] > 0
        assert record["artifact_bytes"] > 0
        assert record["peak_rss_bytes"] > 0
        assert record["runtime_accuracy"] == pytest.approx(
            records["test_latency[mlp_64-seed0]"]["runtime_accuracy"], abs=0.002
        )
    assert records["test_latency[mlp_64-seed0-noisy]"]["status"] == "failed-agreement"
