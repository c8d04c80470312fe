"""Matching two sets of points one to one: the Hungarian method (Kuhn, 1955) on their
distances, pairs farther apart than a gate left unmatched. The ``tracking`` judge
matches objects to bodies and to tracks with it, the permanence series one frame's
objects to the next's."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def match(a: np.ndarray, b: np.ndarray, gate: float) -> list[tuple[int, int, float]]:
    """``(i, j, distance)`` of the minimum-total-distance pairing of points ``a`` (k, 2)
    with ``b`` (m, 2), keeping the pairs within ``gate``."""
    if not len(a) or not len(b):
        return []
    cost = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)
    rows, cols = linear_sum_assignment(cost)
    return [(int(i), int(j), float(cost[i, j])) for i, j in zip(rows, cols, strict=True)
            if cost[i, j] <= gate]
