"""Corrections for a family of tests."""

from __future__ import annotations

import numpy as np


def holm(p_values: list[float] | np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values (the family-wise error rate stays at the level used); NaN counts as 1.

    The same numbers as ``statsmodels.stats.multitest.multipletests(p, method="holm")[1]`` (a test
    checks it), computed here because that function runs ``gc.collect()`` on every call: 50-200 ms in
    a process that holds torch, for each of the dozens of families a report or a history tests.
    """
    p = np.nan_to_num(np.asarray(p_values, float), nan=1.0)
    if p.size == 0:
        return p
    order = np.argsort(p)
    stepped = np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1))
    out = np.empty_like(p)
    out[order] = np.minimum(stepped, 1.0)
    return out
