"""Another tree of ours in a subprocess (an A/B side, a bisect probe, a run measured again) reads its own entry
points, not the installed ones: an older tree is never told to load built-in modules it does not have."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mnist_models.installed import tree_environment

OLD_PYPROJECT = """[project]
name = "mnist-models"

[project.entry-points.pytest11]
mnist_models = "mnist_models.bench.plugin"

[project.entry-points."mnist_models.groups"]  # a comment
mine = "mnist_models.old_groups"
"""


def test_a_tree_reads_its_own_entry_points_and_others_are_shadowed(tmp_path):
    (tmp_path / "pyproject.toml").write_text(OLD_PYPROJECT)
    probe = (
        "from importlib import metadata; "
        "print(sorted(e.value for e in metadata.entry_points(group='mnist_models.groups')));"
        "print(sorted(e.value for e in metadata.entry_points(group='mnist_models.sections')))"
    )
    env = tree_environment(tmp_path)
    assert env["PYTHONPATH"].split(":")[1] == str(tmp_path.resolve())
    out = subprocess.run([sys.executable, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    assert out.splitlines() == ["['mnist_models.old_groups']", "[]"]  # not this install's built-in groups
    here = subprocess.run([sys.executable, "-c", probe], env=tree_environment(Path(__file__).parents[1]),
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "mnist_models.groups.train" in here.splitlines()[0]
