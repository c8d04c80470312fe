"""A tiny results store of fake generators, for the human-evaluation tests and bench.

Each generator gets one complete run on one track: the same prompts, a few
random-noise images ``(size, size, 3) uint8`` per prompt, and a judge verdict
per image drawn with that generator's pass rate. It goes through the ordinary
:class:`~genlab.store.Store` API (start_run, add_samples, finish_run), so the
app sees exactly what a real `genlab run` leaves behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from genlab.errors import InputError, check_int
from genlab.humaneval.pairs import DEFAULT_TRACK
from genlab.store import SampleRow, Store

PROMPTS = ("a red circle", "two blue squares", "three green triangles",
           "a red circle to the left of a blue square", "a green square and a red triangle",
           "four blue circles", "a red square above a green circle", "no red objects")


def synthetic_store(db_path: Path | str, pass_rates: Mapping[str, float], *, prompts: int = 8,
                    images_per_prompt: int = 2, track: str = DEFAULT_TRACK, size: int = 32,
                    seed: int = 0) -> Path:
    """Write a store at ``db_path`` with one complete run per generator.

    Args:
        pass_rates: generator name -> probability that each of its images passes.
        prompts, images_per_prompt: how many of each (prompts cycle through
            :data:`PROMPTS`; their ids are ``test/synthetic/p000``, ...).
    Returns:
        the database path.
    """
    check_int("prompts", prompts)
    check_int("images_per_prompt", images_per_prompt)
    check_int("size", size, low=8)
    if len(pass_rates) < 2:
        raise InputError(f"need at least two generators to compare, got {list(pass_rates)}")
    rng = np.random.default_rng(seed)
    with Store(db_path) as store:
        for name, rate in pass_rates.items():
            if not 0.0 <= rate <= 1.0:
                raise InputError(f"pass rate of {name!r} must lie in [0, 1], got {rate!r}")
            run = store.start_run(
                track=track, track_version="synthetic", generator=name, profile="synthetic",
                config={"pass_rate": rate, "prompts": prompts, "seed": seed,
                        "images_per_prompt": images_per_prompt, "size": size},
                judge="synthetic", judge_version="0", fresh=True)
            rows = []
            for p in range(prompts):
                prompt_id = f"test/synthetic/p{p:03d}"
                for i in range(images_per_prompt):
                    passed = bool(rng.random() < rate)
                    rows.append(SampleRow(f"{prompt_id}/i{i}", "test", "synthetic", prompt_id,
                                          PROMPTS[p % len(PROMPTS)], "null", "{}", i, passed,
                                          "ok" if passed else "synthetic failure", "{}",
                                          False, 1))
            images = rng.integers(0, 256, size=(len(rows), size, size, 3), dtype=np.uint8)
            store.add_samples(run.id, rows, images)
            value = float(np.mean([r.passed for r in rows]))
            store.finish_run(run.id, [{"category": "test/overall", "value": value,
                                       "ci_low": value, "ci_high": value, "n": len(rows)}])
        return store.path
