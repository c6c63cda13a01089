"""The benchmark suite: the pytest plugin and everything that turns a case into a result record.

- ``plugin``: pytest hooks and session fixtures; ``options``: the ``--mnist-*`` options, parsed;
  ``finish``: the report and the ``--mnist-fail-on`` gate after the run.
- ``cases``: the suite's test functions (one per group), for any project to collect.
- ``groups``, ``profiles``, ``levers``: the suite's groups and settings, as data.
- ``config``: the session's resolved configuration and the shards' costs; ``shards``: the split.
- ``weights``: each (model, seed)'s weights, trained once, kept, cached on disk (``cache``).
- ``runners``: each group's ``TimedCall``; ``timing``: ``measure``, the one path from a timed
  call through pytest-benchmark to a record.
- ``session``: ``Suite``, the fixture holding the above, and the record each case makes.
- ``record``: ``BenchmarkRecord``, the one contract between the suite and the report.

Importing the package, ``plugin`` or ``options`` imports no torch: pytest loads the plugin in
every project that installs mnist-models.
"""
