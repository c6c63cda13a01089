"""On-disk cache of trained weights, keyed by everything that determines them."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..data.digest import combine, tensors_digest
from ..files import atomic_write_bytes
from ..results.outcome import TrainResult


class CacheWarning(UserWarning):
    """A cache entry was unusable (corrupt or for other inputs) and is being retrained, or the cache cannot be
    written (read-only: the session goes on without writing) or is held too long by another session."""


# How long a session waits for another one training the same entry before it trains it too: the longest training
# of the full profile on a 2-core CPU is about 12 minutes; an hour means the other session is stuck, not slow.
LOCK_TIMEOUT_S = 3600.0
_READ_ONLY = (errno.EACCES, errno.EPERM, errno.EROFS)
_FULL = (errno.ENOSPC, errno.EDQUOT)  # a full disk: the weights are as good in memory; the session goes on


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

    def __init__(self, directory: str | Path, lock_timeout_s: float = LOCK_TIMEOUT_S) -> None:
        self.directory = Path(directory).expanduser()
        self.lock_timeout_s = lock_timeout_s
        self.read_only = False  # set at the first write refused: warned once, then no more writes are tried

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

    @contextlib.contextmanager
    def claim(self, inputs: dict[str, Any], waiting: Callable[[str], None] | None = None) -> Iterator[None]:
        """Hold the entry's lock (``<key>.pt.lock``, an OS file lock: released when its process dies) while the
        entry is looked up, trained and written, so that concurrent sessions on one cache train it once: the second
        waits for the first's entry. ``waiting`` is told once if it has to wait. Past ``lock_timeout_s`` it goes on
        without the lock (one warning): the write is atomic, the cost is training twice. A cache that cannot be
        written has no lock to take: the session goes on (``save`` warns once).
        """
        from filelock import FileLock, Timeout

        if self.read_only:
            yield
            return
        path = self.path(inputs)
        lock = FileLock(f"{path}.lock")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                lock.acquire(timeout=0)
            except Timeout:
                if waiting is not None:
                    waiting(f"waiting for another session writing {path.name} (its lock {path.name}.lock)")
                lock.acquire(timeout=self.lock_timeout_s)
        except Timeout:
            warnings.warn(
                f"{path}.lock held by another session for over {self.lock_timeout_s:.0f} s; training here too "
                "(remove the .lock file if no session uses this cache)", CacheWarning, stacklevel=3)  # fmt: skip
            yield
            return
        except OSError as exc:
            if exc.errno not in _READ_ONLY:
                raise
            self._refused(exc)
            yield
            return
        try:
            yield
        finally:
            lock.release()

    def _refused(self, exc: OSError) -> None:
        if not self.read_only:
            warnings.warn(
                f"weight cache {self.directory} cannot be written ({exc.strerror or exc}); going on without caching: "
                "trained weights stay in memory for this session (free space, or give --mnist-cache-dir a writable folder)",
                CacheWarning,
                stacklevel=4,
            )
        self.read_only = True

    def save(self, inputs: dict[str, Any], state_dict: dict[str, torch.Tensor], outcome: TrainResult) -> Path | None:
        """Write an entry atomically; return its path (``None``: the cache cannot be written, warned once)."""
        if self.read_only:
            return None
        buffer = io.BytesIO()
        blob = {
            "inputs": json.dumps(inputs, sort_keys=True, default=str),
            "outcome": json.dumps(outcome.to_json()),
            "state_dict": {k: v.detach().cpu().contiguous() for k, v in state_dict.items()},
        }
        blob["digest"] = entry_digest(blob["inputs"], blob["outcome"], blob["state_dict"])
        torch.save(blob, buffer)
        path = self.path(inputs)
        try:
            atomic_write_bytes(path, buffer.getvalue())
        except OSError as exc:
            if exc.errno not in _READ_ONLY + _FULL:
                raise
            self._refused(exc)
            return None
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
