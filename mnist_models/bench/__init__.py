"""The benchmark suite: the pytest plugin and everything that turns a benchmark into a result record.

- ``plugin``: pytest hooks and fixtures; ``options``: the ``--mnist-*`` options and ini keys;
  ``settings``: what a session was asked for, as plain data (the plugin's and ``mnist-models ab``'s);
  ``finish``: the report and the ``--mnist-fail-on`` gate after the run.
- ``cases``: the suite's test functions, one per registered group, for any project to collect.
- ``profiles``: the suite's settings as data (the levers are the levers group's, ``groups/levers``).
- ``config``: the resolved configuration, and ``resolve_training``, the one place a ``TrainConfig``
  is made (with where each setting came from); ``shards``: the split across machines.
- ``session``: ``open_session``, the one session builder (plugin and A/B worker), and the records
  benchmarks make; ``run_json``: the run's machine facts and its JSON (ours added, or all of it
  through pytest-benchmark's serialisation for the A/B worker).
- ``weights``: each (model, seed)'s weights, trained once, kept, cached on disk (``cache``).
- ``runners``: each group's runner, by name (the groups' own live in ``mnist_models.groups``);
  ``context``: the session's concerns (peaks, facts, conversions, agreement, seed admission, ``Mode``) and
  ``RunContext``, what a runner receives; ``timing``: ``TimedCall`` and how its rounds are summarised
  (``Session.measure`` is the one path from a timed call through pytest-benchmark to a record).

Writes what ``mnist_models.results`` defines; calls ``report`` only to write the report after a
run. Importing the package, ``plugin``, ``options`` or ``settings`` imports no torch: pytest loads
the plugin in every project that installs mnist-models.
"""
