"""A runtime from an installed package is one entry point: ``--mnist-runtimes`` takes it and its latency is timed."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "test_mnist.py"

pytestmark = pytest.mark.slow

TOY_RUNTIME = {
    "toyruntime/__init__.py": '''
        """An installed runtime: eager PyTorch behind a wrapper of its own, registered on import."""
        from mnist_models.runtimes.base import Runtime, register_runtime

        register_runtime(Runtime("toyrt", "eager PyTorch through an installed package", "toyruntime:prepare"))


        def prepare(model, x, device, threads, precision):
            from mnist_models.runtimes.eager import prepare as eager

            return eager(model, x, device, threads, precision)
        ''',
    "toyruntime-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: toyruntime\nVersion: 1.0\n",
    "toyruntime-1.0.dist-info/entry_points.txt": "[mnist_models.runtimes]\ntoyrt = toyruntime\n",
}


def test_an_installed_runtime_is_offered_and_timed(pytester, data_root, tmp_path):
    site = tmp_path / "site"
    for name, text in TOY_RUNTIME.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(textwrap.dedent(text))
    pytester._monkeypatch.setenv("PYTHONPATH", str(site))
    pytester.makepyfile(test_mnist=SUITE.read_text())
    refused = pytester.runpytest_subprocess("--mnist-runtimes=nosuch", "--co")
    refused.stderr.fnmatch_lines(
        ["*unknown runtime 'nosuch'; runtimes are eager, compile, onnxruntime, aoti, onnxruntime-int8, toyrt*"]
    )
    result = pytester.runpytest_subprocess(
        "--benchmark-only", "--mnist-profile=smoke", "--mnist-models=mlp_64", "--mnist-runtimes=eager,toyrt",
        "-k", "latency or (test_train and not step)", f"--mnist-data-dir={data_root[0]}",
        f"--mnist-cache-dir={tmp_path / 'w'}", "-p", "no:cacheprovider", "--benchmark-json=out.json",
    )  # fmt: skip
    result.assert_outcomes(passed=3)  # train, latency on eager, latency on toyrt
    records = {b["name"]: b["extra_info"] for b in json.loads((pytester.path / "out.json").read_text())["benchmarks"]}
    toy = records["test_latency[mlp_64-seed0-toyrt]"]
    assert toy["runtime"] == "toyrt"
    assert toy["agreement"] == 1.0  # checked against eager on every test image, like a built-in runtime
    assert toy["latency_p50_ms"] > 0
