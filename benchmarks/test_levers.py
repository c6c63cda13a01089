"""The levers group: each engine setting changed on its own, timed next to the unchanged case.

Runs only with ``--mnist-levers``, e.g.
``pytest benchmarks --benchmark-only --mnist-levers -k levers --mnist-models 'mlp_64,cnn_32_64_fc64'``.
"""

from mnist_models.bench.cases import test_levers

__all__ = ["test_levers"]
