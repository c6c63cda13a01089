"""The one result record: what a benchmark measured, as plain JSON for ``extra_info`` and back, checked.

Schema 3 (``SCHEMA``) is described by ``record.schema.json`` beside this module; reading a
record validates it, so a bad record is an error that names the file, the benchmark and the
field. Schemas 1 and 2 are still read: ``upgrade`` turns their records into schema 3 first.
Each (model, seed)'s training outcome is stored once per run (``pack_outcomes``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

from .groups import GROUPS, variant_fields
from .outcome import TrainResult

SCHEMA = "mnist-models/3"
READABLE = ("mnist-models/1", "mnist-models/2", SCHEMA)
# A runtime passes when its top-1 class agrees with eager PyTorch's on at least this share of the test
# images (10 of 10,000 may differ: float reassociation flips near-ties, a wrong conversion flips many),
# unless its spec sets a floor of its own (``agreement_floor``: a quantized runtime's is lower).
AGREEMENT_TOLERANCE = 0.999


class RunError(Exception):
    """A saved run (or a record in it) that cannot be used: the message says what and what to do (exit code 2)."""


@dataclass(frozen=True)
class BenchmarkRecord:
    """Everything one benchmark measured. ``to_json`` is what goes into ``benchmark.extra_info``."""

    group: str  # the benchmark group (see ``results.groups``)
    model: str  # display name, e.g. mlp_64 or mlp(depth=4,width=256)
    family: str
    description: str
    params: int
    flops_inference: int  # per image
    flops_train_step: int  # per image
    profile: str
    dataset: str
    classes: list[str]
    seed: int
    device: str
    threads: int
    outcome: TrainResult  # how the weights were trained and what they scored on the test set
    floor: float | None
    floor_passed: bool
    cache: str  # how the weights were obtained in this session: trained, memory, disk
    batch_size: int | None = None
    images_per_s: float | None = None
    steps_per_round: int | None = None
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    achieved_flops: float | None = None  # FLOPs per image x images/s
    peak_flops: float | None = None  # the run's fp32 matmul peak in use (FLOP/s), set when the run is saved
    peak_fraction: float | None = None  # achieved_flops / peak_flops
    engine_loop: str | None = None  # engine group: "ours" or "notebook"
    precision: str = "fp32"  # autocast precision of the timed work
    compiled: bool = False  # torch.compile used for the timed work
    compile_time_s: float | None = None  # this benchmark's compilation (first calls), never inside its timing
    lever: str | None = None  # levers group: which setting this benchmark changes from the suite's defaults
    lever_baseline: str | None = None  # ...and the unchanged benchmark its rate is divided by
    runtime: str | None = None  # inference groups: what ran the model (eager, compile, onnxruntime...)
    agreement: float | None = None  # top-1 agreement with eager PyTorch on the whole test set
    disagreements: int | None = None  # test images whose top-1 class differs from eager's
    max_logit_diff: float | None = None  # largest |logit - eager logit| over the test set
    runtime_accuracy: float | None = None  # test accuracy of the runtime's own predictions
    fp32_only_correct: int | None = None  # test images eager fp32 classifies right and the runtime wrong
    runtime_only_correct: int | None = None  # ...and the runtime right, eager fp32 wrong (McNemar's counts)
    agreement_floor: float | None = None  # the runtime's own floor for agreement (None: AGREEMENT_TOLERANCE)
    runtime_baseline: str | None = None  # the runtime whose fp32 graph this one transformed (int8: onnxruntime)
    quantization: str | None = None  # how the runtime quantized the weights ("int8 dynamic"...); None: as trained
    conversion_time_s: float | None = None  # export/compile from a cold cache, before any clock
    conversion_warm_time_s: float | None = None  # the same again with warm caches
    artifact_bytes: int | None = None  # size of what the runtime runs (ONNX file, compiled code)
    peak_rss_bytes: int | None = None  # the process's peak resident memory so far (monotonic in a session)
    round_times_s: list[float] = field(default_factory=list)
    slowdown: float = 0.0  # --mnist-slowdown: extra real work injected into each timed call (0.25: +25%)
    world_size: int = 1  # processes that trained together (torchrun + DDP); inference cases run on one
    backend: str | None = None  # their torch.distributed backend: gloo or nccl
    images_per_s_per_process: float | None = None  # train case: images_per_s (all processes) / world_size
    seed_reason: str | None = None  # --mnist-seeds auto: why this seed was trained (train group)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # non-default settings and their source
    metrics: dict[str, float | None] = field(default_factory=dict)  # a group's own figures beyond these fields
    schema: str = SCHEMA

    @property
    def status(self) -> str:
        if not self.floor_passed:
            return "failed-floor"
        return "failed-agreement" if self.agreement_failed else "passed"

    @property
    def agreement_needed(self) -> float:
        """The top-1 agreement with eager this record's runtime must reach: its own floor, else the tolerance."""
        return AGREEMENT_TOLERANCE if self.agreement_floor is None else self.agreement_floor

    @property
    def agreement_failed(self) -> bool:
        return self.agreement is not None and self.agreement < self.agreement_needed

    @property
    def variant(self) -> str:
        """The group's own parameter for this benchmark (a loop, a lever, a runtime), or ``""``: the field its
        group's spec names (a group this installation does not know: any group's variant field that is set)."""
        spec = GROUPS.get(self.group) if self.group in GROUPS else None
        names = (spec.variants.field,) if spec is not None and spec.variants else () if spec else variant_fields()
        return next((getattr(self, f) for f in names if getattr(self, f)), "")

    def value(self, name: str) -> Any:
        """A record field, or one of the group's own ``metrics``."""
        return getattr(self, name) if name in _FIELD_NAMES else self.metrics.get(name)

    def floor_message(self) -> str:
        return (
            f"{self.model}: test accuracy {self.outcome.test.accuracy:.2%} is below its floor "
            f"{self.floor:.2%} in profile {self.profile!r} (dataset {self.dataset}, seed {self.seed})"
        )

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (lists, not tuples): what a saved run holds, the same in memory as read back."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update(outcome=self.outcome.to_json(), status=self.status)
        return _plain(data)

    @classmethod
    def from_json(cls, data: dict[str, Any], outcome: TrainResult | None = None) -> BenchmarkRecord:
        """Rebuild a schema-3 record (``upgrade`` older ones first); ``outcome``: the one stored with another
        benchmark of its (model, seed) when this record's is ``None`` (see ``pack_outcomes``)."""
        values = {k: v for k, v in data.items() if k in _FIELD_NAMES}
        if data.get("outcome") is not None:
            outcome = TrainResult.from_json(data["outcome"])
        if outcome is None:
            raise KeyError("outcome")
        values.update(outcome=outcome, schema=SCHEMA)
        return cls(**values)


_FIELD_NAMES = frozenset(f.name for f in fields(BenchmarkRecord))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def case_id(model: str, seed: int) -> str:
    """How a (model, seed) case is named everywhere: in test ids, A/B, shards and reports."""
    return f"{model}-seed{seed}"


def benchmark_key(record: BenchmarkRecord) -> tuple[str, str, int, str]:
    """What makes a benchmark the same benchmark in two runs: (model, group, seed, variant)."""
    return record.model, record.group, record.seed, record.variant


def is_ours(info: Any) -> bool:
    """Whether ``extra_info`` claims to be an mnist-models record (of any schema)."""
    return isinstance(info, dict) and str(info.get("schema", "")).startswith("mnist-models/")


def upgrade(info: dict[str, Any]) -> dict[str, Any]:
    """A schema-1 or -2 record as a schema-3 one (a copy; a schema-3 record is returned as it is).

    Schema 3 renamed ``case`` (the group) to ``group``, names each lever's baseline (before, the
    suite's code knew it) and dropped the ratios that schema 1 kept in each record
    (``engine_speedup``, ``lever_ratio``): the report computes them.
    """
    if info.get("schema") == SCHEMA:
        return info
    out = {k: v for k, v in info.items() if k not in ("case", "engine_speedup", "lever_ratio")}
    out["group"] = info.get("case")
    if out.get("lever") and not out.get("lever_baseline"):  # a lever varied train-step work (steps) or throughput
        out["lever_baseline"] = "default-train-step" if out.get("steps_per_round") else "default-throughput"
    out["schema"] = SCHEMA
    return out


@cache
def _validator():
    from jsonschema import Draft202012Validator

    schema = json.loads((Path(__file__).with_name("record.schema.json")).read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def validate(info: dict[str, Any], where: str) -> None:
    """Check one schema-3 record against ``record.schema.json``; a ``RunError`` names ``where`` and the field."""
    errors = sorted(_validator().iter_errors(info), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        path = "/".join(str(p) for p in error.absolute_path) or "(the record)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise RunError(f"{where}: field {path}: {_short(error.message)}{more}")


def consistent(evaluation: dict[str, Any] | None, where: str) -> None:
    """Refuse an evaluation whose published accuracy its own evidence contradicts: the confusion matrix (its trace
    over its total), the predictions against the labels, the interval around the accuracy. A flipped digit in a
    saved run's accuracy, or a hand-edited one, is named here instead of published."""
    if not evaluation:
        return
    accuracy, total, confusion = evaluation["accuracy"], evaluation["total"], evaluation["confusion"]
    counted = sum(map(sum, confusion))
    right = sum(row[i] for i, row in enumerate(confusion) if i < len(row))
    problems = []
    if counted != total:
        problems.append(f"its confusion matrix counts {counted} images, not its total {total}")
    elif abs(accuracy - right / total) > 1e-9:
        problems.append(f"accuracy {accuracy!r} is not its confusion matrix's {right}/{total}")
    predictions, labels = evaluation.get("predictions"), evaluation.get("labels")
    if labels and predictions and len(labels) == len(predictions) == total:
        matched = sum(a == b for a, b in zip(predictions, labels, strict=True))
        if abs(accuracy - matched / total) > 1e-9:
            problems.append(f"accuracy {accuracy!r} is not its predictions' {matched}/{total} right")
    if not evaluation["ci_low"] <= accuracy <= evaluation["ci_high"]:
        problems.append(
            f"accuracy {accuracy!r} lies outside its interval [{evaluation['ci_low']}, {evaluation['ci_high']}]"
        )
    if problems:
        raise RunError(
            f"{where}: {problems[0]}; the file was damaged or edited: re-run the benchmarks or pick another run"
        )


def _short(message: str, limit: int = 160) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


def _outcome_key(info: dict[str, Any]) -> tuple[Any, Any]:
    return info.get("model"), info.get("seed")


def pack_outcomes(benchmarks: list[dict[str, Any]]) -> None:
    """Store each training outcome once: a record whose outcome equals the one stored last for its
    (model, seed) gets ``None`` instead (``records_of`` puts it back).

    Every group of a (model, seed) shares the weights and so the outcome (history, test
    predictions): stored once, a run is a fraction of the size. An outcome that differs (weights
    from another session's cache) is kept whole, so nothing is lost. Applied to the JSON about to
    be saved (its ``benchmarks`` list); the live ``extra_info`` is left whole.
    """
    stored: dict = {}
    for bench in benchmarks:
        info = bench.get("extra_info") or {}
        if info.get("schema") != SCHEMA or info.get("outcome") is None:
            continue
        key = _outcome_key(info)
        if stored.get(key) == info["outcome"]:
            bench["extra_info"] = {**info, "outcome": None}
        else:
            stored[key] = info["outcome"]


def records_of(benchmarks: list[Any], where: str = "the run") -> list[BenchmarkRecord | None]:
    """The record of each benchmark, outcomes put back; ``None`` for a benchmark that is not ours.

    A record of ours that is unreadable (an unknown schema, a field of the wrong type, no outcome
    for its model and seed) raises ``RunError`` naming ``where``, the benchmark and the field.
    """
    stored: dict = {}
    records: list[BenchmarkRecord | None] = []
    for index, bench in enumerate(benchmarks):
        info = bench.get("extra_info") if isinstance(bench, dict) else None
        if not is_ours(info):
            records.append(None)
            continue
        name = f"{where}: benchmark {bench.get('name') or f'#{index + 1}'}"
        if info["schema"] not in READABLE:
            raise RunError(
                f"{name}: record schema {info['schema']!r} is not one this version of mnist-models reads "
                f"({', '.join(READABLE)}); upgrade mnist-models to read it"
            )
        info = upgrade(info)
        validate(info, name)
        for part in ("test", "last_epoch_test"):  # what a record publishes must agree with the evidence beside it
            consistent((info.get("outcome") or {}).get(part), f"{name}: field outcome/{part}")
        key = _outcome_key(info)
        try:
            if info.get("outcome") is not None:
                stored[key] = TrainResult.from_json(info["outcome"])
            records.append(BenchmarkRecord.from_json(info, stored.get(key)))
        except KeyError as exc:
            if exc.args == ("outcome",):
                raise RunError(
                    f"{name}: field outcome: none stored for {info['model']} seed {info['seed']} earlier in the run "
                    "(each (model, seed)'s outcome is stored once, with its first benchmark; was the file cut?)"
                ) from None
            raise RunError(f"{name}: field {exc.args[0]}: missing") from None
        except (TypeError, ValueError) as exc:
            raise RunError(f"{name}: {type(exc).__name__}: {_short(str(exc))}") from None
    return records
