"""Feature caching (DeepCache analog): the shallow pass's mechanics, the option, errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import torch

from genlab.errors import InputError
from genlab.generators.flow import FlowConfig, FlowGenerator, ensure_trained
from genlab.generators.flow.feature_cache import FeatureCache
from genlab.generators.flow.model import FlowModel

torch.set_num_threads(2)
PROMPTS = ["a red circle", "two blue squares", "a green triangle to the left of a red square"]


@pytest.fixture(scope="module")
def ckpt(model_cache: Path) -> Path:
    return ensure_trained(FlowConfig.smoke(), model_cache, progress=False)


def _inputs(model: FlowModel, n: int = 3) -> tuple[Any, ...]:
    ids, mask = model.tokenizer.encode(PROMPTS[:n])
    states, smask = model.encode(ids, mask)
    x = torch.randn(n, 3, model.config.image_size, model.config.image_size,
                    generator=torch.Generator().manual_seed(0))
    return x, states, smask, model.box_maps(ids)


@torch.no_grad()
def test_shallow_pass_on_its_own_cache_is_the_full_pass(ckpt: Path) -> None:
    """A shallow evaluation on the deep feature of the same input reproduces the full
    evaluation: the skip bookkeeping is right; only the cache's staleness can differ."""
    model = FlowGenerator(ckpt).model
    x, states, smask, boxes = _inputs(model)

    def v(x: torch.Tensor) -> torch.Tensor:
        return model.velocity(x, t, states, smask, boxes=boxes)

    t = torch.full((3,), 0.6)
    cache = FeatureCache(model.unet, 2)
    with cache(0):
        full = v(x)
    with cache(1):
        shallow = v(x)
    torch.testing.assert_close(shallow, full, rtol=1e-4, atol=1e-5)
    assert (cache.full_calls, cache.shallow_calls) == (1, 1)
    # a stale cache (another input) changes the output, and the blocks are restored
    with cache(1):
        stale = v(x * 0.5)
    assert not torch.allclose(stale, v(x * 0.5), atol=1e-4)
    assert all("forward" not in vars(b) for b in [*model.unet.down_blocks, *model.unet.up_blocks,
                                                   model.unet.mid_block])
    torch.testing.assert_close(v(x), full)


def test_interval_one_is_the_plain_model_and_caching_is_an_option(ckpt: Path) -> None:
    gen = FlowGenerator(ckpt, steps=4, sampler="euler")
    plain = gen.generate(PROMPTS, [1, 2, 3]).images
    assert (gen.with_options(cache=1).generate(PROMPTS, [1, 2, 3]).images == plain).all()
    cached = gen.with_options(cache=2)
    assert cached.cache == 2 and gen.cache == 1 and cached.describe()["cache"] == 2
    assert "cache" not in gen.describe()
    out = cached.generate(PROMPTS, [1, 2, 3]).images
    assert out.shape == plain.shape and not (out == plain).all()
    assert FlowGenerator(ckpt, cache=3).cache == 3


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_interval(ckpt: Path, bad: Any) -> None:
    with pytest.raises(InputError, match="interval"):
        FlowGenerator(ckpt).with_options(cache=bad)


def test_caching_needs_a_plain_unet(ckpt: Path) -> None:
    dit = FlowGenerator.from_model(FlowModel(dataclasses.replace(FlowConfig.smoke(),
                                                                 backbone="dit")))
    with pytest.raises(InputError, match="UNet backbone"):
        dit.with_options(cache=2)
    with pytest.raises(InputError, match="compile"):
        FlowGenerator(ckpt, cache=2, compile=True)
    with pytest.raises(InputError, match="UNet"):
        FeatureCache(torch.nn.Linear(2, 2), 2)
