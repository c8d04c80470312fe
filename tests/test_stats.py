"""Cluster bootstrap intervals: contain the point, shrink with n, respect prompt clusters."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genlab.errors import InputError
from genlab.stats import (
    cluster_bootstrap,
    iid_bootstrap,
    mean_of_means_bootstrap,
    paired_difference_bootstrap,
    ratio_of_means_bootstrap,
    ratio_of_medians_bootstrap,
    wilson,
)


def _binary(n_prompts: int, per_prompt: int, p: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    values = (rng.random(n_prompts * per_prompt) < p).astype(float)
    return values, np.repeat(np.arange(n_prompts), per_prompt)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=60), st.integers(1, 5),
       st.integers(0, 2**31 - 1))
def test_interval_contains_point(passes: list[bool], per: int, seed: int) -> None:
    values = np.repeat(np.array(passes, float), per)
    clusters = np.repeat(np.arange(len(passes)), per)
    est = cluster_bootstrap(values, clusters, resamples=1000, seed=seed)
    assert 0.0 <= est.ci_low <= est.value <= est.ci_high <= 1.0
    assert est.value == pytest.approx(np.mean(passes))
    assert est.n == len(values) and est.n_clusters == len(passes)


def test_width_shrinks_with_n() -> None:
    widths = []
    for n in (20, 80, 320):
        est = cluster_bootstrap(*_binary(n, 4, 0.6, seed=n), seed=0)
        widths.append(est.ci_high - est.ci_low)
    assert widths[0] > widths[1] > widths[2]
    assert widths[0] / widths[2] == pytest.approx(4.0, rel=0.35)  # ~ 1/sqrt(n)


def test_clusters_widen_the_interval() -> None:
    """Four images of a prompt that agree are one observation, not four."""
    rng = np.random.default_rng(1)
    per_prompt = (rng.random(50) < 0.5).astype(float)
    values = np.repeat(per_prompt, 4)
    by_prompt = cluster_bootstrap(values, np.repeat(np.arange(50), 4), seed=0)
    naive = cluster_bootstrap(values, np.arange(200), seed=0)
    ratio = (by_prompt.ci_high - by_prompt.ci_low) / (naive.ci_high - naive.ci_low)
    assert ratio == pytest.approx(2.0, rel=0.25)  # sqrt(4) for perfectly correlated images


def test_unequal_clusters_take_the_image_mean() -> None:
    est = cluster_bootstrap([1, 1, 1, 0], ["a", "a", "a", "b"], seed=0)
    assert est.value == 0.75 and est.n_clusters == 2


def test_seeded_and_degenerate() -> None:
    data = _binary(30, 4, 0.5, seed=3)
    assert cluster_bootstrap(*data, seed=7) == cluster_bootstrap(*data, seed=7)
    # all pass: no zero-width interval, but Wilson's over the 12 images
    est = cluster_bootstrap(np.ones(12), np.repeat(np.arange(3), 4))
    assert (est.value, est.ci_high) == (1.0, 1.0)
    assert est.ci_low == pytest.approx(wilson(1.0, 12)[0])
    assert est.ci_low == pytest.approx(1 / (1 + 1.96**2 / 12), rel=1e-3)
    zero = cluster_bootstrap(np.zeros(400), np.repeat(np.arange(100), 4))
    assert zero.ci_low == 0.0 and 0.0 < zero.ci_high < 0.05
    scores = np.array([2.0, 2.0, 2.0])  # not a proportion: no Wilson guard
    assert cluster_bootstrap(scores, [0, 1, 2]).ci_low == 2.0


def test_one_failure_is_not_near_certainty() -> None:
    """The bare percentile bootstrap gives [0, ~0.015] for 1 failure in 200 images."""
    values = np.zeros(200)
    values[0] = 1.0
    est = cluster_bootstrap(values, np.repeat(np.arange(50), 4), seed=0)
    assert est.ci_high >= wilson(1 / 200, 200)[1] > 0.02
    none = cluster_bootstrap(np.zeros(200), np.repeat(np.arange(50), 4), seed=0)
    assert 0 < none.ci_high < est.ci_high  # monotone from 0 failures to 1


def test_coverage_is_near_95_percent() -> None:
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(200):
        p_prompt = rng.beta(2, 1, size=40)  # prompts differ in difficulty
        values = (rng.random((40, 4)) < p_prompt[:, None]).astype(float).ravel()
        est = cluster_bootstrap(values, np.repeat(np.arange(40), 4), resamples=1000,
                                seed=int(rng.integers(1 << 30)))
        hits += est.ci_low <= 2 / 3 <= est.ci_high
    assert 0.88 <= hits / 200 <= 0.99


def test_mean_of_means_weighs_categories_equally() -> None:
    easy = (np.ones(40), np.repeat(np.arange(10), 4))
    hard = (np.zeros(400), np.repeat(np.arange(100), 4))
    est = mean_of_means_bootstrap([easy, hard], seed=0)
    assert est.value == 0.5 and est.ci_low < 0.5 < est.ci_high
    assert est.n == 440 and est.n_clusters == 110
    mixed = mean_of_means_bootstrap([_binary(30, 4, 0.8, 1), _binary(30, 4, 0.2, 2)], seed=0)
    assert mixed.ci_low < mixed.value < mixed.ci_high


def test_bad_input_is_loud() -> None:
    with pytest.raises(InputError, match="resamples"):
        cluster_bootstrap([1.0], [0], resamples=100)
    with pytest.raises(InputError, match="zero samples"):
        cluster_bootstrap([], [])
    with pytest.raises(InputError, match="equal length"):
        cluster_bootstrap([1.0, 0.0], [0])
    with pytest.raises(InputError, match="zero categories"):
        mean_of_means_bootstrap([])


def test_iid_bootstrap_of_timed_runs() -> None:
    runs = np.arange(1.0, 101.0)  # 1..100 ms
    p50 = iid_bootstrap(runs, "p50", seed=1)
    assert p50.value == 50.5 and p50.ci_low < 50.5 < p50.ci_high and p50.n == 100
    assert 40 < p50.ci_low and p50.ci_high < 61
    assert iid_bootstrap(runs, "p95").value == pytest.approx(np.percentile(runs, 95))
    rate = iid_bootstrap([0.5, 0.5, 0.5], "rate")
    assert (rate.value, rate.ci_low, rate.ci_high) == (2.0, 2.0, 2.0)
    with pytest.raises(InputError, match="unknown statistic"):
        iid_bootstrap(runs, "mean")
    with pytest.raises(InputError, match="non-empty"):
        iid_bootstrap([], "p50")
    with pytest.raises(InputError, match="positive"):
        iid_bootstrap([0.0, 1.0], "rate")


def test_ratio_of_means_is_paired() -> None:
    """Two settings on the same prompts: the ratio's interval resamples prompts once for
    both, so a setting against itself is 1 exactly and a uniform halving is 0.5 exactly."""
    v, c = _binary(40, 4, 0.6, seed=3)
    same = ratio_of_means_bootstrap([(v, c)], [(v, c)])
    assert (same.value, same.ci_low, same.ci_high) == (1.0, 1.0, 1.0)
    half = ratio_of_means_bootstrap([(v * 0.5, c)], [(v, c)])
    assert half.value == pytest.approx(0.5) and half.ci_high - half.ci_low < 1e-9
    other, _ = _binary(40, 4, 0.3, seed=4)
    r = ratio_of_means_bootstrap([(other, c), (v, c)], [(v, c), (v, c)])
    expected = (other.mean() + v.mean()) / 2 / v.mean()
    assert r.value == pytest.approx(expected) and r.ci_low < r.value < r.ci_high
    with pytest.raises(InputError, match="same prompts"):
        ratio_of_means_bootstrap([(v, c + 1)], [(v, c)])
    with pytest.raises(InputError, match="score is 0"):
        ratio_of_means_bootstrap([(v, c)], [(v * 0, c)])
    with pytest.raises(InputError, match="same non-zero number"):
        ratio_of_means_bootstrap([(v, c)], [])


def test_paired_difference_cancels_what_the_units_share() -> None:
    """Units that differ wildly but move together give a tight interval about the shift;
    the same numbers unpaired (shuffled) give a wide one; itself, exactly 0."""
    rng = np.random.default_rng(5)
    sizes = rng.integers(10, 100, 60).astype(float)
    base = rng.random(60) * sizes
    shifted = base + 0.1 * sizes
    d = paired_difference_bootstrap((shifted, sizes), (base, sizes))
    assert d.value == pytest.approx(0.1) and d.ci_high - d.ci_low < 1e-9
    assert d.n_clusters == 60 and d.n == 2 * sizes.sum()
    noisy = shifted + rng.normal(0, 0.5, 60)
    paired = paired_difference_bootstrap((noisy, sizes), (base, sizes))
    order = rng.permutation(60)
    unpaired = paired_difference_bootstrap((noisy, sizes), (base[order], sizes[order]))
    assert paired.ci_low <= paired.value <= paired.ci_high
    assert paired.ci_high - paired.ci_low < 0.5 * (unpaired.ci_high - unpaired.ci_low)
    zero = paired_difference_bootstrap((base, sizes), (base, sizes))
    assert (zero.value, zero.ci_low, zero.ci_high) == (0.0, 0.0, 0.0)
    with pytest.raises(InputError, match="one entry per unit"):
        paired_difference_bootstrap((base, sizes), (base[:3], sizes[:3]))
    with pytest.raises(InputError, match="positive total"):
        paired_difference_bootstrap((base, sizes), (base, 0 * sizes))


def test_ratio_of_medians_is_a_speedup() -> None:
    slow, fast = np.linspace(90, 110, 50), np.linspace(9, 11, 50)
    r = ratio_of_medians_bootstrap(slow, fast, seed=2)
    assert r.value == pytest.approx(10.0) and r.ci_low < 10.0 < r.ci_high
    assert 9.0 < r.ci_low and r.ci_high < 11.0
    same = ratio_of_medians_bootstrap(slow, slow)
    assert (same.value, same.ci_low, same.ci_high) == (1.0, 1.0, 1.0)
    with pytest.raises(InputError, match="positive times"):
        ratio_of_medians_bootstrap(slow, [0.0, 1.0])
