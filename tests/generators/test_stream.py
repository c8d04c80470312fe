"""Stream batching: the streamed images are ``generate``'s, one call per admitted prompt."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from genlab.errors import InputError
from genlab.generators.flow import FlowConfig, FlowGenerator, ensure_trained
from genlab.worlds.shapes.spec import Box

torch.set_num_threads(2)
PROMPTS = ["a red circle", "two blue squares", "a green triangle to the left of a red square",
           "three yellow circles", "a blue square", "no circles"]


@pytest.fixture(scope="module")
def ckpt(model_cache: Path) -> Path:
    return ensure_trained(FlowConfig.smoke(), model_cache, progress=False)


@pytest.mark.parametrize("guidance", [1.0, 2.0])
def test_stream_draws_the_generated_images(ckpt: Path, guidance: float,
                                           same_up_to_rounding) -> None:  # type: ignore[no-untyped-def]
    gen = FlowGenerator(ckpt, steps=3, sampler="euler", guidance=guidance)
    seeds = list(range(10, 10 + len(PROMPTS)))
    boxes = [None, None, (Box(0.1, 0.1, 0.4, 0.4), Box(0.55, 0.55, 0.85, 0.85)), None, None, None]
    result = gen.stream(PROMPTS, seeds, boxes=boxes)
    same_up_to_rounding(result.generation.images, gen.generate(PROMPTS, seeds,
                                                               boxes=boxes).images)
    # one call admits each prompt; the last one needs steps - 1 more to drain
    assert result.calls == len(PROMPTS) + gen.steps - 1
    assert len(result.latency_s) == len(PROMPTS) and min(result.latency_s) > 0
    assert set(result.generation.timings) == {"text_encoding", "backbone", "sampler"}
    assert gen.stream([], []).generation.images.shape == (0, 32, 32, 3)


def test_stream_needs_euler_and_checks_its_input(ckpt: Path) -> None:
    with pytest.raises(InputError, match="euler"):
        FlowGenerator(ckpt, sampler="ab2").stream(PROMPTS[:1], [0])
    with pytest.raises(InputError, match="feature caching"):
        FlowGenerator(ckpt, cache=2).stream(PROMPTS[:1], [0])
    with pytest.raises(InputError, match="seeds"):
        FlowGenerator(ckpt).stream(PROMPTS[:2], [0])
    assert np.isfinite(FlowGenerator(ckpt, steps=1).stream(PROMPTS[:1], [0])
                       .generation.images).all()
