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

from ..data.digest import combine, tensors_digest
from ..files import atomic_write_bytes
from ..results.outcome import TrainResult


class CacheWarning(UserWarning):
    """A cache entry was unusable (corrupt or for other inputs) and is being retrained."""


@dataclass(frozen=True)
class CacheEntry:
    state_dict: dict[str, torch.Tensor]
    outcome: TrainResult


class WeightCache:
    """``<dir>/<key>.pt`` files holding the key's inputs, the weights, the training outcome and their digest.

    The key is a SHA-256 of the inputs (architecture, training config, profile, seed,
    dataset checksum and content digest, torch version, device type); the inputs are stored too and
    compared on load, so a hash collision or a hand-copied file is caught. The digest covers the
    inputs, the outcome and every tensor, so a damaged file is retrained, never timed, and the
    accuracy an entry reports is that of the weights it holds.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory).expanduser()

    @staticmethod
    def key(inputs: dict[str, Any]) -> str:
        return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()[:24]

    def path(self, inputs: dict[str, Any]) -> Path:
        return self.directory / f"{self.key(inputs)}.pt"

    def load(self, inputs: dict[str, Any], fits: dict[str, torch.Tensor] | None = None) -> CacheEntry | None:
        """The entry for ``inputs``, or ``None`` (with one :class:`CacheWarning` if one was there but bad).

        ``fits``: the model's own state dict; an entry whose weights do not fit it (keys, shapes) is bad too.
        """
        path = self.path(inputs)
        if not path.is_file():
            return None
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
            state = blob["state_dict"]
            if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
                raise ValueError("its weights are not a state dict")
            if blob.get("digest") != entry_digest(blob["inputs"], blob["outcome"], state):
                raise ValueError("its content does not match its SHA-256 digest (a damaged file)")
            stored = json.loads(blob["inputs"])
            if stored != json.loads(json.dumps(inputs, sort_keys=True, default=str)):
                raise ValueError("it was written for different inputs")
            misfit = None if fits is None else state_misfit(fits, state)
            if misfit:
                raise ValueError(f"its state dict does not fit the model: {misfit}")
            outcome = TrainResult.from_json(json.loads(blob["outcome"]))
        except Exception as exc:  # any failure to read means: do not trust it
            reason = (str(exc).strip().splitlines() or [""])[0].split(". ")[0]
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
        blob["digest"] = entry_digest(blob["inputs"], blob["outcome"], blob["state_dict"])
        torch.save(blob, buffer)
        path = self.path(inputs)
        atomic_write_bytes(path, buffer.getvalue())
        return path


def entry_digest(inputs: str, outcome: str, state_dict: dict[str, torch.Tensor]) -> str:
    """SHA-256 of an entry's inputs and outcome (as stored, JSON text) and of its tensors: one flipped byte
    anywhere in them changes it."""
    return combine([inputs, outcome, tensors_digest(state_dict)])


def state_misfit(expected: dict[str, torch.Tensor], given: dict[str, torch.Tensor]) -> str:
    """What keeps ``given`` from loading into a model whose state dict is ``expected`` (``""``: nothing), in one
    line: missing and unexpected keys, and shapes that differ."""
    problems = []
    missing = [k for k in expected if k not in given]
    unexpected = [k for k in given if k not in expected]
    shapes = [
        f"{k} {tuple(given[k].shape)} instead of {tuple(expected[k].shape)}"
        for k in expected
        if k in given and given[k].shape != expected[k].shape
    ]
    for label, names in (("missing", missing), ("unexpected", unexpected), ("shape of", shapes)):
        if names:
            more = f" and {len(names) - 3} more" if len(names) > 3 else ""
            problems.append(f"{label} {', '.join(names[:3])}{more}")
    return "; ".join(problems)
