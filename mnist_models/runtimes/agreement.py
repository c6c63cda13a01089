"""Agreement before speed: a runtime's predictions against eager PyTorch's, on the whole test set.

The reference is the eager fp32 model's logits (batch 1,000). A runtime is run at the batch size
it is timed at, on every test image (the last batch padded with the first images), so the very
graph that is timed is the one checked. The images only one of the two classifies right are counted
each way: McNemar's test of the runtime's accuracy against eager's needs nothing else.
"""

from __future__ import annotations

import torch

from ..training.evaluation import predict


def reference_logits(model, x_test: torch.Tensor) -> torch.Tensor:
    """Eager fp32 logits for every test image (on the CPU)."""
    return predict(model, x_test).float().cpu()


def compare(forward, x_test: torch.Tensor, batch: int, reference: torch.Tensor, labels: torch.Tensor) -> dict:
    """Top-1 agreement with ``reference``, images whose class differs, the largest logit difference, the runtime's
    own test accuracy and the images only the reference (``fp32_only_correct``) or only the runtime classifies
    right, from ``forward`` run on all of ``x_test`` in batches of ``batch``."""
    n, outputs = len(x_test), []
    for start in range(0, n, batch):
        chunk = x_test[start : start + batch]
        short = batch - len(chunk)
        if short:
            chunk = torch.cat([chunk, x_test[:short]])
        outputs.append(forward(chunk).float().cpu()[: batch - short])
    logits = torch.cat(outputs)
    predicted, expected, labels = logits.argmax(1), reference.argmax(1), labels.cpu()
    differ = int((predicted != expected).sum())
    right, reference_right = predicted == labels, expected == labels
    return {
        "agreement": 1 - differ / n,
        "disagreements": differ,
        "max_logit_diff": float((logits - reference).abs().max()),
        "runtime_accuracy": float(right.float().mean()),
        "fp32_only_correct": int((reference_right & ~right).sum()),
        "runtime_only_correct": int((right & ~reference_right).sum()),
    }
