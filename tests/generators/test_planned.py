"""The grammar's layout planner (LMD analog) and the generator behind it."""

from __future__ import annotations

import pytest

from genlab.errors import InputError, ParseError
from genlab.generators.controls import OracleGenerator
from genlab.generators.planned import PlannedGenerator, plan
from genlab.judges.scene import SceneJudge
from genlab.worlds.shapes import grammar
from genlab.worlds.shapes.spec import Box
from genlab.worlds.shapes.world import ShapesWorld

PLANNABLE = ("single", "binding", "position")


@pytest.mark.parametrize("category", PLANNABLE)
def test_a_perfect_drawing_of_the_plan_satisfies_the_original_prompt(category: str) -> None:
    """The oracle drawing the planned layout (prompt rewritten, boxes added) passes the
    judge on the *original* spec: the plan keeps every object and the relation."""
    world = ShapesWorld()
    specs = world.sample_specs(category, "test", 40, seed=4)
    prompts = [grammar.prompt(s) for s in specs]
    seeds = list(range(len(prompts)))
    plans = [plan(p, s, 4) for p, s in zip(prompts, seeds, strict=True)]
    assert all(p.planned for p in plans)
    assert all(grammar.parse(p.prompt, p.boxes).category == "layout" for p in plans)
    out = PlannedGenerator(OracleGenerator(), 4, name="oracle-planned").generate(prompts, seeds)
    verdicts = SceneJudge().judge(out.images, specs)
    assert all(v.passed for v in verdicts), [v.reason for v in verdicts if not v.passed]
    assert "planning" in out.timings


def test_unplannable_prompts_and_given_boxes_pass_through() -> None:
    for prompt in ("three red squares", "a circle and no red objects",
                   "two red squares and a green circle"):
        assert plan(prompt, 0, 4) == plan(prompt, 0, 4)
        assert plan(prompt, 0, 4).prompt == prompt and not plan(prompt, 0, 4).planned
    three = "a red circle, a blue square and a green triangle"
    assert plan(three, 0, 3).planned and not plan(three, 0, 2).planned  # max_boxes
    given = (Box(0.1, 0.1, 0.4, 0.4), Box(0.5, 0.5, 0.9, 0.9))
    p = plan("a red circle and a blue square", 0, 4, given)
    assert p.boxes == given and p.prompt == "a red circle and a blue square"


def test_the_plan_depends_on_prompt_and_seed_only() -> None:
    prompt = "a red circle to the left of a blue square"
    assert plan(prompt, 7, 4) == plan(prompt, 7, 4)
    assert plan(prompt, 7, 4).boxes != plan(prompt, 8, 4).boxes


def test_bad_input_is_a_clear_error() -> None:
    gen = PlannedGenerator(OracleGenerator(), 4, name="oracle-planned")
    with pytest.raises(ParseError, match="blorp"):
        gen.generate(["a blorp circle"], [0])
    with pytest.raises(InputError, match="seeds"):
        gen.generate(["a red circle"], [0, 1])
    with pytest.raises(InputError, match="seeds must be ints"):
        gen.generate(["a red circle"], ["x"])  # type: ignore[list-item]
    with pytest.raises(InputError, match="box lists"):
        gen.generate(["a red circle"], [0], boxes=[None, None])
    with pytest.raises(InputError, match="max_boxes"):
        PlannedGenerator(OracleGenerator(), 0, name="x")


def test_a_run_records_what_decides_the_images() -> None:
    """The track's run description holds the planner and the inner model's config and
    sampling options, so runs of different inner models or guidance never share a hash;
    a config field added later is left out at its default."""
    import dataclasses

    from genlab.generators.flow import FlowConfig, FlowGenerator
    from genlab.generators.flow.model import FlowModel
    from genlab.tracks.control import describe_generator

    model = FlowModel(FlowConfig.smoke())
    plain = FlowGenerator.from_model(model)
    stronger = FlowGenerator.from_model(model, guidance=3.0)
    assert describe_generator(plain) != describe_generator(stronger)
    assert "coord_channels" not in describe_generator(plain)["config"]  # ADDED_FIELDS default
    a = describe_generator(PlannedGenerator(plain, 4, name="flow-planned"))
    b = describe_generator(PlannedGenerator(stronger, 4, name="flow-planned"))
    other = FlowGenerator.from_model(FlowModel(dataclasses.replace(FlowConfig.smoke(), seed=9)))
    c = describe_generator(PlannedGenerator(other, 4, name="flow-planned"))
    assert a != b and a != c and a["describe"]["inner"]["describe"]["guidance"] == 2.0
