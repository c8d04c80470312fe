"""Simulated raters: many threads voting over HTTP, as in the tests and the bench.

A simulated rater knows the exact judge's verdicts (read from the store, never
from the app, which does not send them) and, on a pair where exactly one image
passed, picks that image with probability ``agree``; otherwise it ties with
probability ``tie`` and picks a side at random the rest of the time. Its
measured judge agreement should therefore come out near ``agree``.

Only the standard library speaks HTTP here (``urllib``), so the app's runtime
needs nothing more. A request that fails on the network is sent again: a vote
is idempotent (the same vote twice is stored once), so a retry is safe.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from genlab.errors import GenlabError, InputError
from genlab.humaneval.db import connect

_RETRIES = 3


@dataclass(frozen=True)
class RaterModel:
    """How a simulated rater chooses.

    Attributes:
        agree: P(choose the passed image) when exactly one image passed.
        tie: P(tie) when both or neither passed.
    """

    agree: float = 0.8
    tie: float = 0.2

    def __post_init__(self) -> None:
        for name in ("agree", "tie"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InputError(f"RaterModel.{name} must lie in [0, 1], got {value!r}")

    def choose(self, left_passed: bool, right_passed: bool, rng: np.random.Generator) -> str:
        """``"left"``, ``"right"`` or ``"tie"``."""
        if left_passed != right_passed:
            agrees = rng.random() < self.agree
            return "left" if agrees == left_passed else "right"
        if rng.random() < self.tie:
            return "tie"
        return "left" if rng.random() < 0.5 else "right"


def verdicts(db_path: Path | str) -> dict[int, bool]:
    """The judge's verdict of every stored sample, by sample id."""
    con = connect(db_path, init=False)
    try:
        return {int(r[0]): bool(r[1]) for r in con.execute("SELECT rowid, passed FROM samples")}
    finally:
        con.close()


def _call(url: str, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for attempt in range(_RETRIES):
        request = urllib.request.Request(url, data=data, headers=headers,
                                         method="GET" if body is None else "POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return dict(json.load(response))
        except urllib.error.HTTPError as exc:  # the server answered: no retry
            raise GenlabError(f"{url} answered {exc.code}: {exc.read()[:300]!r}") from None
        except OSError:
            if attempt == _RETRIES - 1:
                raise
            time.sleep(0.1 * (attempt + 1))
    raise AssertionError("unreachable")


def run_rater(base_url: str, token: str, votes: int, passed: Mapping[int, bool],
              model: RaterModel, seed: int) -> list[int]:
    """Cast ``votes`` votes as the holder of ``token``; returns the pair ids voted on."""
    rng = np.random.default_rng(seed)
    done = []
    for _ in range(votes):
        pair = _call(f"{base_url}/api/pair", token)
        left, right = int(pair["left"]["sample"]), int(pair["right"]["sample"])
        choice = model.choose(passed[left], passed[right], rng)
        _call(f"{base_url}/api/vote", token,
              {"pair": pair["pair"], "left": left, "right": right, "choice": choice})
        done.append(int(pair["pair"]))
    return done


def run_raters(base_url: str, tokens: Sequence[str], votes: int, passed: Mapping[int, bool],
               model: RaterModel, seed: int = 0) -> list[list[int]]:
    """All raters at once, one thread each; per rater, the pair ids voted on."""
    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        futures = [pool.submit(run_rater, base_url, t, votes, passed, model, seed + i)
                   for i, t in enumerate(tokens)]
        return [f.result() for f in futures]
