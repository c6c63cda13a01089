"""The one result record: what a benchmark case measured, as plain JSON for ``extra_info`` and back.

Schema 2 stores each (model, seed)'s training outcome once per run (``pack_outcomes``);
schema 1 (every record with its own copy, test labels inside the scores) is still read.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ..training.result import TrainResult

SCHEMA = "mnist-models/2"
READABLE = ("mnist-models/1", SCHEMA)


@dataclass(frozen=True)
class BenchmarkRecord:
    """Everything one case measured. ``to_json`` is what goes into ``benchmark.extra_info``."""

    case: str  # the group: a Group value (train, train-step, latency, throughput, engine, levers)
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
    peak_flops: float | None = None  # the session's measured fp32 matmul rate (FLOP/s)
    peak_fraction: float | None = None  # achieved_flops / peak_flops
    engine_loop: str | None = None  # engine group: "ours" or "notebook"
    precision: str = "fp32"  # autocast precision of the timed work
    compiled: bool = False  # torch.compile used for the timed work
    compile_time_s: float | None = None  # this case's compilation (first calls), never inside its timing
    lever: str | None = None  # levers group: which setting this case changes from the suite's defaults
    round_times_s: list[float] = field(default_factory=list)
    slowdown: float = 0.0  # --mnist-slowdown: extra real work injected into each timed call (0.25: +25%)
    world_size: int = 1  # processes that trained together (torchrun + DDP); inference cases run on one
    backend: str | None = None  # their torch.distributed backend: gloo or nccl
    images_per_s_per_process: float | None = None  # train case: images_per_s (all processes) / world_size
    schema: str = SCHEMA

    @property
    def status(self) -> str:
        return "passed" if self.floor_passed else "failed-floor"

    def floor_message(self) -> str:
        return (
            f"{self.model}: test accuracy {self.outcome.test.accuracy:.2%} is below its floor "
            f"{self.floor:.2%} in profile {self.profile!r} (dataset {self.dataset}, seed {self.seed})"
        )

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update(outcome=self.outcome.to_json(), status=self.status)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], outcome: TrainResult | None = None) -> BenchmarkRecord:
        """Rebuild a record from ``extra_info`` (this schema or schema 1); ``ValueError`` if it is not ours.

        ``outcome``: the record's outcome already read, or for a record whose outcome is stored
        with another benchmark of its (model, seed) (see ``pack_outcomes``).
        """
        if not isinstance(data, dict) or data.get("schema") not in READABLE:
            raise ValueError(f"extra_info has no {SCHEMA!r} record")
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if data.get("outcome") is not None:
            outcome = outcome or TrainResult.from_json(data["outcome"])
        if outcome is None:
            raise ValueError(f"{data.get('model')} seed {data.get('seed')}: no training outcome in the run")
        values.update(outcome=outcome, schema=SCHEMA)
        return cls(**values)


def outcome_key(info: dict[str, Any]) -> tuple[Any, Any]:
    return info.get("model"), info.get("seed")


def pack_outcomes(benchmarks: list[dict[str, Any]]) -> None:
    """Store each training outcome once: a record whose outcome equals the one stored last for its
    (model, seed) gets ``None`` instead (``records_of`` puts it back).

    Every group of a (model, seed) shares the weights and so the outcome (history, test
    predictions): stored once, a run is a fraction of the size. An outcome that differs (weights
    from another session's cache) is kept whole, so nothing is lost. Applied to the JSON that
    pytest-benchmark is about to save (its ``benchmarks`` list); the live ``extra_info`` is left whole.
    """
    stored: dict = {}
    for bench in benchmarks:
        info = bench.get("extra_info") or {}
        if info.get("schema") != SCHEMA or info.get("outcome") is None:
            continue
        key = outcome_key(info)
        if stored.get(key) == info["outcome"]:
            bench["extra_info"] = {**info, "outcome": None}
        else:
            stored[key] = info["outcome"]


def records_of(benchmarks: list[dict[str, Any]]) -> list[BenchmarkRecord | None]:
    """The record of each benchmark (``None`` where it carries none of ours), outcomes put back:
    a record without one has the outcome stored last, before it, for its (model, seed)."""
    stored: dict = {}
    records: list[BenchmarkRecord | None] = []
    for bench in benchmarks:
        info = bench.get("extra_info") if isinstance(bench, dict) else None
        try:
            key = outcome_key(info) if isinstance(info, dict) else None
            if isinstance(info, dict) and isinstance(info.get("outcome"), dict):
                stored[key] = TrainResult.from_json(info["outcome"])
            records.append(BenchmarkRecord.from_json(info, stored.get(key)))
        except (ValueError, TypeError, KeyError, AttributeError):
            records.append(None)
    return records
