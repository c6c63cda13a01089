"""One session builder for the pytest plugin and the A/B worker: settings resolved into a plan, the data loaded
once, the weights, and the records benchmarks make.

``open_session(settings)`` is the one way a session starts (the plugin hands it the data its
session fixture loaded); the run's JSON is ``run_json``'s.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from ..data.dataset import MNISTData, load_dataset
from ..data.registry import get_dataset
from ..models.registry import resolve_models
from ..parse import SeedPlan
from ..results.groups import GroupSpec
from ..results.record import BenchmarkRecord
from ..runtimes.base import get_runtime
from ..training.device import check_precision, resolve_device, set_threads
from ..training.distributed import join
from .context import AgreementCheck, Conversions, Facts, Mode, Peaks, RunContext, SeedAdmission
from .plan import Case, SuitePlan
from .profiles import PROFILES
from .runners import runner_for
from .settings import SuiteSettings, default_cache_dir
from .shards import seconds_per_case
from .timing import TimedCall
from .weights import Trained, Weights

_RECORD_FIELDS = {f.name for f in fields(BenchmarkRecord)}
# record fields a timed call may fill whatever its group: its rates, the training settings it ran, its slowdown
_EVERY_GROUP = frozenset({"images_per_s", "achieved_flops", "round_times_s", "settings", "precision", "compiled",
                          "threads", "slowdown", "seed_reason"})  # fmt: skip


class SettingsError(ValueError):
    """Settings that cannot be resolved (unknown model, unavailable device...): the message says which."""


def resolve(settings: SuiteSettings) -> SuitePlan:
    """Resolve models, device, threads, seeds and the shard plan; ``SettingsError`` on anything unusable."""
    try:
        device = resolve_device(settings.device)
        specs = resolve_models(list(settings.models) or ["*"])
        get_dataset(settings.dataset)  # an unknown name is an error listing the registered datasets
        for runtime in settings.runtimes:
            get_runtime(runtime)  # an unknown name is an error listing the runtimes
        if settings.precision:
            check_precision(settings.precision, device)
        threads = set_threads(settings.threads)
    except (KeyError, ValueError) as exc:  # KeyError: UnknownModelError, whose message lists the models
        raise SettingsError(str(exc).strip("'\"")) from None
    world, device = join(device)  # torchrun: one process group, this rank's device
    auto = settings.seeds if isinstance(settings.seeds, SeedPlan) else None
    return SuitePlan(
        profile=PROFILES[settings.profile],
        specs=tuple(specs),
        seeds=tuple(range(auto.cap)) if auto else tuple(settings.seeds),
        device=device,
        data_dir=Path(settings.data_dir).expanduser() if settings.data_dir else None,
        cache_dir=Path(settings.cache_dir).expanduser() if settings.cache_dir else default_cache_dir(),
        threads=threads,
        settings=settings,
        runtimes=tuple(sorted(settings.runtimes or ("eager",), key=lambda n: n != "eager")),
        world=world,
        measured_seconds=_measured_seconds(settings.shard_times) if settings.shard_times else {},
    )


def _measured_seconds(path: str) -> dict[str, float]:
    """Each model's timed seconds per seed in a previous run, to balance shards by."""
    try:
        return seconds_per_case(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError) as exc:
        raise SettingsError(
            f"--mnist-shard-times {path}: not a readable pytest-benchmark JSON run ({type(exc).__name__}: {exc})"
        ) from None


def _runs_bf16(plan: SuitePlan) -> bool:
    """Whether a session times any bf16 work: bf16 autocast for every model, or the levers (a bf16 lever)."""
    return plan.precision == "bf16" or plan.levers or any(s.train.get("precision") == "bf16" for s in plan.specs)


def load_data(plan: SuitePlan) -> MNISTData:
    """The session's dataset, loaded once onto its device (the profile's subset of it); ``DataError`` if not."""
    data = load_dataset(plan.dataset, plan.data_dir, device=plan.device, skip_mirrors=plan.skip_mirrors)
    subset = plan.profile.subset
    return data.subset(*subset) if subset else data


class Session:
    """What one session holds: plan, data, weights, and the concerns it composes (``bench.context``: peaks, model
    facts, conversions, agreement, seed admission) with the records it assembles; knows nothing of pytest."""

    def __init__(
        self,
        plan: SuitePlan,
        data: MNISTData,
        say: Callable[[str], None] | None = None,
        say_every_s: float = 30.0,
        mode: Mode | str = Mode.SUITE,
        peaks: tuple[list[float], float | None] | None = None,
    ) -> None:
        """``mode``: a suite session or an A/B side (``Mode``); ``peaks``: the fp32 peaks (start and end) and bf16
        peak another process measured on this machine, taken as they are instead of measured."""
        self.plan, self.data, self.mode = plan, data, Mode(mode)
        self.weights = Weights(plan, data, say=say, say_every_s=say_every_s)
        self.facts = Facts()
        self.admission = SeedAdmission(plan, self.weights)
        self.context = RunContext(plan, data, self.weights, self.facts, Conversions(plan, self.mode, data.x_train),
                                  AgreementCheck(self.weights, data, self.mode), self.mode)  # fmt: skip
        self.peak = Peaks(plan.device, _runs_bf16(plan), peaks)
        self.records = Records(plan, data, self.weights, self.facts, self.peak)

    @property
    def seed_rounds(self):
        """The auto seeds' rounds (``SeedRounds``), or ``None`` without ``--mnist-seeds auto``."""
        return self.admission.rounds

    @property
    def peaks(self) -> list[float]:
        return self.peak.fp32

    @property
    def bf16_peak(self) -> float | None:
        return self.peak.bf16

    @property
    def peak_flops(self) -> float:
        """The best fp32 matmul rate measured so far in this session: the ceiling for FLOP/s fractions."""
        return self.peak.best

    def final_peaks(self) -> list[float]:
        """Every peak measurement of the session, the one at its end taken now (once)."""
        return self.peak.final()

    def trained(self, case: Case) -> Trained:
        """The case's trained weights (a fresh copy of them where the mode wants one per call)."""
        return self.context.trained(case)

    def rounds(self, group: GroupSpec) -> int:
        """Timed rounds of one benchmark of ``group`` in this session (the profile's, scaled by --mnist-rounds)."""
        return self.context.rounds(group)

    def timed_call(self, group: GroupSpec, case: Case, variant: str | None) -> TimedCall:
        """The group's call for ``case``, from its runner (handed the session's ``RunContext``); timed groups with
        the injected slowdown, if any. ``NotApplicable`` for what seed admission refuses."""
        reason = self.admission.admit(group, case)
        call = runner_for(group.name)(self.context, case, variant)
        if reason is not None:
            call = replace(call, fields={**call.fields, "seed_reason": reason})
        return call if group.trains else call.slowed(self.plan.slowdown)

    def measure(self, benchmark, group: GroupSpec, case: Case, variant: str | None) -> BenchmarkRecord:
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

    def record(self, group: GroupSpec, case: Case, call: TimedCall, times: list[float], result: Any = None):
        """What one benchmark measured (``Records.record``)."""
        return self.records.record(group, case, call, times, result)


class Records:
    """The record of one benchmark: what its call measured, with the model's facts, floor, settings, peaks and
    training outcome; a field the group's spec does not declare is an error."""

    def __init__(self, plan: SuitePlan, data: MNISTData, weights: Weights, facts: Facts, peaks: Peaks) -> None:
        self.plan, self.data, self.weights, self.facts, self.peaks = plan, data, weights, facts, peaks

    def record(self, group: GroupSpec, case: Case, call: TimedCall, times: list[float], result: Any = None):
        """What one benchmark measured, with the model's facts, floor, settings and training outcome."""
        trained, measured = call.finish(result) if call.finish else (call.trained or self.weights.get(case), {})
        measured = {**call.fields, **call.summary(times), **measured}
        undeclared = sorted(
            k for k in measured if k in _RECORD_FIELDS and k not in _EVERY_GROUP and k not in group.fields
        )
        if undeclared:
            raise ValueError(
                f"the runner of group {group.name!r} filled record field(s) {', '.join(undeclared)} that its spec does "
                "not declare: add them to the GroupSpec's fields"
            )
        config = case.training.config
        measured.setdefault("settings", case.training.record())
        measured.setdefault("precision", config.precision)
        measured.setdefault("compiled", config.compile)
        measured.setdefault("threads", self.plan.threads)
        peak = self.peaks.of(measured["precision"])
        if measured.get("achieved_flops") and peak:  # against the peak of its own precision, measured alike
            measured["peak_flops"] = peak
            measured["peak_fraction"] = measured["achieved_flops"] / peak
        metrics = {k: measured.pop(k) for k in list(measured) if k not in _RECORD_FIELDS}
        return self._record(group, case, trained, measured, metrics)

    def _record(self, group: GroupSpec, case: Case, trained: Trained, measured: dict, metrics: dict):
        facts, spec = self.facts(case), case.spec
        floor = self.plan.profile.floor(spec, self.data.name)
        return BenchmarkRecord(
            group=group.name,
            model=case.model,
            family=spec.family,
            description=spec.description,
            params=facts.params,
            flops_inference=facts.flops_inference,
            flops_train_step=facts.flops_train_step,
            profile=self.plan.profile.name,
            dataset=self.data.name,
            classes=list(self.data.classes),
            seed=case.seed,
            device=str(self.plan.device),
            outcome=trained.outcome,
            floor=floor,
            floor_passed=floor is None or trained.outcome.test.accuracy >= floor,
            cache=trained.source,
            metrics=metrics,
            **measured,
        )


def open_session(
    settings: SuiteSettings | SuitePlan,
    data: MNISTData | None = None,
    say: Callable[[str], None] | None = None,
    say_every_s: float = 30.0,
    mode: Mode | str = Mode.SUITE,
    peaks: tuple[list[float], float | None] | None = None,
) -> Session:
    """Resolve ``settings`` (unless already a plan), load the data (unless given: the plugin's
    session fixture loads it, to stop with a usage error if it cannot) and start a session of ``mode``
    (``Mode.AB_WORKER``, or ``"ab-worker"``, for an A/B side)."""
    plan = settings if isinstance(settings, SuitePlan) else resolve(settings)
    return Session(plan, data if data is not None else load_data(plan), say, say_every_s, mode, peaks)
