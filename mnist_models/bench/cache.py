"""On-disk cache of trained weights, keyed by everything that determines them."""

from __future__ import annotations

import hashlib
import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..files import atomic_write_bytes
from ..results.outcome import TrainResult


class CacheWarning(UserWarning):
    """A cache entry was unusable (corrupt or for other inputs) and is being retrained."""


@dataclass(frozen=True)
class CacheEntry:
    state_dict: dict[str, torch.Tensor]
    outcome: TrainResult


class WeightCache:
    """``<dir>/<key>.pt`` files holding the key's inputs, the weights and the training outcome.

    The key is a SHA-256 of the inputs (architecture, training config, profile, seed,
    dataset checksum, torch version, device type); the inputs are stored too and
    compared on load, so a hash collision or a hand-copied file is caught.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory).expanduser()

    @staticmethod
    def key(inputs: dict[str, Any]) -> str:
        return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()[:24]

    def path(self, inputs: dict[str, Any]) -> Path:
        return self.directory / f"{self.key(inputs)}.pt"

    def load(self, inputs: dict[str, Any]) -> CacheEntry | None:
        """The entry for ``inputs``, or ``None`` (with a :class:`CacheWarning` if one was there but bad)."""
        path = self.path(inputs)
        if not path.is_file():
            return None
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
            stored = json.loads(blob["inputs"])
            if stored != json.loads(json.dumps(inputs, sort_keys=True, default=str)):
                raise ValueError("it was written for different inputs")
            outcome = TrainResult.from_json(json.loads(blob["outcome"]))
            state = blob["state_dict"]
            if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
                raise ValueError("its weights are not a state dict")
        except Exception as exc:  # any failure to read means: do not trust it
            reason = str(exc).split(". ")[0]
            warnings.warn(
                f"ignoring cache entry {path} ({type(exc).__name__}: {reason}); retraining", CacheWarning, stacklevel=2
            )
            return None
        return CacheEntry(state, outcome)

    def save(self, inputs: dict[str, Any], state_dict: dict[str, torch.Tensor], outcome: TrainResult) -> Path:
        """Write an entry atomically; return its path."""
        buffer = io.BytesIO()
        blob = {
            "inputs": json.dumps(inputs, sort_keys=True, default=str),
            "outcome": json.dumps(outcome.to_json()),
            "state_dict": {k: v.detach().cpu().contiguous() for k, v in state_dict.items()},
        }
        torch.save(blob, buffer)
        path = self.path(inputs)
        atomic_write_bytes(path, buffer.getvalue())
        return path
