"""Spreads a single run cannot measure, taken from committed runs and named: between seeds, between processes.

``reference.json`` beside this module is written by ``studies/process-spread/reference_spread.py`` from committed runs
(``reports/seeds`` for the seeds, ``reports/process-spread`` for the processes); it names each source,
so that a report that leans on it can say where its figure came from.

- ``seed_spread(profile)``: the per-seed variance of test accuracy, pooled over the models, and the typical
  test-set term of a pair (the median over the pairs), for a run with one seed per model.
- ``process_spread(group, model)``: the standard deviation of a time's logarithm between fresh processes
  (each its own warm-up, memory layout and scheduler luck), per model, for latency and throughput.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from statistics import median

REFERENCE = Path(__file__).with_name("reference.json")


@cache
def _reference() -> dict:
    return json.loads(REFERENCE.read_text(encoding="utf-8")) if REFERENCE.is_file() else {}


def seed_spread(profile: str) -> dict | None:
    """``{"source", "seeds", "seed_variance", "image_variance", "n"}`` for ``profile``, or ``None``."""
    return _reference().get("seeds", {}).get(profile)


def process_spread(group: str, model: str) -> float:
    """The sd of log time between processes for ``model`` in ``group``; a model the study did not run gets the
    median of those it did; 0 without any study (and the report says its intervals leave this out)."""
    measured = _reference().get("processes", {}).get(group, {}).get("models", {})
    if model in measured:
        return float(measured[model])
    return float(median(measured.values())) if measured else 0.0


def process_source() -> str | None:
    """The committed run the process spreads come from (``None`` without any)."""
    return _reference().get("processes", {}).get("source")
