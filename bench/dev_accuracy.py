"""Shared by the experiment benches: a generator's scene-judge accuracy on ``dev``.

``bench_flow_variants.py`` (what to train) and ``bench_guidance.py`` (how to
sample) both judge one image per dev prompt, per category, with the same prompt
seed, so their tables are read on the same prompts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Column order of the benches' tables (docs/results.md): the categories of
# genlab.worlds.shapes.vocab.CATEGORIES, easiest first.
CATEGORIES = ("single", "counting", "negation", "binding", "position", "multi", "layout")
PROMPT_SEED = 7


def dev_specs(world: Any, prompts: int) -> dict[str, list[Any]]:
    """``prompts`` dev specs per category, the same on every call."""
    return {c: world.sample_specs(c, "dev", prompts, PROMPT_SEED) for c in CATEGORIES}


def passes(generator: Any, world: Any, judge: Any,
           specs: dict[str, list[Any]]) -> dict[str, np.ndarray]:
    """Each image's verdict (1 passed, 0 failed), per category (image seeds 0..n-1)."""
    out = {}
    for category, s in specs.items():
        images = generator.generate([world.prompt(x) for x in s], list(range(len(s))),
                                    boxes=[x.boxes for x in s]).images
        out[category] = np.array([v.passed for v in judge.judge(images, s)], dtype=float)
    return out


def accuracy(generator: Any, world: Any, judge: Any,
             specs: dict[str, list[Any]]) -> dict[str, float]:
    """Fraction of images the judge passes, per category (image seeds 0..n-1)."""
    return {c: float(v.mean()) for c, v in passes(generator, world, judge, specs).items()}
