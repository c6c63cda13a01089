"""Paired, interleaved A/B measurement of two versions of the code on one machine, and its gate.

- ``worker``: one side, a long-lived process importing its own tree's code, timing blocks of
  rounds of the suite's timed calls on request (JSON lines on stdin/stdout).
- ``coordinator``: starts both sides, checks they measure the same thing, alternates their
  blocks in a random order per pair, writes a stock pytest-benchmark JSON per side.
- ``protocol``: the worker protocol's versions, what each adds, and the one this tree's worker speaks.
- ``paired``: the comparison pair by pair and the gate (Holm across cases), each benchmark's outcome a
  ``verdict.Verdict``, written as ``ab.csv`` by ``verdict.table_of``.

``mnist-models ab --base REF`` runs it; see the README's "Comparing runs and gating regressions".
"""
