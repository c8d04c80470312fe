"""Composable guidance (Composable Diffusion analog, issue 3 method 2)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genlab.errors import InputError, ParseError
from genlab.generators.flow.composition import Term, terms
from genlab.generators.flow.config import FlowConfig
from genlab.generators.flow.generator import FlowGenerator
from genlab.generators.flow.model import FlowModel
from genlab.worlds.shapes import grammar
from genlab.worlds.shapes.spec import Box


def test_and_splits_object_groups_and_keeps_the_background() -> None:
    got = terms("two red squares and a green circle on a black background", None, 2.0)
    assert got == (Term("two red squares on a black background", None, 2.0),
                   Term("a green circle on a black background", None, 2.0))
    for t in got:  # every term is a prompt the model was trained on
        grammar.parse(t.prompt)


def test_not_subtracts_every_forbidden_kind_at_total_weight_w() -> None:
    got = terms("three circles and no red objects", None, 3.0)
    assert got[0] == Term("three circles and no red objects", None, 3.0)
    assert [t.prompt for t in got[1:]] == ["a red circle", "a red square", "a red triangle"]
    assert sum(t.weight for t in got[1:]) == pytest.approx(-3.0)
    assert len(terms("a square and no triangles", None, 2.0)) == 1 + 6


@pytest.mark.parametrize("prompt", ["a red circle", "seven blue triangles",
                                    "a red circle to the left of a blue square"])
def test_other_categories_are_plain_guidance(prompt: str) -> None:
    assert terms(prompt, None, 2.0) == (Term(prompt, None, 2.0),)
    boxes = (Box(0.1, 0.1, 0.4, 0.4),)
    assert terms("a red circle", boxes, 2.0) == (Term("a red circle", boxes, 2.0),)


def test_bad_prompts_are_the_grammars_errors() -> None:
    with pytest.raises(ParseError, match="blorp"):
        terms("a blorp circle", None, 2.0)


@pytest.fixture(scope="module")
def model() -> FlowModel:
    torch.manual_seed(0)
    return FlowModel(FlowConfig.smoke())


def test_a_one_term_prompt_samples_exactly_as_plain_guidance(model: FlowModel) -> None:
    plain = FlowGenerator.from_model(model, steps=3)
    composed = FlowGenerator.from_model(model, steps=3, compose=True)
    prompts = ["a red circle", "a red square and a blue circle", "a square and no triangles"]
    a = plain.generate(prompts, [0, 1, 2]).images
    b = composed.generate(prompts, [0, 1, 2]).images
    assert np.array_equal(a[0], b[0])  # single: one term at w, the CFG formula
    assert not np.array_equal(a[1], b[1]) and not np.array_equal(a[2], b[2])
    # batching never changes an image: each is a function of its own terms and seed
    alone = FlowGenerator.from_model(model, steps=3, compose=True, batch_size=1)
    assert np.abs(alone.generate(prompts, [0, 1, 2]).images.astype(int)
                  - b.astype(int)).max() <= 1
    assert composed.describe()["compose"] is True and "compose" not in plain.describe()


def test_compose_is_checked(model: FlowModel) -> None:
    with pytest.raises(InputError, match="compose"):
        FlowGenerator.from_model(model, compose="yes")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="grounded"):
        FlowGenerator.from_model(FlowModel(FlowConfig.grounded_smoke()), compose=True)
