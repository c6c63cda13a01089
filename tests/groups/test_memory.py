"""The memory groups: a probe's peak is its own (a fresh process each, so no benchmark inherits another's), it
repeats within the stated resolution, it sees what a step allocates, and a stored run gates it (``memory:20%``)."""

from __future__ import annotations

import copy
import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from mnist_models.bench.session import resolve
from mnist_models.bench.settings import SuiteSettings
from mnist_models.groups.memory import probe as probe_module
from mnist_models.groups.memory.runner import MIB, ProbeError, probe, request_for
from mnist_models.groups.memory.spec import CALLS, RESOLUTION_MIB, TRAIN_STEPS
from mnist_models.report.gate import GateRule, _gated_failures, compare_runs, gate
from mnist_models.results.record import RunError
from mnist_models.results.runs import load_run


@pytest.fixture(scope="module")
def plan():
    return resolve(SuiteSettings(profile="smoke", models=("mlp_64", "lenet5"), device="cpu", threads=2))


def context_of(plan):
    data = SimpleNamespace(x_test=torch.zeros(4, 1, 28, 28), classes=tuple(range(10)), y_test=torch.zeros(4))
    return SimpleNamespace(data=data, plan=plan)


def request(plan, name: str, kind: str, batch: int):
    case = plan.case(f"{name}-seed0")
    extra = {"runtime": "eager", "options": {}} if kind == "inference" else {}
    calls = CALLS if kind == "inference" else TRAIN_STEPS
    return request_for(context_of(plan), case, plan.fresh_model(case), kind, batch, calls=calls, **extra)


def test_the_meter_sees_an_allocation_and_nothing_before_its_reset():
    meter = probe_module.Meter(torch.device("cpu"))
    before = torch.empty(64 * MIB // 4)
    before.fill_(1)  # resident, then freed before the measurement starts: not the measurement's
    del before
    baseline = meter.now()
    meter.reset()
    block = np.ones(16 * MIB // 8)  # 16 MiB, touched
    peak = (meter.peak() - baseline) / MIB
    del block
    assert 16 - RESOLUTION_MIB <= peak <= 16 + 1  # the interpreter's own bookkeeping on top, well under a MiB


@pytest.mark.slow
def test_identical_probes_in_either_order_give_one_peak(plan):
    """mlp_64's batch-1 peak, measured before and after lenet5's larger batched one, and its train step's."""
    small, large = request(plan, "mlp_64", "inference", 1), request(plan, "lenet5", "inference", 256)
    step = request(plan, "mlp_64", "train-step", 32)
    first, big, again = probe(small, "a"), probe(large, "b"), probe(small, "a")
    assert abs(first["peak_bytes"] - again["peak_bytes"]) / MIB <= RESOLUTION_MIB
    assert big["peak_bytes"] > first["peak_bytes"] + 4 * MIB  # lenet5's 256 images: activations of megabytes
    weights = sum(p.numel() * 4 for p in plan.fresh_model(plan.case("mlp_64-seed0")).parameters()) / MIB
    assert abs(first["peak_bytes"] / MIB - weights) <= RESOLUTION_MIB  # batch 1: the weights, near enough
    steps = [probe(step, "c")["peak_bytes"] / MIB for _ in range(2)]
    assert abs(steps[0] - steps[1]) <= RESOLUTION_MIB
    assert steps[0] >= 4 * weights - RESOLUTION_MIB  # weights, gradients and Adam's two moments at least


def test_a_probe_that_fails_says_which_model_and_what(plan, monkeypatch):
    broken = request(plan, "mlp_64", "inference", 1)
    broken["runtime"] = "no-such-runtime"
    with pytest.raises(ProbeError, match=r"mlp_64: the memory probe of batch 1 failed: KeyError: .*no-such-runtime"):
        probe(broken, "batch 1")


def _fixture() -> dict:
    from pathlib import Path

    return json.loads((Path(__file__).parents[1] / "fixtures" / "smoke_run_schema1.json").read_text())


@pytest.mark.parametrize(("grown_mib", "fails"), [(RESOLUTION_MIB / 2, False), (3.0, True)])
def test_a_memory_rule_fails_growth_beyond_its_threshold_and_resolution(tmp_path, grown_mib, fails):
    fixture = _fixture()
    bench = next(b for b in fixture["benchmarks"] if b["group"] == "latency")
    memory = copy.deepcopy(bench)
    memory.update(group="memory", name=bench["name"].replace("test_latency", "test_memory"))
    memory["fullname"] = memory["fullname"].replace("test_latency", "test_memory")
    memory["extra_info"]["case"] = "memory"  # schema 1 named the group "case"
    memory["extra_info"]["metrics"] = {"latency_peak_mib": 2.0, "throughput_peak_mib": 5.0}
    fixture["benchmarks"] = [memory]
    (tmp_path / "base.json").write_text(json.dumps(fixture))
    memory["extra_info"]["metrics"] = {"latency_peak_mib": 2.0 + grown_mib, "throughput_peak_mib": 5.0}
    (tmp_path / "head.json").write_text(json.dumps(fixture))
    base, head = load_run(tmp_path / "base.json"), load_run(tmp_path / "head.json")
    comparison = compare_runs(base, head)
    failures = _gated_failures(comparison[comparison["status"] == "both"], GateRule.parse("memory:20%"))
    assert bool(failures) == fails
    if fails:
        assert "batch-1 MiB 2 -> 5 (+150.0%, resolution 0.5) exceeds memory:20%" in failures[0]
    assert math.isclose(comparison["base_latency_peak_mib"].iloc[0], 2.0)


def test_a_probes_wall_time_is_left_out_of_time_rules_and_the_history():
    from mnist_models.results.groups import measures_time

    assert not measures_time("memory")
    assert not measures_time("memory-train")
    assert measures_time("latency")
    assert measures_time("a-group-of-a-plugin-not-installed")


def test_a_memory_rule_with_nothing_to_compare_is_bad_input_not_a_pass(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps(_fixture()))  # a run without the memory groups
    run = load_run(tmp_path / "run.json")
    with pytest.raises(RunError, match=r"memory:20% compares nothing: .* \(without --mnist-no-memory\)"):
        gate(compare_runs(run, run), [GateRule.parse("memory:20%")], run, run)


@pytest.mark.slow
def test_an_int8_cnn_is_probed_with_the_calibration_the_inference_groups_use(plan):
    """The memory group builds each runtime with ``Conversions.options``: int8's static QDQ gets its training images."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from mnist_models.bench.context import Conversions, Mode

    case = plan.case("lenet5-seed0")
    conversions = Conversions(plan, Mode.SUITE, torch.rand(512, 1, 28, 28))
    options = conversions.options(case, "onnxruntime-int8")
    assert options["calibration"].shape == (256, 1, 28, 28)
    assert conversions.options(case, "eager") == {"compile": case.training.config.compile}
    model = plan.fresh_model(case).eval()
    asked = request_for(
        context_of(plan), case, model, "inference", 1, runtime="onnxruntime-int8", options=options, calls=CALLS
    )
    found = probe(asked, "batch-1 inference on onnxruntime-int8")
    assert 0 < found["peak_bytes"] / MIB < 64


def test_on_cuda_a_runtime_outside_torchs_allocator_is_skipped_saying_why():
    from mnist_models.groups.memory.runner import unmeasured
    from mnist_models.runtimes.base import Runtime, get_runtime

    outside = Runtime("outside", "a runtime with an allocator of its own", "nowhere:prepare", allocator="its-library")
    assert unmeasured(outside, "cpu", "fp32") is None
    assert unmeasured(outside, "cuda", "fp32") == (
        "outside allocates CUDA memory through its-library, outside torch's allocator: not measured"
    )
    assert unmeasured(get_runtime("eager"), "cuda", "fp32") is None
    assert get_runtime("onnxruntime").allocator == "onnxruntime"


class _NothingToQuantize(torch.nn.Module):
    """Ten pixels as the logits: an export with no Conv, Gemm or MatMul."""

    def forward(self, x):
        return x.flatten(1)[:, :10] * 2


@pytest.mark.slow
def test_a_model_the_runtime_cannot_take_is_skipped_like_the_inference_groups_skip_it(plan):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from mnist_models.bench.timing import NotApplicable
    from mnist_models.groups.memory import runner

    case = plan.case("mlp_64-seed0")
    asked = request_for(context_of(plan), case, _NothingToQuantize(), "inference", 1, runtime="onnxruntime-int8",
                        options={"calibration": torch.rand(8, 1, 28, 28)}, calls=CALLS)  # fmt: skip
    status, why = probe_module._in_child(asked)  # what the forked child does, here in-process
    assert status == "unsupported"
    assert "its export holds none of" in why
    with pytest.raises(NotApplicable, match="its export holds none of"):
        runner.reply(status, why, "mlp_64: the memory probe of batch 1")


def test_a_memory_rule_refuses_runs_of_another_torch_build(tmp_path):
    fixture = _fixture()
    (tmp_path / "base.json").write_text(json.dumps(fixture))
    fixture["machine_info"]["mnist_models"]["torch"] = "9.9.9"
    (tmp_path / "head.json").write_text(json.dumps(fixture))
    base, head = load_run(tmp_path / "base.json"), load_run(tmp_path / "head.json")
    with pytest.raises(RunError, match=r"memory:20% compares .* another device or torch build \(torch: .* vs 9.9.9\)"):
        gate(compare_runs(base, head), [GateRule.parse("memory:20%")], base, head)
