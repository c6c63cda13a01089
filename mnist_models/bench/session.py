"""The session: its config, data, weights and runners together, and the record each case makes."""

from __future__ import annotations

import torch
import torchvision

from ..models.facts import ModelFacts
from ..models.registry import ModelSpec
from ..training.device import matmul_peak_flops
from .groups import Group
from .record import BenchmarkRecord
from .runners import Runners
from .weights import Trained, Weights


class Suite:
    """What the plugin's ``mnist_suite`` fixture holds for one session; knows nothing of pytest.

    ``weights`` trains or reuses each (model, seed)'s weights; ``runners`` builds the timed
    calls; ``record`` assembles a case's result from both and the model's facts.
    """

    def __init__(self, weights: Weights) -> None:
        self.config, self.data = weights.config, weights.data
        self.weights = weights
        self.runners = Runners(self.config, self.data, self.facts)
        self._facts: dict[str, ModelFacts] = {}
        self.peak_flops = matmul_peak_flops(self.config.device)  # once per session: the ceiling for FLOP/s fractions

    def facts(self, spec: ModelSpec) -> ModelFacts:
        """Parameters and FLOPs per image of ``spec``, computed once per session."""
        if spec.display_name not in self._facts:
            batch = self.config.train_config(spec, 0).batch_size
            self._facts[spec.display_name] = ModelFacts.of(spec.build(), batch)
        return self._facts[spec.display_name]

    def record(self, group: Group, spec: ModelSpec, seed: int, trained: Trained, **measured) -> BenchmarkRecord:
        """The case's record: what it measured, with the model's facts, floor and training outcome."""
        facts = self.facts(spec)
        config = self.config.train_config(spec, seed)
        measured.setdefault("precision", config.precision)
        measured.setdefault("compiled", config.compile)
        measured.setdefault("threads", self.config.threads)
        if measured.get("achieved_flops"):
            measured["peak_flops"] = self.peak_flops
            measured["peak_fraction"] = measured["achieved_flops"] / self.peak_flops
        floor = self.config.profile.floor(spec, self.data.name)
        return BenchmarkRecord(
            case=Group(group).value,
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
            **measured,
        )


def versions() -> dict[str, str]:
    return {"torch": torch.__version__, "torchvision": torchvision.__version__}
