"""The plugin in other people's projects: inert where unused, their own architectures where used."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.slow

PROBE = """
import sys

def pytest_unconfigure(config):  # after the run was saved: what the whole session imported
    with open("modules.txt", "w") as fh:
        fh.write(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in ("mnist_models", "numpy", "torch", "pandas"))))
"""
# What a project that never uses the suite pays for having it installed: the plugin, its one option table, the
# converters and the vocabularies the table's help names (profiles, datasets and the files module their
# source list needs, precisions), and the package faces above them. No numpy, no torch, no pandas, no registry.
STARTUP_MODULES = {
    "mnist_models", "mnist_models.version", "mnist_models.bench", "mnist_models.bench.plugin",
    "mnist_models.bench.options", "mnist_models.bench.settings", "mnist_models.bench.profiles", "mnist_models.parse",
    "mnist_models.data", "mnist_models.data.sources", "mnist_models.files", "mnist_models.results",
    "mnist_models.results.protocol", "mnist_models.bench.saving", "mnist_models.bench.foreign",
}  # fmt: skip


def test_unrelated_project_sees_nothing_of_ours(pytester):
    """mnist-models installed, a project that never uses it: no torch, no output, no report."""
    pytester.makeconftest(PROBE)
    pytester.makepyfile(
        test_foo="""
        def test_plain():
            assert 1 + 1 == 2

        def test_timed(benchmark):
            benchmark(sum, range(100))
        """
    )
    result = pytester.runpytest_subprocess("--benchmark-autosave", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert "--mnist-profile" in pytester.runpytest_subprocess("--help").stdout.str()  # the plugin was loaded
    loaded = set((pytester.path / "modules.txt").read_text().split())
    assert loaded <= STARTUP_MODULES, sorted(loaded - STARTUP_MODULES)
    # pytest's own header lists installed plugins; nothing else may mention us
    output = [line for line in result.outlines + result.errlines if not line.startswith("plugins:")]
    assert not [line for line in output if "mnist" in line.lower()], output
    [saved] = (pytester.path / ".benchmarks").rglob("*.json")
    assert "mnist_models" not in json.loads(saved.read_text())["machine_info"]
    assert not (pytester.path / "reports").exists()


def _block(heading: str, language: str, index: int = 0) -> str:
    text = README.read_text()
    section = text[text.index(heading) :]
    section = section[: section.find("\n## ", 1)]
    return re.findall(rf"```{language}\n(.*?)```", section, re.S)[index]


def _clone(where: Path) -> None:
    """This checkout's files (committed and new, not ignored ones) at ``where``: what a clone of it holds."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=README.parent, check=True,
                            capture_output=True, text=True).stdout.split()  # fmt: skip
    for name in listed:
        source = README.parent / name
        if source.is_file():
            (where / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, where / name)


def test_readme_custom_architecture_route_from_a_separate_folder(tmp_path, data_root):
    """The README's own files and commands, verbatim, in a folder of the user's beside a clone: a fresh venv,
    mnist-models built into a wheel from the clone and installed with its dependencies, the suite run."""
    _clone(tmp_path / "mnist-models")
    project = tmp_path / "my-project"
    project.mkdir()
    for code in (_block("## Add your own architecture", "python", i) for i in range(2)):
        name = re.match(r"# (\S+\.py)", code).group(1)  # each block starts with its file name
        (project / name).write_text(code)
    command = _block("## Add your own architecture", "bash").strip()
    env = {
        "PATH": f"{Path(sys._base_executable).resolve().parent}:/usr/bin:/bin",  # the Python that made this venv
        "HOME": str(tmp_path / "home"),
        "MNIST_MODELS_DATA": str(data_root[0]),
        "MNIST_MODELS_CACHE": str(tmp_path / "weights"),
    }
    proc = subprocess.run(
        command, shell=True, cwd=project, env=env, capture_output=True, text=True, timeout=1500, check=False
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    installed = subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-c", "import mnist_models; print(mnist_models.__file__)"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout  # run from the project: `-c` puts the working directory first on sys.path
    assert str(project / ".venv") in installed  # the wheel's copy in the fresh venv, not this checkout
    [saved] = (project / ".benchmarks").rglob("*.json")
    benches = json.loads(saved.read_text())["benchmarks"]
    assert {b["extra_info"]["model"] for b in benches} == {"tiny_cnn"}
    # trained once, by its train case, whatever order the star import bound the cases in
    assert {b["extra_info"]["cache"] for b in benches if b["group"] != "train"} == {"memory"}
    summary = (project / "reports" / saved.stem / "summary.md").read_text()
    assert "tiny_cnn" in summary


ENTRY_POINT_PACKAGE = {
    "tinypkg/__init__.py": "",
    "tinypkg/models.py": """
        from torch import nn
        from mnist_models import register_model

        @register_model("mlp", "A packaged MLP: 784-16-10", profiles={"smoke": {"floor": 0.0}})
        def packaged_mlp():
            return nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10))
        """,
    "tinypkg-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: tinypkg\nVersion: 1.0\n",
    "tinypkg-1.0.dist-info/entry_points.txt": "[mnist_models.architectures]\ntiny = tinypkg.models\n",
}


def _install_entry_point_package(where: Path, files: dict[str, str]) -> None:
    import textwrap

    for name, text in files.items():
        path = where / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def test_installed_package_contributes_architectures_through_the_entry_point(pytester, data_root, tmp_path):
    _install_entry_point_package(tmp_path / "site", ENTRY_POINT_PACKAGE)
    pytester.makepyfile(test_bench="from mnist_models.bench.cases import *  # noqa: F403\n")
    pytester.makeconftest(PROBE)
    env_path = str(tmp_path / "site")
    pytester._monkeypatch.setenv("PYTHONPATH", env_path)
    listed = subprocess.run(
        [sys.executable, "-m", "mnist_models", "models", "packaged*"],
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert "packaged_mlp" in listed.stdout
    result = pytester.runpytest_subprocess(
        "--benchmark-only",
        "--mnist-profile=smoke",
        "--mnist-models=packaged_mlp",
        "-k",
        "test_train and not step",
        f"--mnist-data-dir={data_root[0]}",
        f"--mnist-cache-dir={tmp_path / 'w'}",
        "-p",
        "no:cacheprovider",
        "--benchmark-json=out.json",
    )
    result.assert_outcomes(passed=1)
    [bench] = json.loads((pytester.path / "out.json").read_text())["benchmarks"]
    assert bench["extra_info"]["model"] == "packaged_mlp"


def test_entry_point_clashing_with_a_built_in_names_both(pytester, tmp_path):
    files = dict(ENTRY_POINT_PACKAGE)
    files["tinypkg/models.py"] = files["tinypkg/models.py"].replace("def packaged_mlp", "def mlp_64")
    _install_entry_point_package(tmp_path / "site", files)
    pytester._monkeypatch.setenv("PYTHONPATH", str(tmp_path / "site"))
    pytester.makepyfile(test_bench="from mnist_models.bench.cases import *  # noqa: F403\n")
    result = pytester.runpytest_subprocess("--benchmark-only", "--mnist-models=mlp_64", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*model 'mlp_64' from entry point 'tiny = tinypkg.models' (tinypkg 1.0)*clashes with*mnist_models built-ins*"]
    )


def test_readme_try_it_command_runs_verbatim(tmp_path, data_root):
    """The README's one-minute try-out, verbatim, in a clone whose `.venv` is this test's environment: it runs the
    smoke profile on three models, prints the answer and writes the report."""
    import os

    clone = tmp_path / "mnist-models"
    _clone(clone)
    (clone / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    command = _block("### Try it in about a minute", "bash").strip()
    assert command.startswith(".venv/bin/python -m pytest benchmarks")
    env = {**os.environ, "HOME": str(tmp_path / "home"), "MNIST_MODELS_DATA": str(data_root[0]),
           "MNIST_MODELS_CACHE": str(tmp_path / "weights")}  # fmt: skip
    proc = subprocess.run(command, shell=True, cwd=clone, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "answer, under the smoke profile" in proc.stdout
    assert len(list((clone / "reports").glob("0001_*/index.html"))) == 1
