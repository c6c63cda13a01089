"""The exit-code contract of every command (docs/exit-codes.md): 0 passed, 1 only for a gate that failed on measured
evidence, 2 for anything else, with one line on stderr naming the path and what to do, never a traceback."""

from __future__ import annotations

import copy
import errno
import json
from pathlib import Path

import pytest

from mnist_models import cli
from mnist_models.cli import main
from mnist_models.data.sources import DATASETS, raw_dir
from mnist_models.parse import parse_alpha
from mnist_models.report.build import strict_json

SMOKE = Path(__file__).parent / "fixtures" / "smoke_run_schema1.json"


@pytest.fixture(scope="module")
def smoke() -> dict:
    return json.loads(SMOKE.read_text())


def _exit(argv: list[str], capsys) -> tuple[int, str]:
    """The command's exit code and its stderr, checked to be one line and no traceback."""
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse's usage errors
        code = stop.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return code, err.strip()


def _strict(text: str):
    return json.loads(text, parse_constant=lambda constant: pytest.fail(f"bare {constant} in JSON"))


def _write(path: Path, document) -> Path:
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


# --- Numeric options: validated where they are declared -------------------------------------------------------


@pytest.mark.parametrize("alpha", ["0", "7", "1", "-0.1", "nan", "inf"])
def test_ab_alpha_outside_zero_to_one_is_refused(alpha, capsys):
    code, err = _exit(["ab", "--base", "HEAD", "--alpha", alpha], capsys)  # before: 0 switched the gate off
    assert code == 2
    assert err.startswith("mnist-models ab: error: argument --alpha:")
    assert "0 < alpha < 1" in err or "not a finite number" in err


def test_an_alpha_inside_zero_to_one_is_taken():
    assert parse_alpha("0.05") == 0.05


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["ab", "--base", "HEAD", "--threshold", "0%"], "--threshold"),
        (["ab", "--base", "HEAD", "--max-pairs", "0"], "--max-pairs"),
        (["ab", "--base", "HEAD", "--restart-every", "0"], "--restart-every"),
        (["bisect", "--good", "a", "--bad", "b", "--alpha", "0"], "--alpha"),
        (["bisect", "--good", "a", "--bad", "b", "--accuracy", "-1"], "--accuracy"),
        (["history", "--fail-on-change", "0%"], "--fail-on-change"),
    ],
)
def test_thresholds_and_pair_counts_must_be_positive(argv, flag, capsys):
    code, err = _exit(argv, capsys)
    assert code == 2
    assert f"argument {flag}:" in err


@pytest.mark.parametrize(
    ("rule", "example"), [("accuracy:0pp", "accuracy:0.3pp"), ("time:median:0%", "time:median:15%")]
)
def test_a_gate_rule_at_zero_is_refused(rule, example, capsys):
    code, err = _exit(["report", str(SMOKE), "--compare", str(SMOKE), "--fail-on", rule], capsys)
    assert code == 2
    assert f"a threshold must be above 0, e.g. {example}" in err


def test_min_pairs_above_max_pairs_is_refused_before_any_work(capsys):
    code, err = _exit(["ab", "--base", "HEAD", "--min-pairs", "10", "--max-pairs", "3"], capsys)  # before: ran 3 to 3
    assert code == 2
    assert "--min-pairs 10 is above --max-pairs 3" in err


def test_an_installed_package_that_fails_to_load_is_one_line(monkeypatch, capsys):
    def broken():
        raise ValueError("entry point 'evil = evilplug' (evil 0.1) (mnist_models.groups) could not be loaded")

    monkeypatch.setattr(cli, "build_parser", broken)
    code, err = _exit(["models"], capsys)  # before: a 45-line traceback and exit 1
    assert code == 2
    assert (
        err == "mnist-models: error: entry point 'evil = evilplug' (evil 0.1) (mnist_models.groups) could not be loaded"
    )


# --- Paths: a file where a folder is expected, and the reverse ----------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["report", str(SMOKE), "--out", "{file}"],
        ["history", "--out", "{file}"],
        ["ab", "--base", "HEAD", "--out", "{file}"],
        ["bisect", "--good", "a", "--bad", "b", "--repo", "{file}"],
        ["data", "fetch", "--data-dir", "{file}"],
        ["ab", "--base", "HEAD", "--cache-dir", "{file}"],
        ["ab", "--base", "HEAD", "--data-dir", "{file}/sub"],
    ],
)
def test_a_file_where_a_folder_is_expected_is_named(argv, tmp_path, capsys):
    file = _write(tmp_path / "a-file", "x")
    code, err = _exit([a.format(file=file) for a in argv], capsys)
    assert code == 2
    assert str(file) in err
    assert "is a file, not a folder" in err


def test_merge_out_at_a_folder_is_named(tmp_path, capsys):
    code, err = _exit(["merge", str(SMOKE), str(SMOKE), "--out", str(tmp_path)], capsys)
    assert code == 2
    assert f"{tmp_path}: is a folder; give the file to write" in err


def test_a_missing_base_python_is_named(tmp_path, capsys):
    code, err = _exit(["ab", "--base", "HEAD", "--base-python", str(tmp_path / "python9")], capsys)
    assert code == 2
    assert f"{tmp_path / 'python9'}: no such Python" in err


@pytest.mark.parametrize("command", [["report", str(SMOKE), "--no-figures"], ["history"], ["ab", "--base", "HEAD"]])
def test_an_unwritable_out_is_refused_before_any_work(command, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("mnist_models.parse.os.access", lambda path, mode: Path(path) != tmp_path)  # root: a mock
    code, err = _exit([*command, "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    assert "is not writable; choose another folder" in err


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        (PermissionError(errno.EACCES, "Permission denied"), "choose a writable place"),
        (OSError(errno.ENOSPC, "No space left on device"), "the disk is full"),
    ],
)
@pytest.mark.parametrize("command", ["report", "merge", "history"])
def test_a_write_that_fails_is_one_line_naming_the_file(command, error, advice, tmp_path, monkeypatch, capsys):
    out = tmp_path / ("merged.json" if command == "merge" else "out")
    runs = [str(SMOKE)] if command != "merge" else [str(SMOKE), str(_write(tmp_path / "second.json", _shard(SMOKE)))]
    argv = {"report": ["report", *runs, "--no-figures"], "history": ["history", *runs, "--no-figures"]}
    argv["merge"] = ["merge", *runs]

    def fails(fd):
        raise error

    monkeypatch.setattr("mnist_models.files.os.fsync", fails)  # at the write itself (a full disk, a read-only one)
    code, err = _exit([*argv[command], "--out", str(out)], capsys)
    assert code == 2  # before: a traceback and exit 1, the code of a failed gate
    assert err.startswith(f"mnist-models {command}: error: {out}")
    assert advice in err
    assert not list(tmp_path.rglob(".*.tmp"))  # nothing half-written left


def _shard(path: Path) -> dict:
    """The fixture run with its benchmarks as another seed's, so that a merge of both is valid."""
    run = json.loads(path.read_text())
    for bench in run["benchmarks"]:
        bench["extra_info"]["seed"] = 1
        bench["name"] = bench["name"].replace("seed0", "seed1")
    return run


def test_data_fetch_into_a_read_only_root_is_one_line(data_root, tmp_path, monkeypatch, capsys):
    def refused(*args, **kwargs):
        raise PermissionError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("mnist_models.files.tempfile.mkstemp", refused)
    source = raw_dir(data_root[0], DATASETS["mnist"])
    code, err = _exit(["data", "fetch", "--data-dir", str(tmp_path / "ro"), "--source-dir", str(source)], capsys)
    assert code == 2
    assert err.startswith(f"mnist-models data fetch: error: {tmp_path / 'ro'}")
    assert "read-only" in err


def test_an_unexpected_error_is_exit_2_and_one_line_and_debug_shows_the_traceback(monkeypatch, capsys):
    def broken(args):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(cli, "_models", broken)
    code, err = _exit(["models"], capsys)
    assert code == 2
    assert err == (
        "mnist-models models: error: unexpected RuntimeError: boom (run again with --debug for the traceback, and "
        "report it)"
    )
    assert main(["models", "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_pytest_options_naming_a_file_as_a_folder_are_a_usage_error(pytester, tmp_path):
    file = _write(tmp_path / "a-file", "x")
    for flag in ("--mnist-data-dir", "--mnist-cache-dir"):
        result = pytester.runpytest(flag, str(file))
        assert result.ret == pytest.ExitCode.USAGE_ERROR  # pytest's own code for a usage error
        result.stderr.fnmatch_lines([f"*argument {flag}: {file}: is a file, not a folder; give a folder*"])


# --- Saved runs: non-finite numbers and deep JSON are bad input ---------------------------------------------------


def _nan_run(smoke: dict) -> dict:
    run = copy.deepcopy(smoke)
    run["benchmarks"][1]["extra_info"]["outcome"]["test"]["accuracy"] = float("nan")
    return run


@pytest.mark.parametrize("command", ["report", "merge", "history"])
@pytest.mark.parametrize("kind", ["nan", "infinity", "deep"])
def test_non_finite_numbers_and_deep_json_are_refused_naming_file_and_field(command, kind, smoke, tmp_path, capsys):
    if kind == "deep":
        bad = _write(tmp_path / "bad.json", '{"benchmarks": [' + "[" * 5000 + "]" * 5000 + "]}")
    else:
        text = json.dumps(_nan_run(smoke))
        bad = _write(tmp_path / "bad.json", text if kind == "nan" else text.replace("NaN", "1e999"))
    argv = {
        "report": ["report", str(bad), "--no-figures", "--out", str(tmp_path / "r")],
        "merge": ["merge", str(SMOKE), str(bad), "--out", str(tmp_path / "m.json")],
        "history": ["history", str(bad), "--no-figures", "--out", str(tmp_path / "h")],
    }[command]
    code, err = _exit(argv, capsys)
    assert code == 2  # before: exit 0 with "nan%" (or a RecursionError traceback)
    assert f"{bad}:" in err
    if kind == "deep":
        assert "nested too deep" in err
    else:
        assert "field benchmarks/1/extra_info/outcome/test/accuracy" in err
        assert "not a finite number" in err


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (lambda test, info: test.update(accuracy=round(test["accuracy"] + 0.1, 4)), "is not its confusion matrix's"),
        (lambda test, info: info.update(latency_p50_ms=-0.5), "latency_p50_ms: -0.5 is less than the minimum of 0"),
    ],
    ids=["a flipped digit in an accuracy", "a negative latency"],
)
def test_a_saved_number_its_own_evidence_contradicts_is_refused(edit, said, smoke, tmp_path, capsys):
    run = copy.deepcopy(smoke)
    bench = next(b for b in run["benchmarks"] if b["group"] == "latency" and b["extra_info"]["outcome"])
    edit(bench["extra_info"]["outcome"]["test"], bench["extra_info"])  # before: published, exit 0
    code, err = _exit(["report", str(_write(tmp_path / "edited.json", run)), "--out", str(tmp_path / "r")], capsys)
    assert code == 2
    assert said in err


def test_a_report_writes_strict_json_only(smoke, tmp_path, capsys):
    code = main(["report", str(SMOKE), "--no-figures", "--out", str(tmp_path / "r")])
    assert code == 0
    _strict((tmp_path / "r" / "insights.json").read_text())
    assert _strict(strict_json(b'{"a": NaN, "b": [1.5, Infinity]}').decode()) == {"a": None, "b": [1.5, None]}


# --- A storage with one unreadable run: named, the others go on, unless --strict -----------------------------------


@pytest.fixture
def storage(smoke, tmp_path) -> tuple[Path, Path]:
    """A storage of two good runs and a newest one cut mid-write (as pytest-benchmark's in-place autosave left it)."""
    folder = tmp_path / "store" / "Linux-CPython-3.11-64bit"
    folder.mkdir(parents=True)
    for k in (1, 2):
        run = copy.deepcopy(smoke)
        run["commit_info"] = {"id": f"{k:02d}" + "ab" * 19, "time": f"2026-11-0{k}T10:00:00+00:00"}
        _write(folder / f"000{k}_run.json", run)
    cut = _write(folder / "0003_cut.json", json.dumps(smoke)[:5000])
    return tmp_path / "store", cut


@pytest.mark.parametrize("command", ["history", "report"])
def test_an_unreadable_run_in_storage_is_named_and_the_others_go_on(command, storage, tmp_path, capsys):
    store, cut = storage
    argv = [command, "--storage", str(store), "--no-figures", "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert f"mnist-models {command}: skipped: {cut}: not valid JSON" in err
    assert "--strict" in err
    code, err = _exit([*argv, "--strict"], capsys)
    assert code == 2
    assert f"{cut}: not valid JSON" in err
