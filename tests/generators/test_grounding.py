"""Grounding maps, the whole-scene planner and ``flow-grounded`` (issue 3, method 1)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genlab.errors import InputError, ParseError
from genlab.generators.flow.config import FlowConfig
from genlab.generators.flow.generator import FlowGenerator
from genlab.generators.flow.grounding import (
    GROUNDING_CHANNELS,
    GroundedObject,
    from_layout,
    from_scene,
    grounding_maps,
    scene_maps,
)
from genlab.generators.flow.model import FlowModel
from genlab.generators.planned import GroundedGenerator, plan_scene
from genlab.judges.scene import SceneJudge
from genlab.worlds.shapes import grammar, vocab
from genlab.worlds.shapes.render import render
from genlab.worlds.shapes.spec import Box, Scene, SceneObject
from genlab.worlds.shapes.world import ShapesWorld


def test_a_box_paints_its_covered_fraction_and_its_kind() -> None:
    # cells of 1/4: the box covers cell (row 0, col 1) fully and half of (0, 2)
    maps = grounding_maps([(GroundedObject(Box(0.25, 0.0, 0.625, 0.25), "blue", "square"),)], 4)
    assert maps.shape == (1, GROUNDING_CHANNELS, 4, 4)
    presence = maps[0, 0]
    assert presence[0, 1] == 1.0 and presence[0, 2] == pytest.approx(0.5)
    assert float(presence.sum()) == pytest.approx(1.5)  # the box's area in cells
    colour = 1 + list(vocab.COLOURS).index("blue")
    shape = 1 + len(vocab.COLOURS) + vocab.SHAPES.index("square")
    assert torch.equal(maps[0, colour], presence) and torch.equal(maps[0, shape], presence)
    others = [c for c in range(1, GROUNDING_CHANNELS) if c not in (colour, shape)]
    assert float(maps[0, others].abs().sum()) == 0.0


def test_open_attributes_paint_presence_only_and_empty_plans_are_null() -> None:
    maps = grounding_maps([(GroundedObject(Box(0.0, 0.0, 0.5, 0.5), None, "circle"),), ()], 8)
    assert float(maps[0, 1:1 + len(vocab.COLOURS)].sum()) == 0.0
    assert float(maps[0, 0].sum()) == pytest.approx(16.0)
    assert float(maps[1].abs().sum()) == 0.0


def test_the_training_fast_path_equals_the_scene_path() -> None:
    batch = ShapesWorld().training_batch(np.random.default_rng(3), 48, 32)
    fast = scene_maps(batch.scenes, 16)
    slow = grounding_maps([from_scene(s) for s in batch.scenes.to_scenes()], 16)
    assert torch.allclose(fast, slow)
    counts = np.bincount(batch.scenes.objects["scene"], minlength=48)
    objects = (fast[:, 0] > 0).flatten(1).any(1).numpy()
    assert (objects == (counts > 0)).all()


def test_layout_prompts_ground_box_k_to_object_k() -> None:
    boxes = (Box(0.1, 0.1, 0.3, 0.3), Box(0.6, 0.6, 0.9, 0.9))
    g = from_layout("a red circle and a blue square", boxes)
    assert [(o.box, o.colour, o.shape) for o in g] == [(boxes[0], "red", "circle"),
                                                       (boxes[1], "blue", "square")]
    with pytest.raises(ParseError):
        from_layout("a red circle and a blue square", boxes[:1])


def test_bad_grounded_objects_name_the_value() -> None:
    with pytest.raises(InputError, match="mauve"):
        GroundedObject(Box(0, 0, 1, 1), "mauve", "circle")
    with pytest.raises(InputError, match="hexagon"):
        GroundedObject(Box(0, 0, 1, 1), "red", "hexagon")
    with pytest.raises(InputError, match="Box"):
        GroundedObject((0, 0, 1, 1), "red", "circle")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="grounding"):
        FlowConfig(grounding="yes")  # type: ignore[arg-type]


def _scene_of(plan_grounding: tuple[GroundedObject, ...], background: str | None) -> Scene:
    """The perfect drawing of a plan: each object filling its square box."""
    objs = tuple(SceneObject(o.shape or "circle", o.colour or "red", (o.box.x0 + o.box.x1) / 2,
                             (o.box.y0 + o.box.y1) / 2, o.box.x1 - o.box.x0)
                 for o in plan_grounding)
    return Scene(background or vocab.DEFAULT_BACKGROUND, objs)


@pytest.mark.parametrize("category", vocab.CATEGORIES)
def test_a_perfect_drawing_of_the_scene_plan_satisfies_the_prompt(category: str) -> None:
    """The planner is exact for every category: counting becomes n boxes, negation
    what the plan leaves out, position the relation of the two boxes."""
    world = ShapesWorld()
    specs = world.sample_specs(category, "test", 40, seed=5)
    images, for_judge = [], []
    for i, spec in enumerate(specs):
        p = plan_scene(grammar.prompt(spec), i, spec.boxes)
        assert all(o.colour and o.shape for o in p.grounding)  # the plan fills every kind
        images.append(render([_scene_of(p.grounding, spec.background)], 32)[0])
        for_judge.append(spec)
    verdicts = SceneJudge().judge(np.stack(images), for_judge)
    assert all(v.passed for v in verdicts), [v.reason for v in verdicts if not v.passed]


def test_the_scene_plan_depends_on_prompt_and_seed_only() -> None:
    prompt = "five green triangles and no squares"
    assert plan_scene(prompt, 3) == plan_scene(prompt, 3)
    assert plan_scene(prompt, 3).grounding != plan_scene(prompt, 4).grounding
    assert len(plan_scene(prompt, 3).grounding) == 5


def test_the_planner_rejects_what_the_grammar_rejects() -> None:
    with pytest.raises(ParseError, match="contradicts"):
        plan_scene("a red circle and no circles", 0)
    with pytest.raises(ParseError, match="at most 8"):
        plan_scene("eight red circles and a blue square", 0)
    with pytest.raises(ParseError, match="blorp"):
        plan_scene("a blorp circle", 0)
    with pytest.raises(ParseError, match="overlap"):
        plan_scene("a red circle and a blue square",
                   0, (Box(0.1, 0.1, 0.5, 0.5), Box(0.3, 0.3, 0.7, 0.7)))
    given = (Box(0.1, 0.1, 0.4, 0.4), Box(0.5, 0.5, 0.9, 0.9))
    kept = plan_scene("a red circle and a blue square", 0, given)
    assert kept.boxes == given
    for o, b in zip(kept.grounding, given, strict=True):
        assert (o.box.x0, o.box.y0, o.box.x1, o.box.y1) == pytest.approx((b.x0, b.y0, b.x1, b.y1))


@pytest.fixture(scope="module")
def grounded() -> FlowGenerator:
    torch.manual_seed(0)
    return FlowGenerator.from_model(FlowModel(FlowConfig.grounded_smoke()), steps=2)


def test_grounded_generator_draws_any_prompt_and_times_planning(grounded) -> None:
    gen = GroundedGenerator(grounded, name="flow-grounded")
    out = gen.generate(["seven blue triangles", "a square and no red objects"], [0, 1])
    assert out.images.shape == (2, 32, 32, 3) and "planning" in out.timings
    again = gen.generate(["seven blue triangles"], [0])
    assert np.abs(again.images[0].astype(int) - out.images[0].astype(int)).max() <= 1


def test_a_grounded_generator_streams_its_generated_images(grounded, same_up_to_rounding
                                                           ) -> None:
    gen = GroundedGenerator(grounded.with_options(steps=3, sampler="euler"), name="flow-grounded")
    prompts = ["seven blue triangles", "a square and no red objects", "a red circle"]
    result = gen.stream(prompts, [0, 1, 2])
    same_up_to_rounding(result.generation.images, gen.generate(prompts, [0, 1, 2]).images)
    assert "planning" in result.generation.timings and result.calls == 3 + 3 - 1


def test_a_grounded_model_needs_a_plan_and_a_plain_one_refuses_it(grounded) -> None:
    with pytest.raises(InputError, match="no plan"):
        grounded.generate(["a red circle"], [0])
    boxes = (Box(0.1, 0.1, 0.4, 0.4),)
    assert grounded.generate(["a red circle"], [0], boxes=[boxes]).images.shape[0] == 1
    with pytest.raises(InputError, match="groundings"):
        grounded.generate(["a red circle"], [0], grounding=[(), ()])
    plain = FlowGenerator.from_model(FlowModel(FlowConfig.smoke()), steps=1)
    with pytest.raises(InputError, match="takes no grounding"):
        plain.generate(["a red circle"], [0], grounding=[()])
    with pytest.raises(InputError, match="grounding=True"):
        GroundedGenerator(plain, name="flow-grounded")


def test_the_model_checks_its_grounding_input() -> None:
    model = FlowModel(FlowConfig.grounded_smoke())
    x = torch.zeros(1, 3, 32, 32)
    states, mask = model.encode(*model.tokenizer.encode(["a red circle"], None))
    with pytest.raises(InputError, match="grounding=True"):
        model.velocity(x, torch.ones(1), states, mask)
    maps = model.grounding_maps([()])
    assert model.velocity(x, torch.ones(1), states, mask, grounding=maps).shape == x.shape
