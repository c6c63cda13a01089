"""Pareto fronts: the points no other point beats on both axes."""

from __future__ import annotations

import numpy as np


def pareto_front(cost: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Boolean mask of points no other point beats (lower or equal cost and higher or equal score, one strictly)."""
    cost, score = np.asarray(cost, float), np.asarray(score, float)
    mask = np.ones(len(cost), bool)
    for i in range(len(cost)):
        better = (cost <= cost[i]) & (score >= score[i]) & ((cost < cost[i]) | (score > score[i]))
        mask[i] = not better.any()
    return mask
