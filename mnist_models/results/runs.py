"""Reading saved pytest-benchmark runs and the mnist-models records inside them, and finding them in storage."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_benchmark.storage.file import FileStorage

from .record import BenchmarkRecord, RunError, pack_outcomes, records_of

DEFAULT_STORAGE = ".benchmarks"
# A saved run nests about 8 levels deep (a merge of merges a few more); far deeper is no run, and the readers
# (the schema check, copies) recurse: refused as bad input instead of a RecursionError.
MAX_DEPTH = 64


@dataclass(frozen=True)
class Bench:
    """One saved benchmark: its pytest-benchmark name, group and stats, plus our record."""

    name: str
    group: str
    stats: dict[str, Any]
    record: BenchmarkRecord


@dataclass(frozen=True)
class Run:
    """One saved run (one JSON file)."""

    name: str
    path: Path | None
    datetime: str
    machine: dict[str, Any]
    benches: tuple[Bench, ...]
    skipped: int = 0  # benchmarks in the file without an mnist-models record
    commit: dict[str, Any] = field(default_factory=dict)  # pytest-benchmark's commit_info

    @property
    def dataset(self) -> str:
        return self.benches[0].record.dataset

    @property
    def interrupted(self) -> dict[str, Any] | None:
        """How an interrupted session ended and what it left out (``bench.saving``); ``None`` for a whole run."""
        info = (self.machine.get("mnist_models") or {}).get("interrupted")
        return info if isinstance(info, dict) else {"how": str(info)} if info else None

    @property
    def profile(self) -> str:
        return self.benches[0].record.profile

    @property
    def device(self) -> str:
        return self.benches[0].record.device


def parse_run(data: Any, name: str, path: Path | None = None) -> Run:
    """Turn a pytest-benchmark JSON document into a :class:`Run`; raise :class:`RunError` if unusable.

    Benchmarks that carry no mnist-models record (a project's own, beside the suite's) are
    counted in ``skipped``; a record of ours that does not read is an error naming its field.
    """
    where = str(path) if path else name
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise RunError(f"{where}: not a pytest-benchmark JSON file (no 'benchmarks' list)")
    benches, skipped = [], 0
    for bench, record in zip(data["benchmarks"], records_of(data["benchmarks"], where), strict=True):
        if record is None:
            skipped += 1
            continue
        benches.append(
            Bench(bench.get("name", "?"), bench.get("group") or record.group, bench.get("stats", {}), record)
        )
    if not benches:
        raise RunError(
            f"{where}: none of its {len(data['benchmarks'])} benchmarks carries an mnist-models record in extra_info; "
            "was it saved by the mnist-models suite (pytest benchmarks --benchmark-autosave)?"
        )
    datasets = {b.record.dataset for b in benches}
    if len(datasets) > 1:
        raise RunError(f"{where}: mixes datasets {sorted(datasets)}; report them separately")
    machine, commit = data.get("machine_info") or {}, data.get("commit_info") or {}
    return Run(name, path, data.get("datetime", ""), machine, tuple(benches), skipped, commit)


def load_run(path: str | Path, include_interrupted: bool = False) -> Run:
    """Read one saved JSON file; a run marked interrupted is refused unless ``include_interrupted``."""
    path = Path(path)
    if not path.is_file():
        raise RunError(f"{path}: no such file")
    run = parse_run(read_json(path), path.stem, path)
    if run.interrupted and not include_interrupted:
        left = run.interrupted.get("left_out") or []
        unfinished = f", {len(left)} unfinished left out" if left else ""
        raise RunError(
            f"{path}: the session that saved it was interrupted ({len(run.benches)} benchmarks saved{unfinished}); "
            "its numbers are partial: run the suite again (report and history take it with --include-interrupted)"
        )
    return run


class _NonFinite(str):
    """A ``NaN`` or infinity met while parsing: kept as its text, refused with its field once parsed."""


def _finite_float(text: str) -> float | _NonFinite:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)  # 1e999 reads as infinity


def read_json(path: Path) -> Any:
    """A saved run's JSON as strict JSON: no NaN or infinity, nesting at most ``MAX_DEPTH``; anything else is a
    :class:`RunError` naming ``path`` (and the field)."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text, parse_constant=_NonFinite, parse_float=_finite_float)
    except OSError as exc:
        raise RunError(f"{path}: cannot be read ({exc.strerror or exc}); check its permissions") from None
    except UnicodeDecodeError:
        raise RunError(f"{path}: not a text file; expected pytest-benchmark JSON") from None
    except json.JSONDecodeError as exc:
        raise RunError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
            "the file may be truncated: re-run the benchmarks or pick another run"
        ) from None
    except RecursionError:
        raise RunError(f"{path}: JSON nested too deep to read (beyond {MAX_DEPTH} levels); not a saved run") from None
    _check_tree(data, path)
    return data


def _check_tree(data: Any, path: Path) -> None:
    """Refuse a non-finite number or nesting beyond ``MAX_DEPTH``, naming the first such field (iteratively: a
    deep document must not exhaust the stack here either)."""
    stack: list[tuple[Any, tuple]] = [(data, ())]
    while stack:
        value, where = stack.pop()
        field_name = "/".join(map(str, where)) or "(the document)"
        if len(where) > MAX_DEPTH:
            raise RunError(
                f"{path}: field {field_name[:120]}...: nested deeper than {MAX_DEPTH} levels; not a saved run"
            )
        if isinstance(value, _NonFinite):
            raise RunError(
                f"{path}: field {field_name}: {value} is not a finite number; a saved run holds finite numbers only: "
                "re-run the benchmarks or pick another run"
            )
        if isinstance(value, dict):
            stack.extend((v, (*where, k)) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((v, (*where, i)) for i, v in reversed(list(enumerate(value))))


def find_runs(ids: list[str], storage: str | Path = DEFAULT_STORAGE) -> list[Path]:
    """Resolve run ids the way ``pytest-benchmark compare`` does: a JSON path, a run number, a name or a glob.

    With no ids, the newest saved run. Every id must match at least one file.
    """
    storage_path = storage_dir(storage)
    if not ids:
        found = saved_runs(storage_path)
        if not found:
            raise RunError(f"no saved runs in {storage_path}; run the suite with --benchmark-autosave first")
        return [found[-1]]
    paths: list[Path] = []
    for run_id in ids:
        if Path(run_id).is_file():
            matches = [Path(run_id)]
        elif run_id.endswith(".json") and not any(c in run_id for c in "*?["):
            raise RunError(f"{run_id}: no such file")
        else:
            matches = _query(FileStorage, storage_path, [run_id]) if storage_path.is_dir() else []
        if not matches:
            raise RunError(
                f"no saved run matches {run_id!r} in {storage_path} (give a run number, name, glob or JSON path)"
            )
        paths.extend(m for m in matches if m not in paths)
    return paths


def storage_dir(storage: str | Path) -> Path:
    """pytest-benchmark's ``--benchmark-storage`` value as a folder (``file://`` URLs included)."""
    return Path(str(storage).removeprefix("file://")).expanduser()


def saved_runs(storage: str | Path = DEFAULT_STORAGE) -> list[Path]:
    """Every numbered run pytest-benchmark saved in ``storage`` (any machine's folder), oldest first."""
    return sorted(_query(FileStorage, storage_dir(storage), ["[0-9][0-9][0-9][0-9]_"]), key=lambda p: p.name)


def _query(storage_class, path: Path, globs: list[str]) -> list[Path]:
    if not path.is_dir():
        return []
    try:
        return list(storage_class(path, logger=None).query(*globs))
    except ValueError as exc:
        raise RunError(str(exc)) from None


def load_found(
    paths: list[Path],
    skip: Callable[[str], None] | None = None,
    named: tuple[str, ...] = (),
    include_interrupted: bool = False,
) -> list[Run]:
    """Each run of ``paths``; one found in storage that does not read (or was interrupted, unless
    ``include_interrupted``) is named to ``skip`` and left out (unless ``skip`` is ``None``: ``--strict``). A file
    given by its path (in ``named``) must read, as must one run at least.
    """
    given = {Path(n).expanduser().resolve() for n in named if Path(n).is_file()}
    runs = []
    for path in paths:
        try:
            runs.append(load_run(path, include_interrupted))
        except RunError as exc:
            if skip is None or Path(path).resolve() in given:
                raise
            skip(str(exc))
    if not runs:
        raise RunError(f"none of the {len(paths)} run(s) found reads; see above, or give a run that does")
    return runs


def load_runs(
    ids: list[str],
    storage: str | Path = DEFAULT_STORAGE,
    skip: Callable[[str], None] | None = None,
    include_interrupted: bool = False,
) -> list[Run]:
    """The runs ``ids`` name (the newest saved run without any): see ``load_found`` for runs that do not read."""
    saved = saved_runs(storage) if not ids and skip is not None else []
    for path in reversed(saved):  # the newest run that reads, each newer one that does not named
        try:
            return [load_run(path, include_interrupted)]
        except RunError as exc:
            skip(str(exc))
    if saved:
        raise RunError(f"none of the {len(saved)} saved run(s) in {storage_dir(storage)} reads; see above")
    runs = load_found(find_runs(ids, storage), skip, tuple(ids), include_interrupted)
    datasets = {r.dataset for r in runs}
    if len(datasets) > 1:
        raise RunError(
            "these runs are on different datasets ("
            + ", ".join(f"{r.name}: {r.dataset}" for r in runs)
            + "); a report compares runs on one dataset"
        )
    return runs


def upgrade_document(data: dict[str, Any], where: str) -> int:
    """Rewrite a run's records in place in the current schema, each outcome stored once; return how many.

    Every record is read (and validated) and written back through ``BenchmarkRecord``, so the
    numbers stay the same; pytest-benchmark's own fields (stats, machine and commit info) are untouched.
    """
    benchmarks = data.get("benchmarks", [])
    records = records_of(benchmarks, where)
    for bench, record in zip(benchmarks, records, strict=True):
        if record is not None:
            bench["extra_info"] = record.to_json()
    pack_outcomes(benchmarks)
    return sum(r is not None for r in records)
