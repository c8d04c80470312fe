"""Judge agreement: only pairs with exactly one passed image count; ties count half."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.errors import InputError
from genlab.humaneval.agreement import judge_agreement


def test_counts_only_pairs_where_exactly_one_passed() -> None:
    left = [True, True, False, False, True, False, True]
    right = [False, False, True, True, True, False, False]
    choices = ["left", "right", "right", "tie", "left", "right", "tie"]
    # eligible: 0 (agree), 1 (disagree), 2 (agree), 3 (tie: half), 6 (tie: half)
    got = judge_agreement(left, right, choices, clusters=range(7), resamples=1000)
    assert got.estimate.value == pytest.approx((1 + 0 + 1 + 0.5 + 0.5) / 5)
    assert got.estimate.n == 5 and got.ties == 2
    assert got.estimate.ci_low <= got.estimate.value <= got.estimate.ci_high


def test_interval_covers_a_simulated_agreement_rate() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    left = rng.random(n) < 0.5
    right = ~left
    agree = rng.random(n) < 0.8
    choices = np.where(agree == left, "left", "right").tolist()
    got = judge_agreement(left.tolist(), right.tolist(), choices,
                          clusters=rng.integers(0, 50, n), resamples=1000)
    e = got.estimate
    assert e.ci_low <= 0.8 <= e.ci_high and e.ci_high - e.ci_low < 0.06
    assert e.n_clusters == 50


def test_errors_name_the_problem() -> None:
    with pytest.raises(InputError, match="exactly one"):
        judge_agreement([True, False], [True, False], ["left", "tie"], [0, 1], resamples=1000)
    with pytest.raises(InputError, match="'up'"):
        judge_agreement([True], [False], ["up"], [0], resamples=1000)
    with pytest.raises(InputError, match="one length"):
        judge_agreement([True], [False, True], ["left"], [0], resamples=1000)
