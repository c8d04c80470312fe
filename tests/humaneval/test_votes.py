"""Votes: one transaction each, a double submission stored once, a refused vote writing
nothing; tokens stored only as hashes; a rater's pairs fixed by the seed."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from genlab.errors import InputError
from genlab.humaneval.db import connect
from genlab.humaneval.pairs import PairPool
from genlab.humaneval.raters import NewRater, add_raters, hash_token, rater_for_token
from genlab.humaneval.votes import VoteConflict, VoteError, issue_pair, load_votes, record_vote


def _rows(con: sqlite3.Connection, table: str) -> int:
    return int(con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def test_tokens_are_random_and_stored_hashed(store: tuple[Path, list[NewRater]]) -> None:
    db, raters = store
    con = connect(db)
    assert len({r.token for r in raters}) == 3 and all(len(r.token) >= 40 for r in raters)
    stored = {row[0] for row in con.execute("SELECT token_hash FROM raters")}
    assert stored == {hash_token(r.token) for r in raters}
    assert not any(r.token in h for r in raters for h in stored)
    assert rater_for_token(con, raters[1].token).id == raters[1].id  # type: ignore[union-attr]
    assert rater_for_token(con, "x" * 43) is None
    assert rater_for_token(con, "../../etc/passwd") is None
    with pytest.raises(InputError, match="bad rater name"):
        add_raters(con, ["ok", "<script>"])
    assert _rows(con, "raters") == 3  # the good name was not written either


def test_issue_and_vote_once(store: tuple[Path, list[NewRater]]) -> None:
    db, raters = store
    con = connect(db)
    pool = PairPool.from_store(db)
    me, other = raters[0].id, raters[1].id
    p = issue_pair(con, me, pool, track="control", seed=0)
    assert issue_pair(con, me, pool, track="control", seed=0) == p  # open pair: the same
    assert record_vote(con, me, p.id, p.left_sample, p.right_sample, "left") is True
    assert record_vote(con, me, p.id, p.left_sample, p.right_sample, "left") is False
    assert _rows(con, "votes") == 1
    with pytest.raises(VoteConflict, match="already has the vote 'left'"):
        record_vote(con, me, p.id, p.left_sample, p.right_sample, "right")
    with pytest.raises(VoteError, match="not issued to this rater"):
        record_vote(con, other, p.id, p.left_sample, p.right_sample, "left")
    q = issue_pair(con, me, pool, track="control", seed=0)
    assert q.id != p.id
    with pytest.raises(VoteError, match="showed samples"):
        record_vote(con, me, q.id, q.right_sample, q.left_sample, "left")
    with pytest.raises(VoteError, match="bad choice"):
        record_vote(con, me, q.id, q.left_sample, q.right_sample, "both")
    assert _rows(con, "votes") == 1  # nothing half written
    record_vote(con, me, q.id, q.left_sample, q.right_sample, "tie")
    winners = [r[0] for r in con.execute("SELECT winner_sample FROM votes ORDER BY id")]
    assert winners == [p.left_sample, None]
    votes = load_votes(con, "control")
    assert [v.choice for v in votes] == ["left", "tie"]
    assert all(v.left_generator != v.right_generator for v in votes)


def test_a_raters_pairs_are_fixed_by_the_seed(
        tmp_path: Path, store_factory: Callable[..., tuple[Path, list[NewRater]]]) -> None:
    one, _ = store_factory(tmp_path / "one")
    two, _ = store_factory(tmp_path / "two")  # the same synthetic store again
    first = _sequence(one, rater=1, seed=0, n=8)
    assert _sequence(two, rater=1, seed=0, n=8) == first
    assert _sequence(two, rater=2, seed=0, n=8) != first
    assert _sequence(one, rater=3, seed=1, n=8) != _sequence(two, rater=3, seed=0, n=8)


def _sequence(db: Path, rater: int, seed: int, n: int) -> list[tuple[int, int]]:
    con = connect(db)
    pool = PairPool.from_store(db)
    out = []
    for _ in range(n):
        p = issue_pair(con, rater, pool, track="control", seed=seed)
        out.append((p.left_sample, p.right_sample))
        record_vote(con, rater, p.id, p.left_sample, p.right_sample, "tie")
    return out
