"""The benchmark suite: one parametrized case per architecture and seed in every registered benchmark group.

Run with ``pytest benchmarks --benchmark-only``; options are listed under "mnist-models" in
``pytest --help``. The cases live in ``mnist_models.bench.cases``, made from the group registry,
so that any project can collect them next to its own architectures; a group that runs only when
asked (``levers``: ``--mnist-levers``) is left out of the session otherwise.
"""

from mnist_models.bench.cases import *  # noqa: F403  (every registered group's test function)
