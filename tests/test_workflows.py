"""The example CI workflows: valid GitHub Actions workflows (schema bundled: no network) that work on hosted runners."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

WORKFLOWS = sorted((Path(__file__).resolve().parents[1] / ".github" / "workflows").glob("*.yml"))


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.name for w in WORKFLOWS])
def test_workflow_validates_against_the_github_schema(workflow):
    pytest.importorskip("check_jsonschema", reason="check-jsonschema is a dev dependency: pip install -e '.[dev]'")
    proc = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(workflow)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.name for w in WORKFLOWS])
def test_workflow_works_on_a_hosted_runner(workflow):
    text = workflow.read_text()
    # CPU torch from PyTorch's own index (from PyPI, torch is the multi-GB CUDA build), pip cached
    assert "TORCH_INDEX: https://download.pytorch.org/whl/cpu" in text
    assert text.count('--index-url "$TORCH_INDEX"') == text.count("python3 -m venv .venv")
    assert "cache: pip" in text
    # caches of trained weights are keyed by the code and pins that decide them, not by the pins alone
    for key in re.findall(r"key: (mnist-(?:weights|shard).*)$", text, flags=re.M):
        assert "hashFiles('ci/constraints.txt', 'mnist_models/models/**', 'mnist_models/training/**'" in key
    assert "permissions:" in text
    assert "concurrency:" in text


def test_sharded_workflow_merges_every_shard_it_runs_even_when_one_fails():
    text = (WORKFLOWS[0].parent / "benchmarks-sharded.yml").read_text()
    assert text.count("shard: [1, 2, 3]") == 1  # the shard count is written once: the matrix's length
    assert '--mnist-shard "${{ matrix.shard }}/${{ strategy.job-total }}"' in text
    assert "SHARDS" not in text
    merge = text[text.index("  merge:") :]
    assert "if: ${{ !cancelled() }}  # one failed shard" in merge.splitlines()[2]
    assert "mnist-models merge shard-*.json" in merge


def test_main_keeps_a_history_branch_and_publishes_its_page():
    text = (WORKFLOWS[0].parent / "benchmarks.yml").read_text()
    assert "mnist-models history --storage history --out reports/history" in text
    assert 'cp reports/ab/head.json reports/ab/ab.csv "history/ab/${GITHUB_SHA}/"' in text  # the A/B ratios' series
    assert "git push origin benchmark-history" in text
    assert "contents: write" in text
