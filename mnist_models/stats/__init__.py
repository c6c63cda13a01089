"""Statistics the verdicts rest on, shared by the report, the A/B gate and the history: pure functions of arrays.

- ``multiple``: Holm's step-down correction across a family of tests.
- ``paired``: McNemar's test on two classifiers' paired correctness; the trimmed-mean test of paired
  log ratios that the A/B gate uses.
- ``seeds``: architectures compared across training seeds and the test sample.
- ``pareto``: which points no other point beats on two axes.

Numpy, scipy and statsmodels only; nothing of the suite, the report or the gate.
"""
