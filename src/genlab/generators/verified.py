"""Best-of-N with a learned verifier: N candidates per prompt, the verifier keeps one.

The inner generator draws every prompt ``n`` times from different initial
noise (candidate 0 uses the caller's seed, so ``n = 1`` is the inner generator
itself); :mod:`genlab.generators.verifier` scores each candidate against its
prompt, and the best one is returned. Sampling cost grows ``n``-fold; the
``verifier`` stage is timed beside the inner generator's stages. The verifier
is a network trained on ``train``-split renders, never the scoring judge.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import asdict

import numpy as np

from genlab.contracts import BoxList, Generation, Generator, check_request, identity, with_options
from genlab.errors import InputError
from genlab.generators.verifier import CountNet, VerifierConfig, scores


def candidate_seed(seed: int, k: int) -> int:
    """The seed of candidate ``k`` of a prompt drawn with ``seed`` (k = 0: the seed)."""
    if k == 0:
        return int(seed)
    return int(np.random.SeedSequence([int(seed), k]).generate_state(1)[0] >> 1)


class VerifiedGenerator:
    """``inner`` drawn ``n`` times per prompt, the verifier's favourite kept."""

    def __init__(self, inner: Generator, verifier: CountNet, verifier_config: VerifierConfig,
                 n: int, name: str) -> None:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InputError(f"n (candidates per prompt) must be an int >= 1, got {n!r}")
        self.inner, self.verifier, self.verifier_config = inner, verifier, verifier_config
        self.n, self.name = n, name

    def describe(self) -> dict[str, object]:
        return {"n": self.n, "verifier": asdict(self.verifier_config),
                "inner": identity(self.inner)}

    def with_options(self, **options: object) -> VerifiedGenerator:
        """This generator around ``inner.with_options(**options)`` (sampling options)."""
        new = copy.copy(self)
        new.inner = with_options(self.inner, **options)
        return new

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], *,
                 boxes: Sequence[BoxList | None] | None = None, size: int = 32) -> Generation:
        given = check_request(prompts, seeds, boxes)
        n = self.n
        out = self.inner.generate([p for p in prompts for _ in range(n)],
                                  [candidate_seed(s, k) for s in seeds for k in range(n)],
                                  boxes=[b for b in given for _ in range(n)], size=size)
        t0 = time.perf_counter()
        s = np.array(scores(self.verifier, out.images, [p for p in prompts for _ in range(n)],
                            [b for b in given for _ in range(n)])).reshape(len(prompts), n)
        best = s.argmax(axis=1) + np.arange(len(prompts)) * n
        verifying = time.perf_counter() - t0
        images = out.images[best] if len(prompts) else out.images
        return Generation(images, {**out.timings, "verifier": verifying})
