"""The example CI workflows are valid GitHub Actions workflows (the schema is bundled: no network)."""

from __future__ import annotations

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


def test_sharded_workflow_merges_every_shard_it_runs():
    text = (WORKFLOWS[0].parent / "benchmarks-sharded.yml").read_text()
    assert "shard: [1, 2, 3]" in text
    assert "SHARDS: 3" in text
    assert "mnist-models merge shard-*.json" in text
