"""The session's trained weights: train each (model, seed) once, keep it in memory, cache it on disk."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..data.dataset import MNISTData
from ..results.outcome import EpochRecord, TrainResult
from ..results.protocol import TrainConfig
from ..results.record import case_id
from ..training.evaluation import evaluate
from ..training.loop import EpochProgress, train
from ..training.stepper import Stepper, make_stepper
from .cache import WeightCache
from .plan import Case, SuitePlan


@dataclass(frozen=True)
class Trained:
    """Trained weights in memory, how they were trained and scored, and where this session got them."""

    model: nn.Module
    outcome: TrainResult
    source: str  # trained, memory, disk


class Weights:
    """Trains, remembers and caches the weights of each (model, seed); knows nothing of pytest."""

    def __init__(
        self, plan: SuitePlan, data: MNISTData, say: Callable[[str], None] | None = None, say_every_s: float = 30.0
    ) -> None:
        self.plan = plan
        self.data = data
        self.cache = WeightCache(plan.cache_dir)
        self._say = say or (lambda message: None)
        self._quiet = say is None
        self._say_every_s = say_every_s
        self._trained: dict[str, Trained] = {}

    def cache_inputs(self, case: Case) -> dict:
        """What determines a case's weights: its cache key (the data by its files' checksum and its content's digest,
        so that weights trained on other data never answer for these)."""
        return {
            "model": case.model,
            "architecture": repr(case.spec.build()),
            "train_config": case.training.config.to_dict(),
            "profile": self.plan.profile.name,
            "seed": case.seed,
            "dataset": self.data.name,
            "dataset_checksum": self.data.checksum,
            "dataset_content": self.data.content,
            "torch": torch.__version__,
            "device_type": self.plan.device.type,
        }

    def prepare_training(self, case: Case, parallel: bool = True) -> tuple[nn.Module, TrainConfig, Stepper]:
        """A fresh seeded model, its config and its stepper, warmed up (and compiled) before any clock.

        ``parallel``: train under DDP with the other processes of a torchrun launch (the
        ``train`` case, which every process runs); weights needed by rank 0 alone train alone.
        """
        config = case.training.config
        model = self.plan.fresh_model(case)
        world = self.plan.world if parallel else None
        return model, config, make_stepper(model, self.data, config, world=world)

    def run_training(self, case: Case, model: nn.Module, config: TrainConfig, stepper: Stepper) -> TrainResult:
        """The timed part of a ``train`` case: the whole training run, validation included."""
        label = f"{case.model} seed {case.seed}"
        self._say(f"training {label}: up to {config.max_epochs} epoch(s) on {self.data.describe()}")

        def report(record: EpochRecord) -> None:
            self._say(
                f"  {label}: epoch {record.epoch}/{config.max_epochs}  train_loss {record.train_loss:.4f}  "
                f"val_acc {record.val_acc:.4f}  ({record.train_time_s:.1f} s)"
            )

        def inside(state: EpochProgress) -> None:
            self._say(
                f"  {label}: epoch {state.epoch}/{state.max_epochs}  {state.images:,}/{state.images_per_epoch:,} images"
                f"  {state.images_per_s:,.0f} img/s  epoch ETA {state.eta_s:.0f} s"
            )

        return train(
            model,
            self.data,
            config,
            bar=False,
            on_epoch=report,
            on_progress=None if self._quiet else inside,
            progress_every_s=self._say_every_s,
            description=label,
            stepper=stepper,
        )

    def finish_training(self, case: Case, result: TrainResult) -> Trained:
        """Score on the test set, remember the weights for this session and write them to the cache."""
        x, y, classes = self.data.x_test, self.data.y_test, len(self.data.classes)
        last_epoch = None
        if result.last_state is not None:  # the last epoch's weights, scored on the same test images
            last_model = copy.deepcopy(result.model)
            last_model.load_state_dict(result.last_state)
            last_epoch = evaluate(last_model, x, y, classes=classes)
        outcome = result.with_test(evaluate(result.model, x, y, classes=classes), last_epoch)
        trained = Trained(result.model.eval(), outcome, "trained")
        self._trained[case.id] = trained
        if not self.plan.world.is_main:  # the other processes hold the same weights; rank 0 writes them
            return trained
        path = self.cache.save(self.cache_inputs(case), result.model.state_dict(), outcome)
        restored = f" (best epoch {result.best_epoch} of {result.epochs_run}"
        restored += f"; last epoch {last_epoch.accuracy:.4f})" if last_epoch else ")"
        where = f"weights cached in {path}" if path else "weights kept in memory (the cache cannot be written)"
        self._say(f"  {case.model} seed {case.seed}: test accuracy {outcome.test.accuracy:.4f}{restored}; {where}")
        return trained

    def has(self, model: str, seed: int) -> bool:
        """Whether this session holds the weights of (model, seed)."""
        return case_id(model, seed) in self._trained

    def correctness(self, model: str, seed: int) -> np.ndarray:
        """1 where the (model, seed) network got the test image right, 0 where not."""
        test = self._trained[case_id(model, seed)].outcome.test
        return (test.predictions == test.labels).astype(np.float64)

    def training_seconds(self) -> float:
        """Training time of every set of weights this session holds (trained now or by the cache's session)."""
        return sum(trained.outcome.train_time_s for trained in self._trained.values())

    def get(self, case: Case) -> Trained:
        """Weights for the case: from this session, else from the disk cache, else trained now."""
        if case.id in self._trained:
            hit = self._trained[case.id]
            return Trained(hit.model, hit.outcome, "memory" if hit.source != "disk" else "disk")
        inputs = self.cache_inputs(case)
        # another session training these weights on this cache: wait for its entry rather than train them twice
        with self.cache.claim(inputs, waiting=lambda line: self._say(f"  {case.model} seed {case.seed}: {line}")):
            model = self.plan.fresh_model(case)
            # a damaged entry, or one whose weights do not fit this model, is retrained with one CacheWarning
            entry = self.cache.load(inputs, fits=model.state_dict())
            if entry is not None:
                model.load_state_dict(entry.state_dict)
                # the memory format training leaves behind, so inference is timed alike whatever the weights' origin
                model.to(memory_format=case.training.config.memory_format)
                trained = Trained(model.eval(), entry.outcome, "disk")
                self._trained[case.id] = trained
                return trained
            model, config, stepper = self.prepare_training(case, parallel=False)
            return self.finish_training(case, self.run_training(case, model, config, stepper))
