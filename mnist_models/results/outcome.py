"""What training produced, as data: test scores, epoch history and the training outcome.

Numpy only (no torch), so that reading a saved run for a report imports no torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .protocol import TrainConfig

if TYPE_CHECKING:
    import torch
    from torch import nn


def encode_classes(classes: np.ndarray) -> str:
    """Classes (0-9) as one digit per test image: compact and diff-friendly in a saved run."""
    return "".join(map(str, np.asarray(classes, dtype=np.int64).tolist()))


def decode_classes(text: str) -> np.ndarray:
    return (np.frombuffer(text.encode("ascii"), dtype=np.uint8) - ord("0")).astype(np.int8)


@dataclass(frozen=True, eq=False)  # arrays inside: compare fields, not objects
class Evaluation:
    """What a model scored on one split: the one test-score type, in memory and in saved runs.

    ``predictions`` and ``labels`` are the predicted and true class per sample, in the
    split's order: paired tests (McNemar) between two models need both.
    """

    loss: float
    accuracy: float
    ci_low: float
    ci_high: float
    total: int
    per_class_accuracy: tuple[float, ...]
    precision: tuple[float, ...]
    recall: tuple[float, ...]
    f1: tuple[float, ...]
    confusion: tuple[tuple[int, ...], ...]
    predictions: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update(predictions=encode_classes(self.predictions), labels=encode_classes(self.labels))
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], labels: str | None = None) -> Evaluation:
        """Read ``to_json``'s output; ``labels`` for a schema-1 last-epoch score, which had none of its own."""
        values = {f.name: data.get(f.name) for f in fields(cls)}
        values["labels"] = values["labels"] or labels
        for name in ("per_class_accuracy", "precision", "recall", "f1"):
            values[name] = tuple(values[name])
        values["confusion"] = tuple(tuple(row) for row in values["confusion"])
        values["predictions"] = decode_classes(values["predictions"])
        values["labels"] = decode_classes(values["labels"])
        return cls(**values)


@dataclass(frozen=True)
class EpochRecord:
    """One epoch of training: its losses and accuracies, and where its time went."""

    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    train_time_s: float  # training loop only
    eval_time_s: float  # validation pass
    lr: float


@dataclass(frozen=True)
class TrainResult:
    """How a model was trained: the one training-outcome type, in memory and in saved runs.

    ``train`` fills in the run; the suite adds the test scores (``with_test``). ``model`` and
    ``last_state`` are the live weights: never serialised (``to_json``), ``None`` when read back.
    """

    model: nn.Module | None
    config: TrainConfig
    history: tuple[EpochRecord, ...]
    best_epoch: int  # 1-based epoch whose weights the model holds (the last one if not restored)
    stop_reason: str
    time_to_accuracy: dict[str, float | None] = field(default_factory=dict)  # target_key(t) -> s of training
    compile_time_s: float | None = None  # with config.compile: the warm-up that compiled, outside every clock
    # the last epoch's weights when the model holds an earlier (restored) epoch's: what the original
    # notebook reported, since its shallow-copy "restore" kept the last epoch
    last_state: dict[str, torch.Tensor] | None = None
    test: Evaluation | None = None  # the model's test-set scores
    last_epoch_test: Evaluation | None = None  # the last epoch's, when an earlier epoch was restored

    @property
    def epochs_run(self) -> int:
        return len(self.history)

    @property
    def train_time_s(self) -> float:
        return sum(r.train_time_s for r in self.history)

    @property
    def last_epoch_scores(self) -> Evaluation | None:
        """The last epoch's test scores (the restored weights' own when the best epoch was the last)."""
        return self.last_epoch_test or self.test

    def with_test(self, test: Evaluation, last_epoch_test: Evaluation | None) -> TrainResult:
        return replace(self, test=test, last_epoch_test=last_epoch_test)

    def to_json(self) -> dict[str, Any]:
        return {
            "config": self.config.to_dict(),
            "history": [asdict(r) for r in self.history],
            "best_epoch": self.best_epoch,
            "stop_reason": self.stop_reason,
            "time_to_accuracy": self.time_to_accuracy,
            "compile_time_s": self.compile_time_s,
            "train_time_s": self.train_time_s,  # derived; kept for readers of the raw JSON
            "epochs_run": self.epochs_run,
            "test": self.test and self.test.to_json(),
            "last_epoch_test": self.last_epoch_test and self.last_epoch_test.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TrainResult:
        """Read ``to_json``'s output, or a schema-1 ``TrainingOutcome`` (test labels inside its scores)."""
        config = TrainConfig.from_dict(data["config"])
        test, last = data.get("test"), data.get("last_epoch_test")
        return cls(
            model=None,
            config=config,
            history=tuple(EpochRecord(**epoch) for epoch in data["history"]),
            best_epoch=data["best_epoch"],
            stop_reason=data["stop_reason"],
            time_to_accuracy=dict(data.get("time_to_accuracy") or {}),
            compile_time_s=data.get("compile_time_s"),
            test=test and Evaluation.from_json(test),
            last_epoch_test=last and Evaluation.from_json(last, labels=test.get("labels")),
        )
