"""The one result record: what a benchmark case measured, as plain JSON for ``extra_info`` and back."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

SCHEMA = "mnist-models/1"


def encode_predictions(predictions: np.ndarray) -> str:
    """Predicted classes (0-9) as one digit per test image: compact and diff-friendly."""
    return "".join(map(str, np.asarray(predictions, dtype=np.int64).tolist()))


def decode_predictions(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("ascii"), dtype=np.uint8) - ord("0")


@dataclass(frozen=True)
class TestScores:
    """Test-set evaluation of the trained weights."""

    __test__ = False  # not a pytest test class

    accuracy: float
    ci_low: float
    ci_high: float
    loss: float
    total: int
    per_class_accuracy: list[float]
    precision: list[float]
    recall: list[float]
    f1: list[float]
    confusion: list[list[int]]
    predictions: str  # see encode_predictions
    labels: str  # the true test labels, same encoding: paired tests (McNemar) need both

    @classmethod
    def from_evaluation(cls, evaluation, labels: np.ndarray) -> TestScores:
        return cls(
            accuracy=evaluation.accuracy,
            ci_low=evaluation.ci_low,
            ci_high=evaluation.ci_high,
            loss=evaluation.loss,
            total=evaluation.total,
            per_class_accuracy=list(evaluation.per_class_accuracy),
            precision=list(evaluation.precision),
            recall=list(evaluation.recall),
            f1=list(evaluation.f1),
            confusion=[list(row) for row in evaluation.confusion],
            predictions=encode_predictions(evaluation.predictions),
            labels=encode_predictions(labels),
        )


@dataclass(frozen=True)
class TrainingOutcome:
    """How the weights were obtained: stored with them in the cache and copied into every record."""

    epochs_run: int
    best_epoch: int
    stop_reason: str
    train_time_s: float  # training loops only, device synchronised
    history: list[dict[str, float]]
    time_to_accuracy: dict[str, float | None]
    config: dict[str, Any]
    test: TestScores
    compile_time_s: float | None = None  # --mnist-compile: the warm-up that compiled, outside the training clock
    # with the best epoch's weights restored: the test scores of the last epoch's weights, which the
    # original notebook reported (its restore was a shallow copy); None when the two are the same weights
    last_epoch_test: TestScores | None = None

    @property
    def last_epoch_scores(self) -> TestScores:
        """The last epoch's test scores (the restored weights' own when the best epoch was the last)."""
        return self.last_epoch_test or self.test

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainingOutcome:
        last = data.get("last_epoch_test")
        return cls(**{**data, "test": TestScores(**data["test"]), "last_epoch_test": last and TestScores(**last)})


@dataclass(frozen=True)
class BenchmarkRecord:
    """Everything one case measured. ``to_json`` is what goes into ``benchmark.extra_info``."""

    case: str  # train, train-step, latency, throughput
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
    outcome: TrainingOutcome
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
    engine_speedup: float | None = None  # engine group: our images/s over the notebook loop's
    precision: str = "fp32"  # autocast precision of the timed work
    compiled: bool = False  # torch.compile used for the timed work
    compile_time_s: float | None = None  # this case's compilation (first calls), never inside its timing
    lever: str | None = None  # levers group: which setting this case changes from the suite's defaults
    lever_ratio: float | None = None  # levers group: this variant's images/s over the unchanged case's
    round_times_s: list[float] = field(default_factory=list)
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
        data = asdict(self)
        data["status"] = self.status
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BenchmarkRecord:
        """Rebuild a record from ``extra_info``; raises ``ValueError`` if it is not ours."""
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise ValueError(f"extra_info has no {SCHEMA!r} record")
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["outcome"] = TrainingOutcome.from_json(data["outcome"])
        return cls(**values)
