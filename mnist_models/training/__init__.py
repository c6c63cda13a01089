"""Training and evaluating one model, apart from any benchmark.

- ``config``: ``TrainConfig`` (the notebook's protocol as defaults), precisions, accuracy targets.
- ``loop``: ``train`` (early stopping, best-epoch restore, honest clocks).
- ``result``: ``TrainResult`` and ``Evaluation``, what training produced (numpy only, no torch).
- ``stepper``: the hot loop of optimiser steps that training and the train-step benchmarks share.
- ``evaluation``: test-set scores (accuracy with a Wilson interval, per-class metrics, predictions).
- ``device``: choosing the device and threads, synchronised timing, the matmul peak.
- ``distributed``: torchrun and DDP (one process group, this rank's slice of each batch).

The package import is light (the plugin reads torchrun's environment through it); ``config``
and ``result`` import no torch, the other modules do.
"""
