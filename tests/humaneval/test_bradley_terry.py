"""Bradley-Terry: known strengths recovered, the batched Newton fit equal to scipy's,
ties counted half, separation finite, intervals that cover, loud bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit

from genlab.errors import InputError
from genlab.humaneval.bradley_terry import PRIOR_SD, bradley_terry, fit_strengths

TRUE = {"a": 1.2, "b": 0.4, "c": -0.3, "d": -1.3}  # sums to zero


def _simulate(n: int, seed: int, raters: int = 40) -> tuple[list[str], list[str], np.ndarray,
                                                             np.ndarray]:
    rng = np.random.default_rng(seed)
    names = list(TRUE)
    theta = np.array([TRUE[x] for x in names])
    i = rng.integers(0, 4, n)
    j = (i + rng.integers(1, 4, n)) % 4
    won = rng.random(n) < expit(theta[i] - theta[j])
    return ([names[k] for k in i], [names[k] for k in j], won.astype(float),
            rng.integers(0, raters, n))


def test_recovers_known_strengths_within_intervals() -> None:
    first, second, score, raters = _simulate(4000, seed=1)
    ranked = bradley_terry(first, second, score, raters, resamples=1000, seed=0)
    assert [s.generator for s in ranked] == ["a", "b", "c", "d"]
    for s in ranked:
        assert s.ci_low <= s.score <= s.ci_high
        assert abs(s.score - TRUE[s.generator]) < 0.15, s
        assert s.ci_low - 0.05 <= TRUE[s.generator] <= s.ci_high + 0.05, s
        assert 0.05 < s.ci_high - s.ci_low < 0.6
    assert abs(sum(s.score for s in ranked)) < 1e-9
    assert sum(s.comparisons for s in ranked) == 2 * 4000
    assert sum(s.wins for s in ranked) == pytest.approx(4000)


def test_newton_fit_equals_scipy_on_the_same_objective() -> None:
    rng = np.random.default_rng(3)
    wins = rng.integers(0, 30, size=(5, 5)).astype(float)
    np.fill_diagonal(wins, 0)
    wins[0, 1], wins[1, 0] = 12.5, 3.5  # half-wins from ties

    def objective(theta: np.ndarray) -> float:
        p = expit(theta[:, None] - theta[None, :])
        return float(-(wins * np.log(p)).sum() + 0.5 * (theta**2).sum() / PRIOR_SD**2)

    ref = minimize(objective, np.zeros(5), method="BFGS", options={"gtol": 1e-10}).x
    np.testing.assert_allclose(fit_strengths(wins), ref - ref.mean(), atol=1e-5)
    batch = fit_strengths(np.stack([wins, wins.T]))  # a batch; the transpose flips them
    np.testing.assert_allclose(batch[0], -batch[1], atol=1e-9)


def test_ties_count_half_and_separation_stays_finite() -> None:
    # all ties: equal strengths
    tied = bradley_terry(["x"] * 10, ["y"] * 10, [0.5] * 10, resamples=1000)
    assert all(abs(s.score) < 1e-9 for s in tied) and tied[0].wins == 5.0
    # two wins and a tie: 2.5 wins against 0.5, whichever side the votes name first
    a = bradley_terry(["x", "y", "x"], ["y", "x", "y"], [1.0, 0.0, 0.5], resamples=1000)
    b = fit_strengths(np.array([[0.0, 2.5], [0.5, 0.0]]))
    assert a[0].generator == "x" and a[0].wins == 2.5 and a[1].wins == 0.5
    assert a[0].score == pytest.approx(b[0]) and a[0].score > 0.5
    # x wins everything: finite, positive, held in check by the prior
    sep = bradley_terry(["x"] * 20, ["y"] * 20, [1.0] * 20, resamples=1000)
    assert sep[0].generator == "x" and 1.0 < sep[0].score < 10.0
    assert np.isfinite([sep[0].ci_low, sep[0].ci_high]).all()


@pytest.mark.parametrize("args, match", [
    ((["a"], ["a"], [1.0]), "with itself"),
    ((["a"], ["b"], [0.7]), "0, 0.5 or 1"),
    ((["a", "b"], ["b"], [1.0]), "one length"),
    (([], [], []), "zero votes"),
])
def test_bad_votes_are_named(args: tuple, match: str) -> None:
    with pytest.raises(InputError, match=match):
        bradley_terry(*args, resamples=1000)


def test_bad_fit_inputs_are_named() -> None:
    with pytest.raises(InputError, match="resamples"):
        bradley_terry(["a"], ["b"], [1.0], resamples=10)
    with pytest.raises(InputError, match="shape"):
        fit_strengths(np.zeros((3, 2)))
    with pytest.raises(InputError, match=">= 0"):
        fit_strengths(-np.ones((2, 2)))
    with pytest.raises(InputError, match="prior_sd"):
        fit_strengths(np.ones((2, 2)), prior_sd=0.0)
