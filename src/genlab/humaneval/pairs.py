"""Comparison pairs: two images of one prompt by two different generators.

The pool holds the samples of the latest complete run of every generator of
one track (``Store.latest_runs``). Samples are grouped by (split, prompt id,
prompt text), so both images of a pair answer the very same prompt; a group
enters the pool only when at least two generators drew it.

A draw picks a prompt uniformly, then two distinct generators of that prompt
uniformly (their order is the left/right order, so each side is equally likely
for each generator), then one image of each. Given the seed the draws are
fixed: the pool is kept in sorted order, never in database order. A pair is
identified by its two sample ids, never by file paths.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genlab.errors import InputError, UnknownNameError, check_int, suggest
from genlab.humaneval.db import connect
from genlab.store import Store

DEFAULT_TRACK = "control"


@dataclass(frozen=True)
class Candidate:
    """One stored image that may be shown.

    Attributes:
        sample_id: the ``rowid`` of its ``samples`` row.
        passed: the exact judge's verdict, never shown to raters.
    """

    sample_id: int
    generator: str
    split: str
    prompt_id: str
    prompt: str
    passed: bool


@dataclass(frozen=True)
class Pair:
    """Two images of one prompt by two different generators, in display order."""

    left: Candidate
    right: Candidate

    @property
    def prompt(self) -> str:
        return self.left.prompt


class PairPool:
    """The samples pairs are drawn from, grouped by prompt and generator.

    Args:
        candidates: the images; those of prompts that fewer than two generators
            drew are left out. At least one prompt must remain.
    """

    def __init__(self, candidates: Sequence[Candidate]) -> None:
        groups: dict[tuple[str, str, str], dict[str, list[Candidate]]] = {}
        for c in sorted(candidates, key=lambda c: c.sample_id):
            key = (c.split, c.prompt_id, c.prompt)
            groups.setdefault(key, {}).setdefault(c.generator, []).append(c)
        # (prompt key, sorted generators, their images) of every shareable prompt
        self._groups = [(key, sorted(by_gen), by_gen) for key, by_gen in sorted(groups.items())
                        if len(by_gen) >= 2]
        if not self._groups:
            gens = sorted({c.generator for c in candidates})
            raise InputError(f"no prompt was drawn by two generators (generators: "
                             f"{', '.join(gens) or 'none'}); pairs need at least two "
                             "generators with complete runs on the same prompts")
        self.generators = tuple(sorted({g for _, gens, _ in self._groups for g in gens}))
        self.n_prompts = len(self._groups)

    @classmethod
    def from_store(cls, db_path: Path | str, track: str = DEFAULT_TRACK,
                   generators: Sequence[str] | None = None) -> PairPool:
        """The pool of the latest complete run of every generator of ``track`` (or of
        the named ``generators`` only) in the results database at ``db_path``."""
        con = connect(db_path, init=False)  # first: refuses a missing file
        try:
            return cls(_candidates(con, db_path, track, generators))
        finally:
            con.close()

    def draw(self, rng: np.random.Generator) -> Pair:
        """One pair, drawn as the module docstring says."""
        _, gens, by_gen = self._groups[int(rng.integers(len(self._groups)))]
        first, second = rng.choice(len(gens), size=2, replace=False)
        left, right = by_gen[gens[int(first)]], by_gen[gens[int(second)]]
        return Pair(left[int(rng.integers(len(left)))], right[int(rng.integers(len(right)))])


def draw_pairs(pool: PairPool, n: int, seed: int = 0) -> list[Pair]:
    """``n`` pairs drawn from ``pool``; the same seed gives the same pairs."""
    check_int("n", n)
    rng = np.random.default_rng(seed)
    return [pool.draw(rng) for _ in range(n)]


def _candidates(con: sqlite3.Connection, db_path: Path | str, track: str,
                generators: Sequence[str] | None) -> list[Candidate]:
    with Store(db_path) as store:
        runs = store.latest_runs(track)
        tracks = sorted({r.track for r in store.latest_runs()}) if not runs else []
    if not runs:
        raise UnknownNameError(f"no complete run of track {track!r} in the database; tracks "
                               f"with complete runs: {', '.join(tracks) or 'none'}"
                               f"{suggest(track, tracks)}")
    by_gen = {r.generator: r.id for r in runs}
    wanted = list(by_gen) if generators is None else list(generators)
    for g in wanted:
        if g not in by_gen:
            raise UnknownNameError(f"no complete run of generator {g!r} on track {track!r}; "
                                   f"accepted: {', '.join(by_gen)}{suggest(g, by_gen)}")
    run_ids = [by_gen[g] for g in wanted]
    marks = ",".join("?" * len(run_ids))
    rows = con.execute(
        "SELECT s.rowid AS sample_id, r.generator, s.split, s.prompt_id, s.prompt, s.passed "
        f"FROM samples s JOIN runs r ON r.id = s.run_id WHERE s.run_id IN ({marks})",
        run_ids).fetchall()
    return [Candidate(int(r["sample_id"]), str(r["generator"]), str(r["split"]),
                      str(r["prompt_id"]), str(r["prompt"]), bool(r["passed"])) for r in rows]
