"""One session builder for the pytest plugin and the A/B worker: settings resolved into a plan, the data loaded
once, the weights, and the records benchmarks make.

``open_session(settings)`` is the one way a session starts (the plugin hands it the data its
session fixture loaded); the run's JSON is ``run_json``'s.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import torch

from ..data.dataset import MNISTData, load_dataset
from ..models.facts import ModelFacts
from ..models.registry import resolve_models
from ..parse import SeedPlan
from ..results.groups import GroupSpec
from ..results.record import BenchmarkRecord
from ..runtimes.agreement import compare, reference_logits
from ..runtimes.base import Prepared, get_runtime
from ..training.device import check_precision, matmul_peak_flops, resolve_device, set_threads
from ..training.distributed import join
from .plan import Case, SuitePlan
from .profiles import PROFILES
from .runners import runner_for
from .settings import SuiteSettings, default_cache_dir
from .shards import seconds_per_case
from .timing import NotApplicable, TimedCall
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
        dataset=settings.dataset,
        data_dir=Path(settings.data_dir).expanduser() if settings.data_dir else None,
        cache_dir=Path(settings.cache_dir).expanduser() if settings.cache_dir else default_cache_dir(),
        threads=threads,
        skip_mirrors=settings.skip_mirrors,
        precision=settings.precision,
        compile=settings.compile,
        runtimes=tuple(sorted(settings.runtimes or ("eager",), key=lambda n: n != "eager")),
        rounds=settings.rounds,
        levers=settings.levers,
        shard=settings.shard,
        world=world,
        measured_seconds=_measured_seconds(settings.shard_times) if settings.shard_times else {},
        slowdown=settings.slowdown,
        seed_plan=auto,
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
    """What one session holds: plan, data, weights, model facts, the peak; knows nothing of pytest."""

    def __init__(
        self,
        plan: SuitePlan,
        data: MNISTData,
        say: Callable[[str], None] | None = None,
        say_every_s: float = 30.0,
        fresh_copies: bool = False,
        peaks: tuple[list[float], float | None] | None = None,
    ) -> None:
        """``peaks``: the fp32 peaks (start and end) and bf16 peak another process measured on this machine, taken
        as they are instead of measured (an A/B side's replacement process, started beside the other side's)."""
        self.plan, self.data = plan, data
        self.weights = Weights(plan, data, say=say, say_every_s=say_every_s)
        # A/B: every eager timed call measures its own copy of the weights; a runtime's conversion is made once
        # per side (converting for each block would cost more than the blocks) and the agreement is not redone
        self.fresh_copies = fresh_copies
        self._converted: dict[tuple, Prepared] = {}
        self._facts: dict[str, ModelFacts] = {}
        self._reference: dict[str, Any] = {}  # eager fp32 test logits per case
        self.seed_rounds = None
        if plan.seed_plan:  # --mnist-seeds auto (its statistics import scipy: only then)
            from .rounds import SeedRounds

            self.seed_rounds = SeedRounds(plan, self.weights)
        if peaks is not None:
            self.peaks, self.bf16_peak = list(peaks[0]), peaks[1]
            return
        self.peaks = [matmul_peak_flops(plan.device)]  # at the start, and again at the end (``final_peaks``)
        # bf16 work is set against a bf16 peak measured the same way, where the session runs any
        self.bf16_peak = matmul_peak_flops(plan.device, dtype=torch.bfloat16) if _runs_bf16(plan) else None

    @property
    def peak_flops(self) -> float:
        """The best fp32 matmul rate measured so far in this session: the ceiling for FLOP/s fractions."""
        return max(self.peaks)

    def final_peaks(self) -> list[float]:
        """Every peak measurement of the session, the one at its end taken now (once)."""
        if len(self.peaks) == 1:
            self.peaks.append(matmul_peak_flops(self.plan.device))
        return list(self.peaks)

    def facts(self, case: Case) -> ModelFacts:
        """Parameters and FLOPs per image of the case's model, computed once per session."""
        if case.model not in self._facts:
            self._facts[case.model] = ModelFacts.of(case.spec.build(), case.training.config.batch_size)
        return self._facts[case.model]

    def prepared(self, case: Case, runtime: str, model, x) -> Prepared:
        """``model`` made ready by ``runtime`` for inputs shaped like ``x`` (in A/B, once per side)."""
        key = (case.id, runtime, len(x))
        if key in self._converted:
            return self._converted[key]
        config, plan = case.training.config, self.plan
        options = {"compile": config.compile} if runtime == "eager" else {}
        prepared = get_runtime(runtime).build(case.model, model, x, plan.device, plan.threads, config.precision,
                                              **options)  # fmt: skip
        if self.fresh_copies and runtime != "eager":  # A/B: one conversion per side, timed block after block
            self._converted[key] = prepared
        return prepared

    def agreement(self, case: Case, runtime: str, forward, batch: int) -> dict[str, Any]:
        """A runtime's agreement with eager PyTorch on the whole test set (eager is the reference itself);
        nothing in an A/B worker, which times what the suite's runs have checked."""
        if self.fresh_copies:
            return {}
        if case.id not in self._reference:
            self._reference[case.id] = reference_logits(self.weights.get(case).model, self.data.x_test)
        reference, labels = self._reference[case.id], self.data.y_test
        if runtime == "eager":
            accuracy = float((reference.argmax(1) == labels.cpu()).float().mean())
            return {"agreement": 1.0, "disagreements": 0, "max_logit_diff": 0.0, "runtime_accuracy": accuracy}
        return compare(forward, self.data.x_test, batch, reference, labels)

    def rounds(self, group: GroupSpec) -> int:
        """Timed rounds of one benchmark of ``group`` in this session (the profile's, scaled by --mnist-rounds)."""
        return group.rounds_for(self.plan.profile, self.plan.rounds)

    def trained(self, case: Case) -> Trained:
        """The case's trained weights (a fresh copy of them where every call must have its own)."""
        trained = self.weights.get(case)
        return replace(trained, model=copy.deepcopy(trained.model)) if self.fresh_copies else trained

    def timed_call(self, group: GroupSpec, case: Case, variant: str | None) -> TimedCall:
        """The group's call for ``case``, from its runner; timed groups with the injected slowdown, if any.
        ``NotApplicable`` for a seed that auto seeds do not train, and for the timed groups of a seed beyond
        the first (they measure the first seed's weights)."""
        reason = self._admit(group, case)
        call = runner_for(group.name)(self, case, variant)
        if reason is not None:
            call = replace(call, fields={**call.fields, "seed_reason": reason})
        return call if group.trains else call.slowed(self.plan.slowdown)

    def _admit(self, group: GroupSpec, case: Case) -> str | None:
        if self.seed_rounds is None:
            return None
        if not group.trains:
            if case.seed != self.plan.seeds[0]:
                raise NotApplicable("auto seeds: the timed groups measure the first seed's weights only")
            return None
        runs, reason = self.seed_rounds.why(case)
        if not runs:
            raise NotApplicable(f"auto seeds: {reason}")
        return reason

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
        peak = {"fp32": self.peak_flops, "bf16": self.bf16_peak}.get(measured["precision"])
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
    fresh_copies: bool = False,
    peaks: tuple[list[float], float | None] | None = None,
) -> Session:
    """Resolve ``settings`` (unless already a plan), load the data (unless given: the plugin's
    session fixture loads it, to stop with a usage error if it cannot) and start a session."""
    plan = settings if isinstance(settings, SuitePlan) else resolve(settings)
    return Session(plan, data if data is not None else load_data(plan), say, say_every_s, fresh_copies, peaks)
