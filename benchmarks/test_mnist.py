"""The benchmark suite: one parametrized case per architecture and seed, in five groups.

Run with ``pytest benchmarks --benchmark-only``; options are listed under
"mnist-models" in ``pytest --help``. The cases live in ``mnist_models.bench.cases``, so that
any project can collect them next to its own architectures.
"""

from mnist_models.bench.cases import test_engine, test_latency, test_throughput, test_train, test_train_step

__all__ = ["test_engine", "test_latency", "test_throughput", "test_train", "test_train_step"]
