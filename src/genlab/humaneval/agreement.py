"""How often human votes agree with the exact judge, with a bootstrap interval.

Only votes on pairs where exactly one image passed the judge say anything about
agreement: there the judge has a preference. Each such vote scores 1 if the
rater chose the passed image, 0 if the failed one, and 0.5 for a tie (a rater
who always ties then scores 0.5, as a coin would). The agreement is the mean
score; its 95% interval resamples whole clusters of votes, by default raters
(:func:`genlab.stats.cluster_bootstrap`, with its Wilson guard near 0 and 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from genlab.errors import InputError
from genlab.stats import DEFAULT_RESAMPLES, Estimate, cluster_bootstrap

_SCORES = {"left": (1.0, 0.0), "right": (0.0, 1.0), "tie": (0.5, 0.5)}


@dataclass(frozen=True)
class Agreement:
    """The judge agreement of a set of votes.

    Attributes:
        estimate: the mean agreement with its interval; ``n`` counts the eligible
            votes (exactly one image passed), ``n_clusters`` their raters.
        ties: how many of the eligible votes were ties.
    """

    estimate: Estimate
    ties: int


def judge_agreement(left_passed: Sequence[bool], right_passed: Sequence[bool],
                    choices: Sequence[str], clusters: Sequence[object] | np.ndarray, *,
                    resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> Agreement:
    """Agreement of ``choices`` (``"left"``, ``"right"`` or ``"tie"``, ``(n,)``) with the
    judge's verdicts on the two images of each vote (``(n,)`` bools each).

    ``clusters``: ``(n,)`` the resampling unit of each vote (e.g. its rater id).
    Raises InputError when no vote has exactly one passed image.
    """
    c = np.asarray(clusters)
    if not len(left_passed) == len(right_passed) == len(choices) == c.size:
        raise InputError(f"left_passed ({len(left_passed)}), right_passed "
                         f"({len(right_passed)}), choices ({len(choices)}) and clusters "
                         f"({c.size}) must have one length")
    values, keep = [], []
    for i, (lp, rp, choice) in enumerate(zip(left_passed, right_passed, choices, strict=True)):
        if choice not in _SCORES:
            raise InputError(f"bad choice {choice!r} in vote {i}; accepted: "
                             f"{', '.join(_SCORES)}")
        if bool(lp) != bool(rp):
            values.append(_SCORES[choice][0 if lp else 1])
            keep.append(i)
    if not keep:
        raise InputError(f"none of the {len(choices)} votes is on a pair where exactly one "
                         "image passed the judge; agreement is undefined")
    estimate = cluster_bootstrap(values, c[keep], resamples=resamples, seed=seed)
    ties = sum(1 for i in keep if choices[i] == "tie")
    return Agreement(estimate, ties)
