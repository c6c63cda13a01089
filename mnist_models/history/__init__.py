"""History across many saved runs: series per machine, model and benchmark, and the change points in them.

- ``series``: saved runs (pytest-benchmark storage, merged shard runs, A/B outputs) -> one series
  per (machine identity, model, benchmark, metric), ordered by commit time; a series never mixes
  machine identities.
- ``detect``: change points in one series. Times: PELT (``ruptures``, Killick et al. 2012) on the
  logs, then each step tested (Welch's t-test, Holm across a series' steps) and kept only beyond a
  threshold; accuracy: McNemar's test between consecutive runs of one seed.
- ``build``: the history page (the report's template and style), its summary and ``--fail-on-change``.

``mnist-models history`` runs it; ``studies/history/history_power.py`` measures the detector.
"""
