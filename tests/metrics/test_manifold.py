"""Precision/recall and density/coverage: hand-made answers, limits, a brute-force twin."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from genlab.metrics.manifold import coverage, density, knn_sq_radii, precision, recall

LINE_REF = np.arange(6.0)[:, None]  # 0, 1, ..., 5: every k=1 radius is 1
LINE_GEN = np.array([[0.5], [2.5], [10.0]])


def test_hand_made_line() -> None:
    # gen radii (k=1): 0.5 -> 2, 2.5 -> 2, 10 -> 7.5; the balls [-1.5, 2.5], [0.5, 4.5],
    # [2.5, 17.5] hold every reference point.
    assert precision(LINE_GEN, LINE_REF, k=1) == pytest.approx(2 / 3)
    assert recall(LINE_GEN, LINE_REF, k=1) == 1.0
    assert density(LINE_GEN, LINE_REF, k=1) == pytest.approx(4 / 3)  # 2 + 2 + 0 balls
    assert coverage(LINE_GEN, LINE_REF, k=1) == pytest.approx(4 / 6)  # 0..3 covered


def test_ball_boundary_is_inside() -> None:
    gen = np.array([[6.0]])  # exactly 1 from the point 5, whose k=1 radius is 1
    assert precision(gen, LINE_REF, k=1) == 1.0


def test_identical_sets() -> None:
    x = np.random.default_rng(0).standard_normal((150, 10))
    assert precision(x, x) == recall(x, x) == coverage(x, x) == 1.0
    assert density(x, x) >= 1 / 5  # each sample lies in its own ball at least


def test_far_disjoint_clusters() -> None:
    rng = np.random.default_rng(1)
    ref, gen = rng.standard_normal((100, 6)), rng.standard_normal((80, 6)) + 100.0
    for fn in (precision, recall, density, coverage):
        assert fn(gen, ref) == 0.0


def test_precision_and_recall_swap_roles() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((90, 5)), rng.standard_normal((70, 5)) * 1.5
    assert precision(a, b) == recall(b, a)


def _brute(gen: np.ndarray, ref: np.ndarray, k_pr: int = 3, k_dc: int = 5
           ) -> tuple[float, float, float, float]:
    """The four metrics straight from their papers' definitions."""
    def radii(x: np.ndarray, k: int) -> np.ndarray:
        d = cdist(x, x)
        np.fill_diagonal(d, np.inf)
        return np.sort(d, axis=1)[:, k - 1]

    d_rg = cdist(ref, gen)  # (n_r, n_g)
    r3, r5, g3 = radii(ref, k_pr), radii(ref, k_dc), radii(gen, k_pr)
    prec = np.mean([(d_rg[:, j] <= r3).any() for j in range(len(gen))])
    rec = np.mean([(d_rg[i, :] <= g3).any() for i in range(len(ref))])
    dens = sum((d_rg[:, j] <= r5).sum() for j in range(len(gen))) / (k_dc * len(gen))
    cov = np.mean([(d_rg[i, :] <= r5[i]).any() for i in range(len(ref))])
    return float(prec), float(rec), float(dens), float(cov)


def test_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    ref, gen = rng.standard_normal((120, 8)), rng.standard_normal((100, 8)) * 1.2 + 0.3
    ours = (precision(gen, ref), recall(gen, ref), density(gen, ref), coverage(gen, ref))
    np.testing.assert_allclose(ours, _brute(gen, ref), rtol=1e-12)


def test_knn_radii_excludes_self_and_handles_duplicates() -> None:
    x = np.array([[0.0], [0.0], [3.0], [7.0]])
    np.testing.assert_allclose(knn_sq_radii(x, 1), [0.0, 0.0, 9.0, 16.0])
    np.testing.assert_allclose(knn_sq_radii(x, 2), [9.0, 9.0, 9.0, 49.0])
