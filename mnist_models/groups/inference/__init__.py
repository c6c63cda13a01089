"""The inference groups (``latency``, ``throughput``): importing them registers their specs and runners."""

from __future__ import annotations

from .. import FOREIGN


def latency(context, case, variant=None, **options):
    """Batch-1 inference; the runner's module (and torch) imported on the first call."""
    from .runner import latency

    return latency(context, case, variant, **options)


def throughput(context, case, variant=None, **options):
    """Batched inference; the runner's module (and torch) imported on the first call."""
    from .runner import throughput

    return throughput(context, case, variant, **options)


if not FOREIGN:
    from ...bench.runners import register_runner
    from ...results.groups import register_group
    from .spec import LATENCY, LATENCY_SPEC, THROUGHPUT, THROUGHPUT_SPEC

    register_group(LATENCY_SPEC)
    register_group(THROUGHPUT_SPEC)
    register_runner(LATENCY)(latency)
    register_runner(THROUGHPUT)(throughput)
