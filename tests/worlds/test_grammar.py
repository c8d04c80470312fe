"""Grammar of the ``shapes`` world: prompt/parse round-trips and loud failures."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genlab.errors import ParseError
from genlab.worlds.shapes import grammar, vocab
from genlab.worlds.shapes.sampling import sample_spec, sample_specs
from genlab.worlds.shapes.spec import Box, Group, PromptSpec, Scene, SceneObject
from genlab.worlds.shapes.splits import SPLITS

BACKGROUND_CHOICES = (None, *vocab.BACKGROUNDS)


def _many_specs(n: int) -> list[PromptSpec]:
    """``n`` specs over every category, split and background, deterministically."""
    rng = np.random.default_rng(1234)
    out: list[PromptSpec] = []
    per = n // (len(SPLITS) * len(vocab.CATEGORIES)) + 1
    for split in SPLITS:
        for cat in vocab.CATEGORIES:
            out += sample_specs([cat] * per, rng, split)
    bgs = rng.integers(len(BACKGROUND_CHOICES), size=len(out))
    return [dataclasses.replace(s, background=BACKGROUND_CHOICES[b])
            for s, b in zip(out, bgs, strict=True)][:n]


def test_ten_thousand_specs_round_trip() -> None:
    specs = _many_specs(10_000)
    assert len(specs) == 10_000
    assert {s.category for s in specs} == set(vocab.CATEGORIES)
    assert {s.background for s in specs} == set(BACKGROUND_CHOICES)
    for spec in specs:
        text = grammar.prompt(spec)
        assert grammar.parse(text, spec.boxes) == spec, text


@st.composite
def prompt_specs(draw: st.DrawFn) -> PromptSpec:
    category = draw(st.sampled_from(vocab.CATEGORIES))
    split = draw(st.sampled_from(SPLITS))
    seed = draw(st.integers(0, 2**63 - 1))
    spec = sample_spec(category, np.random.default_rng(seed), split)
    return dataclasses.replace(spec, background=draw(st.sampled_from(BACKGROUND_CHOICES)))


@settings(max_examples=1500, deadline=None)
@given(prompt_specs())
def test_round_trip_property(spec: PromptSpec) -> None:
    text = grammar.prompt(spec)
    assert grammar.parse(text, spec.boxes) == spec
    # case, surrounding spaces and a final full stop do not change the meaning
    assert grammar.parse(f"  {text.capitalize()}. ", spec.boxes) == spec
    assert PromptSpec.from_json(spec.to_json()) == spec


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_random_text_only_raises_parse_error(text: str) -> None:
    try:
        spec = grammar.parse(text)
    except ParseError:
        return
    assert grammar.parse(grammar.prompt(spec)) == spec


_WORDS = [*vocab.vocabulary(), ","]


@st.composite
def edited_prompts(draw: st.DrawFn) -> tuple[str, PromptSpec]:
    """A valid prompt with a few random word edits (delete, insert, replace, swap)."""
    spec = draw(prompt_specs())
    words = grammar.prompt(spec).replace(",", " ,").split()
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "swap"]))
        i = draw(st.integers(0, len(words) - 1)) if words else 0
        if op == "delete" and words:
            del words[i]
        elif op == "insert":
            words.insert(i, draw(st.sampled_from(_WORDS)))
        elif op == "replace" and words:
            words[i] = draw(st.sampled_from(_WORDS))
        elif op == "swap" and len(words) > 1:
            j = draw(st.integers(0, len(words) - 1))
            words[i], words[j] = words[j], words[i]
    return " ".join(words), spec


@settings(max_examples=1500, deadline=None)
@given(edited_prompts())
def test_edited_prompts_parse_or_raise_parse_error(case: tuple[str, PromptSpec]) -> None:
    text, spec = case
    try:
        parsed = grammar.parse(text, spec.boxes)
    except ParseError:
        return
    # whatever parses is a valid spec whose canonical prompt parses back to it
    assert grammar.parse(grammar.prompt(parsed), parsed.boxes) == parsed


def test_unknown_word_lists_accepted_words() -> None:
    with pytest.raises(ParseError) as err:
        grammar.parse("a crimson circle")
    msg = str(err.value)
    assert "'crimson'" in msg
    for word in ("red", "circle", "triangles", "seven", "background"):
        assert word in msg


@pytest.mark.parametrize("text", [
    "a red circle and no circles",
    "two blue squares and no blue objects",
    "three triangles and no triangles",
    "a green square and no green squares",
    "two circles and no objects",
])
def test_contradictions_raise(text: str) -> None:
    with pytest.raises(ParseError):
        grammar.parse(text)


@pytest.mark.parametrize("text", [
    "", "   ", ".", "a", "red circle", "a red", "a red circles", "two red circle",
    "nine red circles", "a red circle,", "a red circle and", "no red circles",
    "a red circle to the left of", "two red circles to the left of a blue square",
    "a red circle and a red circle", "a red circle on a red background",
    "a red circle on a background", "one red circle, one blue square, one green triangle "
    "and one cyan circle", "a red circle above a blue square below a green circle",
    "a red circle and no red circles and no squares",
])
def test_malformed_prompts_raise(text: str) -> None:
    with pytest.raises(ParseError):
        grammar.parse(text)


@pytest.mark.parametrize("text,category", [
    ("a red circle", "single"),
    ("seven blue triangles", "counting"),
    ("two red squares, one green circle and three blue triangles", "multi"),
    ("a red square and a blue circle", "binding"),
    ("a red circle to the left of a blue square", "position"),
    ("three circles and no red objects", "negation"),
    ("a circle and no blue circles on a black background", "negation"),
])
def test_examples_from_the_docstring(text: str, category: str) -> None:
    spec = grammar.parse(text)
    assert spec.category == category
    assert grammar.prompt(spec) == text


def test_layout_needs_boxes_and_position_refuses_them() -> None:
    boxes = (Box(0.1, 0.1, 0.3, 0.3), Box(0.6, 0.6, 0.8, 0.8))
    spec = grammar.parse("a red circle and a blue square", boxes)
    assert spec.category == "layout" and spec.boxes == boxes
    with pytest.raises(ParseError):
        grammar.parse("a red circle to the left of a blue square", boxes)
    with pytest.raises(ParseError):  # one box for two objects
        grammar.parse("a red circle and a blue square", boxes[:1])


def test_non_string_prompt_raises_parse_error() -> None:
    with pytest.raises(ParseError):
        grammar.parse(42)  # type: ignore[arg-type]


def test_spec_and_scene_json_round_trip() -> None:
    for spec in _many_specs(700):
        assert PromptSpec.from_json(spec.to_json()) == spec
    scene = Scene("gray", (SceneObject("circle", "red", 0.25, 0.3, 0.2),
                           SceneObject("triangle", "blue", 0.7, 0.6, 0.25)))
    assert Scene.from_json(scene.to_json()) == scene
    neg = PromptSpec("negation", (Group(2, "square", None),), negation=Group(0, None, "red"))
    assert PromptSpec.from_json(neg.to_json()) == neg
