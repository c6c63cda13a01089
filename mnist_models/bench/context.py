"""What a session is made of, one small object per concern, and ``RunContext``: what a group's runner receives.

``Mode`` says what kind of session it is (the suite's, or an A/B side's) and each concern reads from it the
one behaviour it changes; ``Peaks`` (the matmul peaks a rate is set against), ``Facts`` (a model's parameters
and FLOPs, once), ``Conversions`` (a runtime's prepared model), ``AgreementCheck`` (a runtime's predictions
against eager PyTorch's) and ``SeedAdmission`` (which seeds auto seeds run) are each a few lines; the
session composes them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING, Any

import torch

from ..models.facts import ModelFacts
from ..results.groups import GroupSpec
from ..runtimes.agreement import compare, reference_logits
from ..runtimes.base import Prepared, calibration_images, get_runtime
from ..training.device import matmul_peak_flops
from .timing import NotApplicable

if TYPE_CHECKING:
    from ..data.dataset import MNISTData
    from .plan import Case, SuitePlan
    from .weights import Trained, Weights


class Mode(str, Enum):
    """The kind of session, and so how its benchmarks treat weights, conversions and agreement."""

    SUITE = "suite"  # a pytest session: the session's weights shared by its calls, every runtime's agreement checked
    AB_WORKER = "ab-worker"  # an A/B side: a fresh copy of the weights per eager call, one conversion per side

    @property
    def copies_weights(self) -> bool:
        """Every eager timed call measures its own copy of the weights."""
        return self is Mode.AB_WORKER

    @property
    def keeps_conversions(self) -> bool:
        """A runtime's conversion is made once and reused: converting for each A/B block costs more than it."""
        return self is Mode.AB_WORKER

    @property
    def checks_agreement(self) -> bool:
        """Agreement with eager is measured; an A/B side times what the suite's runs have checked."""
        return self is Mode.SUITE


class Peaks:
    """The fp32 matmul peak at the start and end of the session, and the bf16 one where bf16 work is timed."""

    def __init__(self, device, runs_bf16: bool, measured: tuple[list[float], float | None] | None = None) -> None:
        """``measured``: the peaks another process measured on this machine, taken as they are (an A/B side's
        replacement process, started beside the other side's)."""
        self.device = device
        if measured is not None:
            self.fp32, self.bf16 = list(measured[0]), measured[1]
            return
        self.fp32 = [matmul_peak_flops(device)]  # at the start, and again at the end (``final``)
        self.bf16 = matmul_peak_flops(device, dtype=torch.bfloat16) if runs_bf16 else None

    @property
    def best(self) -> float:
        """The best fp32 matmul rate measured so far in this session: the ceiling for FLOP/s fractions."""
        return max(self.fp32)

    def of(self, precision: str) -> float | None:
        """The peak a rate of ``precision`` is set against (measured alike), or ``None``."""
        return {"fp32": self.best, "bf16": self.bf16}.get(precision)

    def final(self) -> list[float]:
        """Every fp32 peak measurement of the session, the one at its end taken now (once)."""
        if len(self.fp32) == 1:
            self.fp32.append(matmul_peak_flops(self.device))
        return list(self.fp32)


class Facts:
    """Parameters and FLOPs per image of each case's model, computed once per session."""

    def __init__(self) -> None:
        self._facts: dict[str, ModelFacts] = {}

    def __call__(self, case: Case) -> ModelFacts:
        if case.model not in self._facts:
            self._facts[case.model] = ModelFacts.of(case.spec.build(), case.training.config.batch_size)
        return self._facts[case.model]


class Conversions:
    """A runtime's prepared model for a case; kept for reuse where the mode says so. A runtime that calibrates is
    given its sample of the training split (``calibration_images``), the same for every case of the session."""

    def __init__(self, plan: SuitePlan, mode: Mode, x_train: torch.Tensor) -> None:
        self.plan, self.mode, self.x_train = plan, mode, x_train
        self._kept: dict[tuple, Prepared] = {}
        self._calibration: dict[int, torch.Tensor] = {}  # per sample size

    def prepared(self, case: Case, runtime: str, model, x) -> Prepared:
        """``model`` made ready by ``runtime`` for inputs shaped like ``x``."""
        key = (case.id, runtime, len(x))
        if key in self._kept:
            return self._kept[key]
        config, plan = case.training.config, self.plan
        options = self.options(case, runtime)
        prepared = get_runtime(runtime).build(
            case.model, model, x, plan.device, plan.threads, config.precision, **options
        )
        if self.mode.keeps_conversions and runtime != "eager":
            self._kept[key] = prepared
        return prepared

    def options(self, case: Case, runtime: str) -> dict:
        """What ``runtime``'s ``build`` is given beside the model for ``case``: eager's compile setting, a
        calibrating runtime's sample of the training split (the memory probes build with the same)."""
        options = {"compile": case.training.config.compile} if runtime == "eager" else {}
        if count := get_runtime(runtime).calibration:
            options["calibration"] = self.calibration(count)
        return options

    def calibration(self, count: int) -> torch.Tensor:
        """``count`` images of the training split, drawn once (never a validation or a test image)."""
        if count not in self._calibration:
            self._calibration[count] = calibration_images(self.x_train, count)
        return self._calibration[count]


class AgreementCheck:
    """A runtime's agreement with eager PyTorch on the whole test set (eager is the reference itself)."""

    def __init__(self, weights: Weights, data: MNISTData, mode: Mode) -> None:
        self.weights, self.data, self.mode = weights, data, mode
        self._reference: dict[str, Any] = {}  # eager fp32 test logits per case

    def __call__(self, case: Case, runtime: str, forward, batch: int) -> dict[str, Any]:
        if not self.mode.checks_agreement:
            return {}
        if case.id not in self._reference:
            self._reference[case.id] = reference_logits(self.weights.get(case).model, self.data.x_test)
        reference, labels = self._reference[case.id], self.data.y_test
        if runtime == "eager":
            accuracy = float((reference.argmax(1) == labels.cpu()).float().mean())
            return {"agreement": 1.0, "disagreements": 0, "max_logit_diff": 0.0, "runtime_accuracy": accuracy,
                    "fp32_only_correct": 0, "runtime_only_correct": 0}  # fmt: skip
        return compare(forward, self.data.x_test, batch, reference, labels)


class SeedAdmission:
    """Which (group, case) a session with auto seeds runs; every one without them."""

    def __init__(self, plan: SuitePlan, weights: Weights) -> None:
        self.plan, self.rounds = plan, None
        if plan.seed_plan:  # --mnist-seeds auto (its statistics import scipy: only then)
            from .rounds import SeedRounds

            self.rounds = SeedRounds(plan, weights)

    def admit(self, group: GroupSpec, case: Case) -> str | None:
        """The reason a training seed runs (auto seeds), ``None`` without one; ``NotApplicable`` for a seed auto
        seeds do not train, and for the timed groups of a seed beyond the first (they measure the first seed's)."""
        if self.rounds is None:
            return None
        if not group.trains:
            if case.seed != self.plan.seeds[0]:
                raise NotApplicable("auto seeds: the timed groups measure the first seed's weights only")
            return None
        runs, reason = self.rounds.why(case)
        if not runs:
            raise NotApplicable(f"auto seeds: {reason}")
        return reason


@dataclass(frozen=True)
class RunContext:
    """What a group's runner receives: the session's plan, data and weights, and the services it may call."""

    plan: SuitePlan
    data: MNISTData
    weights: Weights
    facts: Facts  # ``facts(case)``: the model's parameters and FLOPs
    conversions: Conversions
    agreement: AgreementCheck  # ``agreement(case, runtime, forward, batch)``: the record's agreement fields
    mode: Mode = Mode.SUITE

    def rounds(self, group: GroupSpec) -> int:
        """Timed rounds of one benchmark of ``group`` (the profile's, scaled by --mnist-rounds)."""
        return group.rounds_for(self.plan.profile, self.plan.rounds)

    def trained(self, case: Case) -> Trained:
        """The case's trained weights (a fresh copy of them where the mode wants one per call)."""
        trained = self.weights.get(case)
        return replace(trained, model=copy.deepcopy(trained.model)) if self.mode.copies_weights else trained

    def prepared(self, case: Case, runtime: str, model, x) -> Prepared:
        """``model`` made ready by ``runtime`` for inputs shaped like ``x`` (``Conversions.prepared``)."""
        return self.conversions.prepared(case, runtime, model, x)
