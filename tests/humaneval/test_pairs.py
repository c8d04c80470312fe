"""Pairs: same prompt, two different generators, fixed by the seed, from the latest runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from genlab.errors import InputError, UnknownNameError
from genlab.humaneval.pairs import Candidate, PairPool, draw_pairs
from genlab.humaneval.raters import NewRater
from genlab.humaneval.synthetic import synthetic_store


def test_pairs_share_a_prompt_and_differ_in_generator(store: tuple[Path, list[NewRater]]
                                                      ) -> None:
    pool = PairPool.from_store(store[0])
    assert pool.generators == ("fair", "good", "poor") and pool.n_prompts == 6
    pairs = draw_pairs(pool, 300, seed=4)
    for p in pairs:
        assert p.left.generator != p.right.generator
        assert (p.left.split, p.left.prompt_id, p.left.prompt) == \
            (p.right.split, p.right.prompt_id, p.right.prompt)
    # every generator shows up on both sides
    assert {p.left.generator for p in pairs} == {p.right.generator for p in pairs} == \
        set(pool.generators)
    assert draw_pairs(pool, 50, seed=4) == pairs[:50]
    assert draw_pairs(pool, 50, seed=5) != pairs[:50]


def test_pool_follows_the_latest_complete_runs(tmp_path: Path) -> None:
    db = synthetic_store(tmp_path / "s.db", {"a": 0.5, "b": 0.5}, prompts=2)
    first = {c.sample_id for p in draw_pairs(PairPool.from_store(db), 40) for c in (p.left,
                                                                                  p.right)}
    synthetic_store(db, {"a": 0.5, "b": 0.5}, prompts=2, seed=1)  # newer runs of both
    later = {c.sample_id for p in draw_pairs(PairPool.from_store(db), 40) for c in (p.left,
                                                                                  p.right)}
    assert first.isdisjoint(later) and min(later) > max(first)
    only = PairPool.from_store(db, generators=["a", "b"])
    assert only.generators == ("a", "b")


def test_bad_pools_fail_loudly(tmp_path: Path, store: tuple[Path, list[NewRater]]) -> None:
    with pytest.raises(InputError, match="no results database"):
        PairPool.from_store(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(UnknownNameError, match="'contrl'.*Did you mean 'control'"):
        PairPool.from_store(store[0], track="contrl")
    with pytest.raises(UnknownNameError, match="'goood'.*Did you mean 'good'"):
        PairPool.from_store(store[0], generators=["good", "goood"])
    lone = [Candidate(1, "a", "test", "p0", "x", True), Candidate(2, "b", "test", "p1", "x", True)]
    with pytest.raises(InputError, match="two generators"):
        PairPool(lone)
    with pytest.raises(InputError, match="n must be"):
        draw_pairs(PairPool.from_store(store[0]), 0)
