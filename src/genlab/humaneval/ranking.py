"""The human-evaluation result: Bradley–Terry ranking and judge agreement of the votes.

Both intervals resample the same unit, chosen by ``unit``: ``"rater"`` (the
default; a rater's votes share their taste and attention, so they are one
cluster) or ``"vote"`` (votes as independent draws; only sound with many raters
who vote alike, or for a single rater's consistency).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from genlab.errors import InputError
from genlab.humaneval.agreement import Agreement, judge_agreement
from genlab.humaneval.bradley_terry import Strength, bradley_terry
from genlab.humaneval.votes import VoteRecord, load_votes
from genlab.stats import DEFAULT_RESAMPLES

UNITS = ("rater", "vote")
_FIRST_SCORE = {"left": 1.0, "right": 0.0, "tie": 0.5}


@dataclass(frozen=True)
class Ranking:
    """Generators ranked by human votes on one track.

    Attributes:
        strengths: strongest first (empty without votes).
        agreement: None when no vote is on a pair where exactly one image passed.
        unit: what the bootstrap resampled (``"rater"`` or ``"vote"``).
    """

    track: str
    votes: int
    raters: int
    unit: str
    strengths: tuple[Strength, ...]
    agreement: Agreement | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{track, votes, raters, unit, ties, generators, judge_agreement}``."""
        agreement = None
        if self.agreement is not None:
            e = self.agreement.estimate
            agreement = {"value": e.value, "ci_low": e.ci_low, "ci_high": e.ci_high,
                         "votes": e.n, "raters": e.n_clusters, "ties": self.agreement.ties}
        return {"track": self.track, "votes": self.votes, "raters": self.raters,
                "unit": self.unit, "ties": "half a win to each side",
                "score": "Bradley-Terry log-strength, sum zero over the generators",
                "generators": [asdict(s) for s in self.strengths],
                "judge_agreement": agreement}


def rank_votes(votes: Sequence[VoteRecord], track: str, *, unit: str = "rater",
               resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> Ranking:
    """The ranking of ``votes`` (all on ``track``)."""
    if unit not in UNITS:
        raise InputError(f"bad bootstrap unit {unit!r}; accepted: {', '.join(UNITS)}")
    clusters = [v.rater_id if unit == "rater" else i for i, v in enumerate(votes)]
    strengths: tuple[Strength, ...] = ()
    agreement = None
    if votes:
        strengths = tuple(bradley_terry(
            [v.left_generator for v in votes], [v.right_generator for v in votes],
            [_FIRST_SCORE[v.choice] for v in votes], clusters, resamples=resamples, seed=seed))
        if any(v.left_passed != v.right_passed for v in votes):
            agreement = judge_agreement(
                [v.left_passed for v in votes], [v.right_passed for v in votes],
                [v.choice for v in votes], clusters, resamples=resamples, seed=seed)
    return Ranking(track, len(votes), len({v.rater_id for v in votes}), unit, strengths,
                   agreement)


def rank(con: sqlite3.Connection, track: str, *, unit: str = "rater",
         resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> Ranking:
    """The ranking of every vote stored on ``track``."""
    return rank_votes(load_votes(con, track), track, unit=unit, resamples=resamples, seed=seed)
