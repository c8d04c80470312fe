"""Control generators scored beside every model, so a reader sees the scale.

``oracle`` renders the prompt's own spec (the positive control: what a perfect
generator scores, and a check that the judge is exact); ``random-scene``
renders a valid scene that ignores the prompt (the negative control: what
chance scores). The pattern follows the positive/negative control methods of
openproblems-bio (Luecken et al., 2024).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from genlab.contracts import BoxList, Generation, check_request
from genlab.worlds.shapes import grammar, sampling
from genlab.worlds.shapes.render import check_size, render


class OracleGenerator:
    """Positive control: parse the prompt and render one scene that satisfies it."""

    name = "oracle"

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], *,
                 boxes: Sequence[BoxList | None] | None = None, size: int = 32) -> Generation:
        size = check_size(size)
        box_lists = check_request(prompts, seeds, boxes)
        t0 = time.perf_counter()
        specs = [grammar.parse(p, b) for p, b in zip(prompts, box_lists, strict=True)]
        t1 = time.perf_counter()
        scenes = [sampling.realize(s, np.random.default_rng(int(seed)), "dev")
                  for s, seed in zip(specs, seeds, strict=True)]
        t2 = time.perf_counter()
        images = render(scenes, size)
        t3 = time.perf_counter()
        return Generation(images, {"text_encoding": t1 - t0, "layout": t2 - t1, "render": t3 - t2})


class RandomSceneGenerator:
    """Negative control: a valid random scene, whatever the prompt says."""

    name = "random-scene"

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], *,
                 boxes: Sequence[BoxList | None] | None = None, size: int = 32) -> Generation:
        size = check_size(size)
        check_request(prompts, seeds, boxes)
        t0 = time.perf_counter()
        scenes = [sampling.random_scene(np.random.default_rng(int(seed))) for seed in seeds]
        t1 = time.perf_counter()
        images = render(scenes, size)
        return Generation(images, {"layout": t1 - t0, "render": time.perf_counter() - t1})
