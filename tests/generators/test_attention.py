"""Attention guidance (Attend-and-Excite / layout backward guidance, issue 3 method 4)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from genlab.errors import InputError, ParseError
from genlab.generators.flow import attention as A
from genlab.generators.flow.config import FlowConfig
from genlab.generators.flow.generator import FlowGenerator
from genlab.generators.flow.model import FlowModel
from genlab.generators.planned import plan_scene
from genlab.worlds.shapes.spec import Box


def test_group_tokens_are_each_groups_colour_and_noun() -> None:
    assert A.group_tokens("two red squares and a green circle") == ((1, 2), (5, 6))
    assert A.group_tokens("a red circle to the left of a blue square") == ((1, 2), (8, 9))
    # the negated part is no object to draw; an uncoloured group has its noun only
    assert A.group_tokens("three circles and no red objects") == ((1,),)
    assert A.group_tokens("a square and no triangles on a black background") == ((1,),)
    four = tuple(Box(0.05 + 0.24 * i, 0.1, 0.25 + 0.24 * i, 0.3) for i in range(4))
    prompt = "a blue square, a cyan square, a green circle and a red triangle"
    assert len(A.group_tokens(prompt, four)) == 4  # a layout of four parses with its boxes
    with pytest.raises(ParseError, match="blorp"):
        A.group_tokens("a blorp circle")


def test_box_regions_cover_the_planned_objects_of_each_group() -> None:
    prompt = "two red squares and a green circle"
    tg = A.target(prompt, 3, None, "box", 4)
    plan = plan_scene(prompt, 3).grounding
    assert tg.regions is not None and len(tg.regions) == 2
    squares = [o for o in plan if o.shape == "square"]
    area = sum((o.box.x1 - o.box.x0) * (o.box.y1 - o.box.y0) for o in squares)
    assert tg.regions[0].sum() / 16 == pytest.approx(area, abs=1e-6)
    assert A.target(prompt, 3, None, "excite", 4).regions is None
    boxes = (Box(0.0, 0.0, 0.5, 0.5), Box(0.5, 0.5, 1.0, 1.0))
    given = A.target("a red circle and a blue square", 0, boxes, "box", 4)
    assert given.regions is not None
    assert given.regions[0][:2, :2].sum() == 4 and given.regions[0].sum() == 4


def test_losses_reward_attention_inside_the_region_and_peaks() -> None:
    region = np.zeros((2, 2))
    region[0, 0] = 1.0
    tg = A.Target(((0,),), (region,))
    inside = torch.zeros(1, 2, 2, 2)
    inside[0, 0, 0, 0] = 1.0
    uniform = torch.full((1, 2, 2, 2), 0.25)
    assert float(A.box_loss(inside, [tg])[0]) == pytest.approx(0.0)
    assert float(A.box_loss(uniform, [tg])[0]) == pytest.approx(0.75 ** 2)
    assert float(A.excite_loss(inside, [tg])[0]) == pytest.approx(0.0)
    assert float(A.excite_loss(uniform, [tg])[0]) == pytest.approx(0.75)


def test_bad_settings_are_clear_errors() -> None:
    for kw, word in (({"mode": "boxes"}, "excite, box"), ({"strength": 0}, "strength"),
                     ({"until": 1.5}, "until")):
        with pytest.raises(InputError, match=word):
            A.AttentionGuidance(**kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def model() -> FlowModel:
    torch.manual_seed(0)
    return FlowModel(FlowConfig.smoke())


def test_the_storing_processor_leaves_the_velocity_unchanged(model: FlowModel) -> None:
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    ids, mask = model.tokenizer.encode(["a red circle", "two blue squares"])
    states, smask = model.encode(ids, mask)
    with torch.no_grad():
        before = model.velocity(x, torch.full((2,), 0.5), states, smask,
                                boxes=model.box_maps(ids))
        store = A.install(model.unet)
        store.recording = True
        after = model.velocity(x, torch.full((2,), 0.5), states, smask,
                               boxes=model.box_maps(ids))
        store.recording = False
    torch.testing.assert_close(before, after, rtol=1e-5, atol=1e-6)
    a = A.mean_map(store.maps)
    assert a.shape == (2, model.config.max_tokens, 8, 8)
    # each cell's attention is a distribution over the prompt's tokens
    torch.testing.assert_close(a.sum(1), torch.ones(2, 8, 8), rtol=1e-5, atol=1e-5)
    assert float(a[0, 3:].abs().sum()) == 0.0  # padding gets none


@pytest.mark.parametrize("mode", A.MODES)
def test_guided_sampling_moves_the_image_deterministically(model: FlowModel, mode: str) -> None:
    prompts, seeds = ["two red squares and a green circle", "a red circle"], [0, 1]
    plain = FlowGenerator.from_model(model, steps=4).generate(prompts, seeds)
    g = A.AttentionGuidance(mode, strength=0.5, until=0.5)
    gen = FlowGenerator.from_model(model, steps=4, attention=g)
    a, b = gen.generate(prompts, seeds), gen.generate(prompts, seeds)
    np.testing.assert_array_equal(a.images, b.images)
    assert np.abs(a.images.astype(int) - plain.images).max() > 0
    assert a.timings["attention_guidance"] > 0
    assert gen.describe()["attention"] == dataclasses.asdict(g)
    assert "attention" not in FlowGenerator.from_model(model).describe()


def test_attention_guidance_refuses_what_it_cannot_guide(model: FlowModel) -> None:
    g = A.AttentionGuidance()
    with pytest.raises(InputError, match="euler"):
        FlowGenerator.from_model(model, sampler="heun", attention=g)
    with pytest.raises(InputError, match="euler"):
        FlowGenerator.from_model(model, compose=True, attention=g)
    with pytest.raises(InputError, match="AttentionGuidance"):
        FlowGenerator.from_model(model, attention="box")  # type: ignore[arg-type]
