"""Benchmark profiles: how much data, how many epochs and how many timing rounds each run uses.

Imports nothing heavy: the plugin reads the profile names when pytest starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models.registry import ModelSpec


@dataclass(frozen=True)
class Profile:
    """One way to run the suite. Per-architecture epochs and floors live in the registry."""

    name: str
    description: str
    subset: tuple[int, int, int] | None = None  # (train, val, test) sizes; None = the full splits
    max_epochs: int | None = None  # overrides every spec (smoke); None = spec's or the protocol's
    early_stopping: bool = True
    step_rounds: int = 10  # train-step case
    step_target_flop: float = 2e10  # FLOPs per train-step round: sets the steps per round
    latency_rounds: int = 200
    throughput_rounds: int = 20
    throughput_batch: int = 512

    def floor(self, spec: ModelSpec, dataset: str = "mnist") -> float | None:
        """The accuracy floor for ``spec`` under this profile (see ``ModelSpec.floor``)."""
        return spec.floor(self.name, dataset)


DEFAULT_PROFILE = "quick"  # what a session runs unless told otherwise

PROFILES = {
    "smoke": Profile(
        "smoke",
        "a few hundred images, one epoch: proves the wiring in seconds",
        subset=(600, 200, 1000),
        max_epochs=1,
        early_stopping=False,
        step_rounds=5,
        step_target_flop=2e9,
        latency_rounds=20,
        throughput_rounds=3,
        throughput_batch=256,
    ),
    "quick": Profile(
        "quick",
        "the full training split, 1 to 5 epochs per architecture (set beside each one): every model compared in "
        "minutes on a laptop-class CPU (the README gives the measured duration)",
        early_stopping=False,
    ),
    "full": Profile(
        "full",
        "the original notebook's protocol: up to 100 epochs, early stopping with patience 10",
        step_rounds=20,
        latency_rounds=500,
        throughput_rounds=50,
    ),
}
