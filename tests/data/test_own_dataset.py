"""A project's own dataset end to end: registered in its conftest.py, trained, recorded and reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "test_mnist.py"

pytestmark = pytest.mark.slow

CONFTEST = """
from pathlib import Path

from mnist_models import DatasetSpec, register_dataset
from mnist_models.data.formats import NpzFile
from mnist_models.data.routes import Folder

register_dataset(DatasetSpec("toy", tuple("abcdefghij"), NpzFile("toy.npz"), files={"toy.npz": None},
                             routes=(Folder((str(Path(__file__).parent),)),), class_word="glyph", val_size=100))
"""


def test_a_dataset_from_a_conftest_is_trained_recorded_and_reported(pytester, tmp_path):
    rng = np.random.default_rng(0)
    labels = np.arange(400) % 10
    images = (rng.integers(0, 60, (400, 28, 28)) + labels[:, None, None] * 19).astype(np.uint8)  # learnable
    np.savez(pytester.path / "toy.npz", x_train=images[:300], y_train=labels[:300], x_test=images[300:],
             y_test=labels[300:])  # fmt: skip
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_mnist=SUITE.read_text())
    result = pytester.runpytest_subprocess(
        "--benchmark-only", "--mnist-profile=smoke", "--mnist-models=linear", "--mnist-dataset=toy",
        f"--mnist-data-dir={tmp_path / 'data'}", f"--mnist-cache-dir={tmp_path / 'weights'}",
        "--benchmark-json=out.json", "--mnist-no-report", "-p", "no:cacheprovider",
    )  # fmt: skip
    assert result.ret == 0, result.stdout.str()[-3000:]
    records = [b["extra_info"] for b in json.loads((pytester.path / "out.json").read_text())["benchmarks"]]
    assert records
    assert {r["dataset"] for r in records} == {"toy"}
    assert (tmp_path / "data" / "toy" / "raw" / "toy.npz").is_file()

    # the report runs outside pytest, so it does not read the conftest: a tiny installed dist names the
    # conftest as an entry point of mnist_models.datasets, found on PYTHONPATH as any installed package is
    dist = pytester.path / "toy_dataset-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-dataset\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[mnist_models.datasets]\ntoy = conftest\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(pytester.path), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "mnist_models", "report", "out.json", "--out", "report", "--no-figures"]
    proc = subprocess.run(command, cwd=pytester.path, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    page = (pytester.path / "report" / "index.html").read_text()
    assert "toy" in page
    assert "glyph" in page
