"""The weight cache is verified on load: damaged or misfitting weights are retrained with one warning, and the
accuracy a record publishes is that of the weights it holds."""

from __future__ import annotations

import shutil
import warnings
from dataclasses import replace

import pytest
import torch

from mnist_models.bench.cache import CacheWarning
from mnist_models.bench.session import resolve
from mnist_models.bench.settings import SuiteSettings
from mnist_models.bench.weights import Weights
from mnist_models.models.registry import resolve_models
from mnist_models.training.evaluation import evaluate


@pytest.fixture(scope="module")
def trained(tiny, tmp_path_factory):
    """mlp_64 trained once on the tiny data (smoke profile, CPU), its cache folder and the case."""
    cache = tmp_path_factory.mktemp("weights")
    plan = resolve(SuiteSettings(profile="smoke", models=("mlp_64",), device="cpu", cache_dir=str(cache)))
    weights = Weights(plan, tiny)
    case = plan.cases[0]
    first = weights.get(case)
    assert first.source == "trained"
    return plan, case, first


@pytest.fixture
def cache(trained, tmp_path):
    """A private copy of the trained cache, safe to damage: (plan using it, case, its entry's path)."""
    plan, case, _ = trained
    shutil.copytree(plan.cache_dir, tmp_path / "weights")
    plan = replace(plan, cache_dir=tmp_path / "weights")
    [path] = (tmp_path / "weights").glob("*.pt")
    return plan, case, path


def _scores_itself(data, got) -> bool:
    """Whether the accuracy ``got`` carries is what its weights score on the test set."""
    return evaluate(got.model, data.x_test, data.y_test, classes=10).accuracy == got.outcome.test.accuracy


def test_intact_weights_come_from_disk_without_a_warning(cache, tiny):
    plan, case, _ = cache
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        got = Weights(plan, tiny).get(case)
    assert got.source == "disk"
    assert _scores_itself(tiny, got)


def test_a_flipped_byte_in_cached_weights_is_retrained_and_the_accuracy_is_the_weights_own(cache, tiny):
    plan, case, path = cache
    bias = [k for k in torch.load(path, weights_only=True)["state_dict"] if k.endswith("bias")][-1]
    clean = torch.load(path, weights_only=True)["state_dict"][bias]
    blob = bytearray(path.read_bytes())
    at = blob.find(clean.numpy().tobytes())
    blob[at + 3] ^= 0x40  # the first float's exponent: a bias of about 1e37 (measured: -1.39e37)
    path.write_bytes(bytes(blob))
    assert torch.load(path, weights_only=True)["state_dict"][bias].abs().max() > 1e30  # torch loads it silently
    with pytest.warns(CacheWarning) as caught:
        got = Weights(plan, tiny).get(case)
    assert len(caught) == 1
    assert str(path) in str(caught[0].message)
    assert "does not match its SHA-256 digest" in str(caught[0].message)
    assert got.source == "trained"
    assert got.model.state_dict()[bias].abs().max() < 1e3
    assert _scores_itself(tiny, got)
    with warnings.catch_warnings():  # retrained and written again: the next session reads it
        warnings.simplefilter("error", CacheWarning)
        assert Weights(plan, tiny).get(case).source == "disk"


def test_another_models_state_dict_is_retrained_not_a_runtime_error(cache, tiny):
    plan, case, path = cache
    weights = Weights(plan, tiny)
    entry = weights.cache.load(weights.cache_inputs(case))
    other = resolve_models(["cnn_32_64_fc64"])[0].build().state_dict()
    weights.cache.save(weights.cache_inputs(case), other, entry.outcome)  # the right inputs, another model
    with pytest.warns(CacheWarning, match="does not fit the model: missing") as caught:
        got = weights.get(case)
    assert len(caught) == 1
    assert str(path) in str(caught[0].message)
    assert got.source == "trained"
    assert _scores_itself(tiny, got)


def test_the_cache_key_covers_the_datas_content(trained, tiny):
    plan, case, _ = trained
    same_files_other_content = replace(tiny, content="0" * 16)  # same raw files' checksum, other tensors
    one, other = Weights(plan, tiny), Weights(plan, same_files_other_content)
    assert one.cache.path(one.cache_inputs(case)) != other.cache.path(other.cache_inputs(case))
    assert other.cache.load(other.cache_inputs(case)) is None  # not answered by the weights trained on ``tiny``


def test_a_read_only_cache_warns_once_and_the_session_goes_on_in_memory(trained, tiny, monkeypatch, tmp_path):
    import errno

    import filelock

    from mnist_models.bench import cache as cache_module

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "weights"))

    monkeypatch.setattr(filelock.FileLock, "acquire", read_only)  # root writes anywhere: the refusal is mocked
    monkeypatch.setattr(cache_module, "atomic_write_bytes", read_only)
    plan, _, _ = trained
    plan = resolve(SuiteSettings(profile="smoke", models=("mlp_64", "linear"), device="cpu", cache_dir=str(tmp_path)))
    weights = Weights(plan, tiny)
    with pytest.warns(CacheWarning) as caught:
        got = [weights.get(case) for case in plan.cases]
    assert [w.source for w in got] == ["trained", "trained"]
    [warning] = caught  # once, not once per model
    assert "cannot be written (Read-only file system); going on without caching" in str(warning.message)
    assert not list(tmp_path.glob("*.pt"))


def test_a_full_cache_disk_warns_once_and_the_session_goes_on_in_memory(tiny, monkeypatch, tmp_path):
    import errno

    from mnist_models.bench import cache as cache_module

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(cache_module, "atomic_write_bytes", full)  # before: a failed test with a traceback
    plan = resolve(SuiteSettings(profile="smoke", models=("mlp_64", "linear"), device="cpu", cache_dir=str(tmp_path)))
    weights = Weights(plan, tiny)
    with pytest.warns(CacheWarning) as caught:
        got = [weights.get(case) for case in plan.cases]
    assert [w.source for w in got] == ["trained", "trained"]
    [warning] = caught
    assert "(No space left on device); going on without caching" in str(warning.message)


CONCURRENT = """
import time
from mnist_models.bench.weights import Weights

_run = Weights.run_training

def slow_training(self, *args):  # both sessions reach the entry while the first still trains it
    time.sleep(3)
    return _run(self, *args)

Weights.run_training = slow_training
"""


@pytest.mark.slow
def test_two_concurrent_sessions_on_one_cache_train_each_model_once(tmp_path, data_root):
    import json
    import subprocess
    import sys
    from pathlib import Path

    suite = Path(__file__).resolve().parents[2] / "benchmarks" / "test_mnist.py"
    procs = []
    for side in ("one", "two"):
        project = tmp_path / side
        project.mkdir()
        (project / "test_mnist.py").write_text(suite.read_text())
        (project / "conftest.py").write_text(CONCURRENT)
        command = [sys.executable, "-m", "pytest", "test_mnist.py", "--benchmark-only", "--mnist-profile=smoke",
                   "--mnist-models=mlp_64,linear", "-k", "latency", f"--mnist-data-dir={data_root[0]}",
                   f"--mnist-cache-dir={tmp_path / 'weights'}", "--benchmark-json=out.json", "--mnist-no-report",
                   "-p", "no:cacheprovider"]  # fmt: skip
        procs.append(
            subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        )
    outputs = [proc.communicate(timeout=600)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], "\n".join(o[-2000:] for o in outputs)
    sources = {}
    for side in ("one", "two"):
        for bench in json.loads((tmp_path / side / "out.json").read_text())["benchmarks"]:
            sources.setdefault(bench["extra_info"]["model"], []).append(bench["extra_info"]["cache"])
    assert {model: sorted(s) for model, s in sources.items()} == {m: ["disk", "trained"] for m in ("mlp_64", "linear")}
    assert any("waiting for another session" in output for output in outputs)
