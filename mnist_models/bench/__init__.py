"""The benchmark suite: the pytest plugin and everything that turns a case into a result record.

- ``plugin``: pytest hooks and session fixtures; ``options``: the ``--mnist-*`` options, parsed.
- ``cases``: the suite's test functions (one per group), for any project to collect.
- ``profiles``, ``levers``, ``groups``: the suite's settings as data.
- ``session``: the session's weights (train, reuse, cache) and model facts.
- ``timing``: ``TimedCall``, what every runner returns, and ``measure``, the one path from a
  timed call through pytest-benchmark to a record; ``runners`` builds the timed calls.
- ``record``: ``BenchmarkRecord``, the one contract between the suite and the report.
- ``cache``, ``shards``, ``gate``: weight cache, shard assignment, regression-gate rules.

Importing the package or ``plugin`` imports no torch: pytest loads the plugin in every
project that installs mnist-models.
"""
