"""One session builder for the pytest plugin and the A/B worker: settings resolved, data loaded once,
weights, and the records benchmarks make.

``open_session(settings)`` is the one way a session starts (the plugin hands it the data its
session fixture loaded); the run's JSON is ``run_json``'s.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from ..data.dataset import MNISTData, load_dataset
from ..models.facts import ModelFacts
from ..models.registry import ModelSpec
from ..results.groups import GroupSpec
from ..results.record import BenchmarkRecord
from ..training.device import matmul_peak_flops
from .config import SuiteConfig
from .settings import SuiteSettings
from .timing import TimedCall
from .weights import Trained, Weights

_RECORD_FIELDS = {f.name for f in fields(BenchmarkRecord)}


class SettingsError(ValueError):
    """Settings that cannot be resolved (unknown model, unavailable device...): the message says which."""


def resolve(settings: SuiteSettings) -> SuiteConfig:
    """Resolve models, device, threads and the shard plan; ``SettingsError`` on anything unusable."""
    try:
        from .. import models  # noqa: F401  (registers the built-ins, then installed packages' models)
    except ValueError as exc:  # an installed package that clashes or fails to import
        raise SettingsError(str(exc)) from None
    from ..models.registry import resolve_models
    from ..runtimes.base import get_runtime
    from ..training.device import check_precision, resolve_device, set_threads
    from ..training.distributed import join
    from .cache import default_cache_dir
    from .profiles import PROFILES

    try:
        device = resolve_device(settings.device)
        specs = resolve_models(list(settings.models) or ["*"])
        for runtime in settings.runtimes:
            get_runtime(runtime)  # an unknown name is an error listing the runtimes
        if settings.precision:
            check_precision(settings.precision, device)
        threads = set_threads(settings.threads)
    except (KeyError, ValueError) as exc:  # KeyError: UnknownModelError, whose message lists the models
        raise SettingsError(str(exc)) from None
    world, device = join(device)  # torchrun: one process group, this rank's device
    return SuiteConfig(
        profile=PROFILES[settings.profile],
        specs=tuple(specs),
        seeds=settings.seeds,
        device=device,
        dataset=settings.dataset,
        data_dir=Path(settings.data_dir).expanduser() if settings.data_dir else None,
        cache_dir=Path(settings.cache_dir).expanduser() if settings.cache_dir else default_cache_dir(),
        threads=threads,
        skip_mirrors=settings.skip_mirrors,
        precision=settings.precision,
        compile=settings.compile,
        runtimes=settings.runtimes,
        rounds=settings.rounds,
        levers=settings.levers,
        shard=settings.shard,
        world=world,
        measured_seconds=_measured_seconds(settings.shard_times) if settings.shard_times else {},
        slowdown=settings.slowdown,
    )


def _measured_seconds(path: str) -> dict[str, float]:
    """Each model's timed seconds per seed in a previous run, to balance shards by."""
    import json

    from .config import seconds_per_case

    try:
        return seconds_per_case(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError) as exc:
        raise SettingsError(
            f"--mnist-shard-times {path}: not a readable pytest-benchmark JSON run ({type(exc).__name__}: {exc})"
        ) from None


def load_data(config: SuiteConfig) -> MNISTData:
    """The session's dataset, loaded once onto its device (the profile's subset of it); ``DataError`` if not."""
    data = load_dataset(config.dataset, config.data_dir, device=config.device, skip_mirrors=config.skip_mirrors)
    subset = config.profile.subset
    return data.subset(*subset) if subset else data


class Session:
    """What one session holds: config, data, weights, model facts, the peak; knows nothing of pytest."""

    def __init__(
        self,
        config: SuiteConfig,
        data: MNISTData,
        on_progress: Callable[[str], None] | None = None,
        progress_interval_s: float = 30.0,
        fresh_copies: bool = False,
    ) -> None:
        self.config, self.data = config, data
        self.weights = Weights(config, data, on_progress=on_progress, progress_interval_s=progress_interval_s)
        # A/B: every eager timed call measures its own copy of the weights; a runtime's conversion is made once
        # per side (converting for each block would cost more than the blocks) and the agreement is not redone
        self.fresh_copies = fresh_copies
        self.converted: dict[tuple, Any] = {}
        self._facts: dict[str, ModelFacts] = {}
        self._reference: dict[tuple[str, int], Any] = {}  # eager fp32 test logits per (model, seed)
        self.peaks = [matmul_peak_flops(config.device)]  # at the start, and again at the end (``final_peaks``)

    @property
    def peak_flops(self) -> float:
        """The best fp32 matmul rate measured so far in this session: the ceiling for FLOP/s fractions."""
        return max(self.peaks)

    def final_peaks(self) -> list[float]:
        """Every peak measurement of the session, the one at its end taken now (once)."""
        if len(self.peaks) == 1:
            self.peaks.append(matmul_peak_flops(self.config.device))
        return list(self.peaks)

    def facts(self, spec: ModelSpec) -> ModelFacts:
        """Parameters and FLOPs per image of ``spec``, computed once per session."""
        if spec.display_name not in self._facts:
            batch = self.config.train_config(spec, 0).batch_size
            self._facts[spec.display_name] = ModelFacts.of(spec.build(), batch)
        return self._facts[spec.display_name]

    def agreement(self, case: tuple[ModelSpec, int], runtime: str, forward, batch: int) -> dict[str, Any]:
        """A runtime's agreement with eager PyTorch on the whole test set (eager is the reference itself);
        nothing in an A/B worker, which times what the suite's runs have checked."""
        from ..runtimes.agreement import compare, reference_logits

        if self.fresh_copies:
            return {}
        spec, seed = case
        key = (spec.display_name, seed)
        if key not in self._reference:
            self._reference[key] = reference_logits(self.weights.get(*case).model, self.data.x_test)
        reference, labels = self._reference[key], self.data.y_test
        if runtime == "eager":
            accuracy = float((reference.argmax(1) == labels.cpu()).float().mean())
            return {"agreement": 1.0, "disagreements": 0, "max_logit_diff": 0.0, "runtime_accuracy": accuracy}
        return compare(forward, self.data.x_test, batch, reference, labels)

    def rounds(self, group: GroupSpec) -> int:
        """Timed rounds of one benchmark of ``group`` in this session (the profile's, scaled by --mnist-rounds)."""
        return group.rounds_for(self.config.profile, self.config.rounds)

    def trained(self, case: tuple[ModelSpec, int]) -> Trained:
        """The case's trained weights (a fresh copy of them where every call must have its own)."""
        trained = self.weights.get(*case)
        return replace(trained, model=copy.deepcopy(trained.model)) if self.fresh_copies else trained

    def timed_call(self, group: GroupSpec, case: tuple[ModelSpec, int], variant: str | None) -> TimedCall:
        """The group's call for ``case``, from its runner; timed groups with the injected slowdown, if any."""
        call = group.build(self, case, variant)
        return call if group.trains else call.slowed(self.config.slowdown)

    def measure(self, benchmark, group: GroupSpec, case: tuple[ModelSpec, int], variant: str | None) -> BenchmarkRecord:
        """Time the group's call under pytest-benchmark (``benchmark.pedantic``), summarise its rounds and
        save the record in ``extra_info``: the one path from a timed call to a record in a pytest run.

        Raises ``NotApplicable`` (the case is skipped) before anything is timed.
        """
        call = self.timed_call(group, case, variant)
        result = benchmark.pedantic(call.run, setup=call.setup, rounds=call.rounds, warmup_rounds=call.warmup_rounds)
        times = list(benchmark.stats.stats.data) if benchmark.stats else []  # empty with --benchmark-disable
        record = self.record(group, case, call, times, result)
        benchmark.extra_info.update(record.to_json())  # saved even when the case then fails its floor
        return record

    def record(
        self, group: GroupSpec, case: tuple[ModelSpec, int], call: TimedCall, times: list[float], result: Any = None
    ) -> BenchmarkRecord:
        """What one benchmark measured, with the model's facts, floor, settings and training outcome."""
        spec, seed = case
        trained, measured = call.finish(result) if call.finish else (call.trained or self.weights.get(*case), {})
        measured = {**call.fields, **call.summary(times), **measured}
        training = self.config.training(spec, seed)
        measured.setdefault("settings", training.record())
        measured.setdefault("precision", training.config.precision)
        measured.setdefault("compiled", training.config.compile)
        measured.setdefault("threads", self.config.threads)
        if measured.get("achieved_flops") and measured["precision"] == "fp32":  # the peak is fp32's
            measured["peak_flops"] = self.peak_flops
            measured["peak_fraction"] = measured["achieved_flops"] / self.peak_flops
        metrics = {k: measured.pop(k) for k in list(measured) if k not in _RECORD_FIELDS}
        facts = self.facts(spec)
        floor = self.config.profile.floor(spec, self.data.name)
        return BenchmarkRecord(
            group=group.name,
            model=spec.display_name,
            family=spec.family,
            description=spec.description,
            params=facts.params,
            flops_inference=facts.flops_inference,
            flops_train_step=facts.flops_train_step,
            profile=self.config.profile.name,
            dataset=self.data.name,
            classes=list(self.data.classes),
            seed=seed,
            device=str(self.config.device),
            outcome=trained.outcome,
            floor=floor,
            floor_passed=floor is None or trained.outcome.test.accuracy >= floor,
            cache=trained.source,
            metrics=metrics,
            **measured,
        )


def open_session(
    settings: SuiteSettings | SuiteConfig,
    data: MNISTData | None = None,
    on_progress: Callable[[str], None] | None = None,
    progress_interval_s: float = 30.0,
    fresh_copies: bool = False,
) -> Session:
    """Resolve ``settings`` (unless already resolved), load the data (unless given: the plugin's
    session fixture loads it, to stop with a usage error if it cannot) and start a session."""
    config = settings if isinstance(settings, SuiteConfig) else resolve(settings)
    return Session(
        config, data if data is not None else load_data(config), on_progress, progress_interval_s, fresh_copies
    )
