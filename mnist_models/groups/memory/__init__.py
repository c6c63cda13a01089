"""The memory groups (``memory-train``, ``memory``): importing them registers their specs and runners."""

from __future__ import annotations

from .. import FOREIGN


def train(context, case, variant=None, **options):
    """Optimiser steps' peak; the runner's module (and torch) imported on the first call."""
    from .runner import train

    return train(context, case, variant, **options)


def inference(context, case, variant=None, **options):
    """Batch-1 and batched inference's peaks per runtime; the runner's module imported on the first call."""
    from .runner import inference

    return inference(context, case, variant, **options)


if not FOREIGN:
    from ...bench.runners import register_runner
    from ...results.groups import register_group
    from .spec import INFERENCE, INFERENCE_SPEC, TRAIN, TRAIN_SPEC

    register_group(TRAIN_SPEC)
    register_group(INFERENCE_SPEC)
    register_runner(TRAIN)(train)
    register_runner(INFERENCE)(inference)
