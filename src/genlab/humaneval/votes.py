"""Issuing pairs to raters and recording their votes, one transaction each.

A rater asks for a pair; while they have one without a vote they get that one
again (a reload shows the same pair), otherwise a new one is drawn: the k-th
pair of rater r on a track comes from the generator seeded by ``(seed, r, k)``,
so a rater's sequence of pairs is fixed by the server's seed.

A vote names the pair it answers and repeats the pair's two sample ids (so a
stale page cannot vote on the wrong images); it is checked and written in one
``BEGIN IMMEDIATE`` transaction, so a refused vote writes nothing. The same vote
sent twice (a network retry) is stored once: the second is acknowledged, not
counted; a *different* choice on an answered pair is refused.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from genlab.errors import GenlabError, InputError
from genlab.humaneval.db import now, transaction
from genlab.humaneval.pairs import PairPool

Choice = Literal["left", "right", "tie"]
CHOICES: tuple[str, ...] = get_args(Choice)


class VoteError(InputError):
    """A vote that names a pair or samples the rater was not shown."""


class VoteConflict(GenlabError):
    """A vote on a pair that already holds a different vote."""


@dataclass(frozen=True)
class IssuedPair:
    """A pair as shown to a rater: the ids to vote with and the prompt."""

    id: int
    prompt: str
    left_sample: int
    right_sample: int


@dataclass(frozen=True)
class VoteRecord:
    """One stored vote with what the ranking needs (copied from its pair)."""

    rater_id: int
    prompt_id: str
    left_generator: str
    right_generator: str
    left_passed: bool
    right_passed: bool
    choice: str


def issue_pair(con: sqlite3.Connection, rater_id: int, pool: PairPool, *, track: str,
               seed: int) -> IssuedPair:
    """The rater's unanswered pair on ``track`` if any, else a newly drawn one (stored)."""
    with transaction(con):
        row = con.execute(
            "SELECT p.id, p.prompt, p.left_sample, p.right_sample FROM pairs p "
            "LEFT JOIN votes v ON v.pair_id = p.id WHERE p.rater_id=? AND p.track=? AND "
            "v.id IS NULL ORDER BY p.id LIMIT 1", (rater_id, track)).fetchone()
        if row is not None:
            return IssuedPair(int(row[0]), str(row[1]), int(row[2]), int(row[3]))
        k = int(con.execute("SELECT COUNT(*) FROM pairs WHERE rater_id=? AND track=?",
                            (rater_id, track)).fetchone()[0])
        pair = pool.draw(np.random.default_rng([seed, rater_id, k]))
        a, b = pair.left, pair.right
        cur = con.execute(
            "INSERT INTO pairs (rater_id, track, split, prompt_id, prompt, left_sample, "
            "right_sample, left_generator, right_generator, left_passed, right_passed, issued) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (rater_id, track, a.split, a.prompt_id, a.prompt, a.sample_id, b.sample_id,
             a.generator, b.generator, int(a.passed), int(b.passed), now()))
        return IssuedPair(int(cur.lastrowid or 0), a.prompt, a.sample_id, b.sample_id)


def record_vote(con: sqlite3.Connection, rater_id: int, pair_id: int, left: int, right: int,
                choice: str) -> bool:
    """Store the rater's ``choice`` on pair ``pair_id``; True if stored now, False if the
    same vote was already stored. Raises :class:`VoteError` or :class:`VoteConflict`
    (writing nothing) for a vote that does not fit."""
    if choice not in CHOICES:
        raise VoteError(f"bad choice {choice!r}; accepted: {', '.join(CHOICES)}")
    with transaction(con):
        pair = con.execute("SELECT rater_id, prompt_id, left_sample, right_sample FROM pairs "
                           "WHERE id=?", (pair_id,)).fetchone()
        if pair is None or int(pair["rater_id"]) != rater_id:
            raise VoteError(f"pair {pair_id} was not issued to this rater; vote on a pair "
                            "from GET /api/pair")
        shown = (int(pair["left_sample"]), int(pair["right_sample"]))
        if shown != (left, right):
            raise VoteError(f"pair {pair_id} showed samples left={shown[0]}, right={shown[1]}, "
                            f"not left={left}, right={right}")
        before = con.execute("SELECT choice FROM votes WHERE pair_id=?", (pair_id,)).fetchone()
        if before is not None:
            if before["choice"] != choice:
                raise VoteConflict(f"pair {pair_id} already has the vote {before['choice']!r}; "
                                   f"a vote is final (got {choice!r})")
            return False
        winner = {"left": left, "right": right, "tie": None}[choice]
        con.execute(
            "INSERT INTO votes (pair_id, rater_id, prompt_id, left_sample, right_sample, "
            "choice, winner_sample, created) VALUES (?,?,?,?,?,?,?,?)",
            (pair_id, rater_id, pair["prompt_id"], left, right, choice, winner, now()))
        return True


def load_votes(con: sqlite3.Connection, track: str) -> list[VoteRecord]:
    """Every vote on ``track``: rater by rater, each rater's in the order cast (not
    interleaved as cast, so the same votes give the same bootstrap intervals however
    concurrent raters interleaved)."""
    rows = con.execute(
        "SELECT v.rater_id, p.prompt_id, p.left_generator, p.right_generator, p.left_passed, "
        "p.right_passed, v.choice FROM votes v JOIN pairs p ON p.id = v.pair_id "
        "WHERE p.track=? ORDER BY v.rater_id, v.id", (track,)).fetchall()
    return [VoteRecord(int(r[0]), str(r[1]), str(r[2]), str(r[3]), bool(r[4]), bool(r[5]),
                       str(r[6])) for r in rows]
