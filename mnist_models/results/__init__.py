"""The contract between the suite that measures and everything that reads what it measured.

Below both the benchmark suite (``bench``, which writes records) and the readers (``report``,
``history``, ``ab``), and importing neither; no torch.

- ``record``: ``BenchmarkRecord``, its schema version and JSON Schema (``record.schema.json``),
  validation, schema upgrades, one outcome per (model, seed) in a saved run; ``case_id``, the
  one way a (model, seed) case is named, and ``benchmark_key``.
- ``groups``: the benchmark groups as specs (``GROUPS``, ``register_group``).
- ``runs``: reading saved pytest-benchmark runs, finding them in storage, upgrading them.
- ``machine``: what a run says about its machine; the identity times may be compared within.
"""
