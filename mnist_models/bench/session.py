"""The benchmark suite's engine, apart from pytest: train or reuse weights, build timed callables, make records."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
import torchvision
from torch import nn

from ..data.dataset import MNISTData, gather, iterate_batches
from ..models.facts import count_parameters, inference_flops, matmul_peak_flops, training_flops
from ..models.registry import ModelSpec
from ..training.device import synchronize
from ..training.distributed import World
from ..training.evaluation import evaluate
from ..training.loop import (
    EpochRecord,
    Progress,
    Stepper,
    TrainConfig,
    TrainResult,
    autocast,
    compile_model,
    make_stepper,
    train,
)
from .cache import WeightCache
from .profiles import Profile
from .record import BenchmarkRecord, TestScores, TrainingOutcome
from .shards import assign_shards


@dataclass(frozen=True)
class SuiteConfig:
    """Everything the command line decided, resolved and validated."""

    profile: Profile
    specs: tuple[ModelSpec, ...]
    seeds: tuple[int, ...]
    device: torch.device
    dataset: str
    data_dir: Path | None
    cache_dir: Path
    threads: int
    offline: bool = False
    precision: str | None = None  # --mnist-precision: autocast for every model (None: each spec's own, else fp32)
    compile: bool = False  # --mnist-compile: torch.compile for training and timed inference
    shard: tuple[int, int] | None = None  # --mnist-shard K/N: this session runs shard K of N
    world: World = field(default_factory=World)  # torchrun: this process's rank among the data-parallel processes
    measured_seconds: Mapping[str, float] = field(default_factory=dict)  # --mnist-shard-times: model -> s per seed

    @cached_property
    def cases(self) -> list[tuple[ModelSpec, int]]:
        """The (model, seed) cases of this session: all of them, or this shard's share."""
        cases = [(spec, seed) for spec in self.specs for seed in self.seeds]
        if self.shard is None:
            return cases
        costs = shard_costs(self.profile, self.specs, self.measured_seconds)
        index, count = self.shard
        return assign_shards(
            cases, lambda case: costs[case[0].display_name], count, key=lambda c: f"{c[0].display_name}-{c[1]}"
        )[index - 1]


def shard_costs(profile: Profile, specs: Sequence[ModelSpec], measured: Mapping[str, float]) -> dict[str, float]:
    """Each model's cost per seed in seconds: measured in a previous run where it has one, else its
    estimated FLOPs converted at the median seconds per FLOP of the measured models (FLOPs alone
    without any measurement: only the proportions matter)."""
    flops = {spec.display_name: estimated_cost(profile, spec) for spec in specs}
    known = [measured[name] / flops[name] for name in flops if measured.get(name) and flops[name] > 0]
    rate = float(np.median(known)) if known else 1.0
    return {name: measured.get(name) or cost * rate for name, cost in flops.items()}


def seconds_per_case(run: Mapping) -> dict[str, float]:
    """From a saved run's JSON: each model's timed seconds (every group, every round), per seed."""
    seconds: dict[str, float] = {}
    seeds: dict[str, set] = {}
    for bench in run.get("benchmarks", []):
        info, stats = bench.get("extra_info") or {}, bench.get("stats") or {}
        if "model" not in info:
            continue
        model = info["model"]
        seconds[model] = seconds.get(model, 0.0) + stats.get("mean", 0.0) * stats.get("rounds", 0)
        seeds.setdefault(model, set()).add(info.get("seed"))
    return {model: total / len(seeds[model]) for model, total in seconds.items()}


def estimated_cost(profile: Profile, spec: ModelSpec) -> float:
    """FLOPs a (model, seed) case costs, roughly: its training run plus its timed step rounds.

    Training epochs of a profile with early stopping are counted as at most 20 (the
    original notebook's runs stopped after 16-24); inference cases are small beside these.
    """
    config = profile.train_config(spec, 0)
    epochs = min(config.max_epochs, 20) if config.patience is not None else config.max_epochs
    images = profile.subset[0] if profile.subset else 48_000
    step_rounds = 3 * profile.step_rounds * profile.step_target_flop  # train-step and both engine loops
    return training_flops(spec.build(), config.batch_size) * images * epochs + step_rounds


@dataclass(frozen=True)
class Trained:
    """Trained weights in memory and how they were obtained (trained, memory, disk)."""

    model: nn.Module
    outcome: TrainingOutcome
    source: str


class Suite:
    """Holds the session's data, weight cache and trained models; knows nothing of pytest."""

    def __init__(
        self,
        config: SuiteConfig,
        data: MNISTData,
        on_progress: Callable[[str], None] | None = None,
        progress_interval_s: float = 30.0,
    ) -> None:
        self.config = config
        self.data = data
        self.cache = WeightCache(config.cache_dir)
        self._say = on_progress or (lambda message: None)
        self._quiet = on_progress is None
        self._progress_interval_s = progress_interval_s
        self._trained: dict[tuple[str, int], Trained] = {}
        self._facts: dict[str, tuple[int, int, int]] = {}
        self._rates: dict[tuple[str, int, str], float] = {}  # (model, seed, engine loop or lever) -> images/s
        self._labels = data.y_test.cpu().numpy()
        self.peak_flops = matmul_peak_flops(config.device)  # once per session: the ceiling for FLOP/s fractions

    # --- weights -------------------------------------------------------------------------

    def train_config(self, spec: ModelSpec, seed: int) -> TrainConfig:
        config = self.config.profile.train_config(spec, seed)
        if self.config.precision is not None:
            config = config.updated({"precision": self.config.precision})
        return config.updated({"compile": config.compile or self.config.compile})

    def fresh_model(self, spec: ModelSpec, seed: int) -> nn.Module:
        torch.manual_seed(seed)
        return spec.build().to(self.config.device)

    def cache_inputs(self, spec: ModelSpec, seed: int) -> dict:
        return {
            "model": spec.display_name,
            "architecture": repr(spec.build()),
            "train_config": self.train_config(spec, seed).to_dict(),
            "profile": self.config.profile.name,
            "seed": seed,
            "dataset": self.data.name,
            "dataset_checksum": self.data.checksum,
            "torch": torch.__version__,
            "device_type": self.config.device.type,
        }

    def prepare_training(
        self, spec: ModelSpec, seed: int, parallel: bool = True
    ) -> tuple[nn.Module, TrainConfig, Stepper]:
        """A fresh seeded model, its config and its stepper, warmed up (and compiled) before any clock.

        ``parallel``: train under DDP with the other processes of a torchrun launch (the
        ``train`` case, which every process runs); weights needed by rank 0 alone train alone.
        """
        config = self.train_config(spec, seed)
        model = self.fresh_model(spec, seed)
        world = self.config.world if parallel else None
        return model, config, make_stepper(model, self.data, config, world=world)

    def run_training(
        self, spec: ModelSpec, seed: int, model: nn.Module, config: TrainConfig, stepper: Stepper
    ) -> TrainResult:
        """The timed part of a ``train`` case: the whole training run, validation included."""
        label = f"{spec.display_name} seed {seed}"
        self._say(f"training {label}: up to {config.max_epochs} epoch(s) on {self.data.describe()}")

        def report(record: EpochRecord) -> None:
            self._say(
                f"  {label}: epoch {record.epoch}/{config.max_epochs}  train_loss {record.train_loss:.4f}  "
                f"val_acc {record.val_acc:.4f}  ({record.train_time_s:.1f} s)"
            )

        def inside(state: Progress) -> None:
            self._say(
                f"  {label}: epoch {state.epoch}/{state.max_epochs}  {state.images:,}/{state.images_per_epoch:,} images"
                f"  {state.images_per_s:,.0f} img/s  epoch ETA {state.eta_s:.0f} s"
            )

        return train(
            model,
            self.data,
            config,
            progress=False,
            on_epoch=report,
            on_progress=None if self._quiet else inside,
            progress_interval_s=self._progress_interval_s,
            description=label,
            stepper=stepper,
        )

    def finish_training(self, spec: ModelSpec, seed: int, result: TrainResult) -> Trained:
        """Evaluate on the test set, remember the weights for this session and write them to the cache."""
        classes = len(self.data.classes)
        evaluation = evaluate(result.model, self.data.x_test, self.data.y_test, classes=classes)
        last_epoch = None
        if result.last_state is not None:  # the last epoch's weights, scored on the same test images
            last_model = copy.deepcopy(result.model)
            last_model.load_state_dict(result.last_state)
            last_epoch = TestScores.from_evaluation(
                evaluate(last_model, self.data.x_test, self.data.y_test, classes=classes), self._labels
            )
        outcome = TrainingOutcome(
            epochs_run=result.epochs_run,
            best_epoch=result.best_epoch,
            stop_reason=result.stop_reason,
            train_time_s=result.train_time_s,
            history=[asdict(r) for r in result.history],
            time_to_accuracy=result.time_to_accuracy,
            compile_time_s=result.compile_time_s,
            config=result.config.to_dict(),
            test=TestScores.from_evaluation(evaluation, self._labels),
            last_epoch_test=last_epoch,
        )
        if not self.config.world.is_main:  # the other processes hold the same weights; rank 0 writes them
            self._trained[(spec.display_name, seed)] = Trained(result.model.eval(), outcome, "trained")
            return self._trained[(spec.display_name, seed)]
        path = self.cache.save(self.cache_inputs(spec, seed), result.model.state_dict(), outcome)
        restored = f" (best epoch {result.best_epoch} of {result.epochs_run}"
        restored += f"; last epoch {last_epoch.accuracy:.4f})" if last_epoch else ")"
        self._say(
            f"  {spec.display_name} seed {seed}: test accuracy {evaluation.accuracy:.4f}{restored}; "
            f"weights cached in {path}"
        )
        trained = Trained(result.model.eval(), outcome, "trained")
        self._trained[(spec.display_name, seed)] = trained
        return trained

    def trained(self, spec: ModelSpec, seed: int) -> Trained:
        """Weights for (spec, seed): from this session, else from the disk cache, else trained now."""
        key = (spec.display_name, seed)
        if key in self._trained:
            hit = self._trained[key]
            return Trained(hit.model, hit.outcome, "memory" if hit.source != "disk" else "disk")
        entry = self.cache.load(self.cache_inputs(spec, seed))
        if entry is not None:
            model = self.fresh_model(spec, seed)
            model.load_state_dict(entry.state_dict)
            # the memory format training leaves behind, so inference is timed alike whatever the weights' origin
            model.to(memory_format=self.train_config(spec, seed).memory_format)
            trained = Trained(model.eval(), entry.outcome, "disk")
            self._trained[key] = trained
            return trained
        model, config, stepper = self.prepare_training(spec, seed, parallel=False)
        return self.finish_training(spec, seed, self.run_training(spec, seed, model, config, stepper))

    # --- timed callables -------------------------------------------------------------------

    def facts(self, spec: ModelSpec) -> tuple[int, int, int]:
        """(parameters, inference FLOPs per image, training-step FLOPs per image), computed once."""
        if spec.display_name not in self._facts:
            model = spec.build()
            batch = self.train_config(spec, 0).batch_size
            self._facts[spec.display_name] = (
                count_parameters(model),
                inference_flops(model),
                training_flops(model, batch),
            )
        return self._facts[spec.display_name]

    def steps_per_round(self, spec: ModelSpec) -> int:
        """Optimiser steps per train-step round: about ``step_target_flop`` of work, 2 to 50 steps."""
        batch = self.train_config(spec, 0).batch_size
        per_step = max(self.facts(spec)[2] * batch, 1)
        return int(min(50, max(2, round(self.config.profile.step_target_flop / per_step))))

    def step_runner(
        self, spec: ModelSpec, seed: int, overrides: dict | None = None, switches: dict | None = None
    ) -> tuple[Callable[[], None], int, int, float | None]:
        """A callable that runs a fixed number of optimiser steps on a fresh model, warmed up.

        Returns (callable, steps per round, batch size, compile time or None). Batches
        cycle through one seeded shuffle of the training split; the device is
        synchronised at the end of each call, so the clock covers the queued work.
        ``overrides`` change the training config and ``switches`` the stepper's
        attributes (the levers group).
        """
        config = self.train_config(spec, seed).updated({"schedule": "constant", **(overrides or {})})
        model = self.fresh_model(spec, seed)
        stepper = make_stepper(model, self.data, config, warm_up=False)
        for name, value in (switches or {}).items():
            setattr(stepper, name, value)
        x, y = self.data.x_train.contiguous(memory_format=config.memory_format), self.data.y_train
        generator = torch.Generator().manual_seed(seed)
        pool = list(iterate_batches(len(y), config.batch_size, generator, self.config.device))
        pool = [b for b in pool if len(b) == config.batch_size] or pool
        stepper.warm_up(x, y, [config.batch_size])
        steps = self.steps_per_round(spec)
        position = [0]

        def run() -> None:
            start = position[0]
            stepper.run(gather(x, y, pool[(start + i) % len(pool)]) for i in range(steps))  # gathered inside the clock
            position[0] = (start + steps) % len(pool)
            synchronize(self.config.device)

        return run, steps, config.batch_size, stepper.compile_time_s

    def engine_runner(self, spec: ModelSpec, seed: int, loop: str) -> tuple[Callable[[], None], int, int, float | None]:
        """Our engine (``loop="ours"``) or the notebook-style loop, same model, data, steps and batch size."""
        if loop == "ours":
            return self.step_runner(spec, seed)
        from ..training.notebook import notebook_step_runner

        batch = self.train_config(spec, seed).batch_size
        steps = self.steps_per_round(spec)
        model = self.fresh_model(spec, seed)
        run = notebook_step_runner(model, self.data.x_train, self.data.y_train, steps, batch, seed, self.config.device)
        return run, steps, batch, None

    def lever_ratio(self, spec: ModelSpec, seed: int, lever, images_per_s: float | None) -> float | None:
        """This variant's images/s over its baseline's, once the baseline ran in this session."""
        if images_per_s is None:
            return None
        self._rates[(spec.display_name, seed, lever.name)] = images_per_s
        baseline = self._rates.get((spec.display_name, seed, lever.baseline))
        return images_per_s / baseline if baseline else None

    def engine_speedup(self, spec: ModelSpec, seed: int, loop: str, images_per_s: float | None) -> float | None:
        """Remember each loop's rate; once both are known, our rate over the notebook loop's."""
        if images_per_s is None:
            return None
        self._rates[(spec.display_name, seed, loop)] = images_per_s
        ours = self._rates.get((spec.display_name, seed, "ours"))
        notebook = self._rates.get((spec.display_name, seed, "notebook"))
        return ours / notebook if ours and notebook else None

    def lever_runner(self, spec: ModelSpec, seed: int, trained: Trained, lever) -> tuple[Callable[[], object], dict]:
        """The callable for one levers-group variant and the record fields it fixes (batch, steps, compile time).

        The variant's thread count, if any, is set for each call and restored after it.
        """
        settings = self.train_config(spec, seed)
        if lever.case == "train-step":
            run, steps, batch, compile_time = self.step_runner(spec, seed, lever.train, lever.stepper)
            fields = {"batch_size": batch, "steps_per_round": steps, "images_per_round": steps * batch,
                      "flops_per_image": self.facts(spec)[2], "compiled": bool(lever.train.get("compile"))}  # fmt: skip
        else:
            batch = min(lever.batch_size or self.config.profile.throughput_batch, len(self.data.y_test))
            run, compile_time = self.inference_runner(trained.model, batch, settings)
            fields = {"batch_size": batch, "images_per_round": batch, "flops_per_image": self.facts(spec)[1]}
        fields["compile_time_s"] = compile_time
        fields["precision"] = lever.train.get("precision", settings.precision)
        if lever.threads is None:
            return run, fields

        def with_threads() -> object:
            before = torch.get_num_threads()
            torch.set_num_threads(lever.threads)
            try:
                return run()
            finally:
                torch.set_num_threads(before)

        return with_threads, fields

    def inference_runner(
        self, model: nn.Module, batch_size: int, config: TrainConfig | None = None
    ) -> tuple[Callable[[], torch.Tensor], float | None]:
        """A callable for ``batch_size`` test images through ``model`` in eval and inference mode.

        Under autocast at ``config.precision`` and through ``torch.compile`` with
        ``config.compile`` (the model's training settings); returns (callable, compile
        time or None). The first call, which compiles, happens here, outside any timer.
        """
        config = config or TrainConfig()
        model.eval()
        x = self.data.x_test[:batch_size].contiguous(memory_format=_memory_format(model))
        device = self.config.device
        precision = config.precision
        forward = compile_model(model) if config.compile else model

        def run() -> torch.Tensor:
            with torch.inference_mode(), autocast(precision, device):
                out = forward(x)
            synchronize(device)
            return out

        start = time.perf_counter()
        run()  # first call outside the timer: lazy initialisation, compilation
        compile_time = time.perf_counter() - start if config.compile else None
        return run, compile_time

    # --- records ---------------------------------------------------------------------------

    def record(self, case: str, spec: ModelSpec, seed: int, trained: Trained, **measured) -> BenchmarkRecord:
        params, flops_inf, flops_train = self.facts(spec)
        config = self.train_config(spec, seed)
        measured.setdefault("precision", config.precision)
        measured.setdefault("compiled", config.compile)
        measured.setdefault("threads", self.config.threads)
        if measured.get("achieved_flops"):
            measured["peak_flops"] = self.peak_flops
            measured["peak_fraction"] = measured["achieved_flops"] / self.peak_flops
        floor = self.config.profile.floor(spec, self.data.name)
        accuracy = trained.outcome.test.accuracy
        return BenchmarkRecord(
            case=case,
            model=spec.display_name,
            family=spec.family,
            description=spec.description,
            params=params,
            flops_inference=flops_inf,
            flops_train_step=flops_train,
            profile=self.config.profile.name,
            dataset=self.data.name,
            classes=list(self.data.classes),
            seed=seed,
            device=str(self.config.device),
            outcome=trained.outcome,
            floor=floor,
            floor_passed=floor is None or accuracy >= floor,
            cache=trained.source,
            **measured,
        )


def timing_summary(round_times: list[float], images_per_round: int, flops_per_image: int) -> dict:
    """Median-based rates from raw round times (empty when timing was disabled)."""
    if not round_times:
        return {}
    rate = images_per_round / float(np.median(round_times))
    return {"images_per_s": rate, "achieved_flops": rate * flops_per_image, "round_times_s": list(round_times)}


def percentile_ms(round_times: list[float], q: float) -> float | None:
    if not round_times:
        return None
    return float(np.percentile(round_times, q, method="higher")) * 1e3


def _memory_format(model: nn.Module) -> torch.memory_format:
    for p in model.parameters():
        if p.dim() == 4 and p.is_contiguous(memory_format=torch.channels_last) and not p.is_contiguous():
            return torch.channels_last
    return torch.contiguous_format


def versions() -> dict[str, str]:
    return {"torch": torch.__version__, "torchvision": torchvision.__version__}
