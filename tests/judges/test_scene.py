"""The ``scene`` judge: verdict semantics per category, reasons, and loud bad input."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genlab.contracts import Judge
from genlab.errors import InputError
from genlab.judges.scene import SceneJudge
from genlab.worlds.shapes import render, vocab
from genlab.worlds.shapes.grammar import parse
from genlab.worlds.shapes.spec import Box, Scene, SceneObject
from genlab.worlds.shapes.world import ShapesWorld

WORLD = ShapesWorld()
JUDGE = SceneJudge()


def obj(shape: str, colour: str, x: float, y: float, size: float = 0.22) -> SceneObject:
    return SceneObject(shape, colour, x, y, size)


def verdict(prompt: str, objects: list[SceneObject], background: str = "white",
            size: int = 32, boxes: list[Box] | None = None):
    image = render.render([Scene(background, tuple(objects))], size)[0]
    return JUDGE.judge_one(image, parse(prompt, boxes))


def test_is_a_judge() -> None:
    assert isinstance(JUDGE, Judge)
    assert JUDGE.name == "scene" and JUDGE.version == "1.1"


@pytest.mark.parametrize("size", [32, 64])
def test_oracle_passes_every_category(size: int) -> None:
    specs = [s for c in vocab.CATEGORIES for split in ("dev", "test")
             for s in WORLD.sample_specs(c, split, 6, seed=3)]
    images = WORLD.render(WORLD.realize(specs, seed=4, split="dev"), size)
    verdicts = JUDGE.judge(images, specs)
    assert all(v.passed for v in verdicts), [v.reason for v in verdicts if not v.passed]
    for v in verdicts:
        assert v.reason.startswith("found ") and v.reason.endswith("as asked")
        json.dumps(dict(v.details))


def test_passing_reason_says_what_was_found() -> None:
    v = verdict("two red squares", [obj("square", "red", 0.25, 0.3),
                                    obj("square", "red", 0.7, 0.6)])
    assert v.passed and v.reason == "found 2 red squares, as asked"
    assert v.details["background"] == "white" and len(v.details["objects"]) == 2


def test_wrong_count() -> None:
    objects = [obj("square", "red", x, y, 0.18) for x, y in
               [(0.2, 0.2), (0.5, 0.2), (0.8, 0.2), (0.2, 0.7)]]
    v = verdict("five red squares", objects)
    assert not v.passed
    assert v.reason == "expected 5 red squares, found 4 red squares"


def test_merged_objects_are_a_blob() -> None:
    objects = [obj("square", "red", x, 0.25, 0.18) for x in (0.2, 0.5, 0.8)]
    objects += [obj("square", "red", 0.3, 0.7, 0.2), obj("square", "red", 0.48, 0.7, 0.2)]
    v = verdict("five red squares", objects)
    assert v.reason == "expected 5 red squares, found 3 red squares and 1 red blob"


def test_attribute_swap() -> None:
    v = verdict("a red square and a blue circle",
                [obj("square", "blue", 0.3, 0.3), obj("circle", "red", 0.7, 0.7)])
    assert not v.passed
    assert v.reason == ("expected 1 blue circle and 1 red square, "
                        "found 1 blue square and 1 red circle")


def test_wrong_side() -> None:
    prompt = "a red circle to the left of a blue square"
    good = verdict(prompt, [obj("circle", "red", 0.25, 0.5), obj("square", "blue", 0.75, 0.5)])
    assert good.passed and good.details["offset"] == pytest.approx(0.5, abs=0.03)
    v = verdict(prompt, [obj("circle", "red", 0.75, 0.5), obj("square", "blue", 0.25, 0.5)])
    assert not v.passed
    assert v.reason == "red circle is right of blue square, expected left"
    level = verdict("a red circle above a blue square",
                    [obj("circle", "red", 0.25, 0.5), obj("square", "blue", 0.75, 0.52)])
    assert not level.passed and "level with blue square vertically" in level.reason


def test_extra_object() -> None:
    v = verdict("a red circle", [obj("circle", "red", 0.3, 0.3),
                                 obj("triangle", "green", 0.7, 0.7)])
    assert v.reason == "expected 1 red circle, found 1 green triangle and 1 red circle"


def test_negation_forbidden_object() -> None:
    prompt = "three circles and no red objects"
    good = verdict(prompt, [obj("circle", c, x, 0.5) for c, x in
                            [("blue", 0.2), ("green", 0.5), ("blue", 0.8)]])
    assert good.passed
    v = verdict(prompt, [obj("circle", c, x, 0.5) for c, x in
                         [("blue", 0.2), ("red", 0.5), ("blue", 0.8)]])
    assert not v.passed
    assert v.reason == ("found 1 red circle, forbidden by 'no red objects'; "
                        "expected 3 circles, found 2 blue circles")
    extra = verdict("a circle and no blue circles",
                    [obj("circle", "red", 0.3, 0.3), obj("square", "blue", 0.7, 0.7)])
    assert extra.reason == "found 1 blue square not asked for"


def test_layout_iou() -> None:
    boxes = [Box(0.1, 0.1, 0.35, 0.35), Box(0.6, 0.6, 0.85, 0.85)]
    prompt = "a red circle and a blue square"
    good = verdict(prompt, [obj("circle", "red", 0.225, 0.225, 0.25),
                            obj("square", "blue", 0.725, 0.725, 0.25)], boxes=boxes)
    assert good.passed and min(good.details["ious"]) > 0.9
    v = verdict(prompt, [obj("circle", "red", 0.225, 0.225, 0.25),
                         obj("square", "blue", 0.6, 0.6, 0.25)], boxes=boxes)
    assert not v.passed
    assert v.reason.startswith("blue square box IoU 0.")
    assert v.reason.endswith(" < 0.5")


def test_wrong_background() -> None:
    v = verdict("a red circle on a gray background", [obj("circle", "red", 0.5, 0.5)])
    assert not v.passed and v.reason == "the background is white, expected gray"
    ok = verdict("a red circle on a black background", [obj("circle", "red", 0.5, 0.5)],
                 background="black")
    assert ok.passed and ok.reason == "found 1 red circle on a black background, as asked"


def test_judge_is_per_image() -> None:
    specs = WORLD.sample_specs("counting", "dev", 3, seed=0)
    images = WORLD.render(WORLD.realize(specs, seed=0, split="dev"), 32)
    images[1] = 255  # blank the middle image only
    verdicts = JUDGE.judge(images, specs)
    assert [v.passed for v in verdicts] == [True, False, True]
    assert verdicts[1].reason.endswith("found nothing")


def test_bad_input_is_loud() -> None:
    spec = WORLD.sample_specs("single", "dev", 1, seed=0)
    img = np.zeros((1, 32, 32, 3), np.uint8)
    cases = [
        (np.zeros((1, 32, 32), np.uint8), spec, "shape"),
        (img.astype(np.float32), spec, "uint8"),
        (np.zeros((1, 32, 32, 4), np.uint8), spec, "(n, H, W, 3)"),
        (img.tolist(), spec, "numpy array"),
        (np.zeros((2, 32, 32, 3), np.uint8), spec, "2 images but 1 specs"),
        (img, ["a red circle"], "specs[0] must be a PromptSpec"),
        (img, "a red circle", "sequence of PromptSpec"),
        (np.zeros((1, 0, 32, 3), np.uint8), spec, "empty"),
    ]
    for images, specs, words in cases:
        with pytest.raises(InputError) as err:
            JUDGE.judge(images, specs)  # type: ignore[arg-type]
        assert words in str(err.value), (words, str(err.value))
    with pytest.raises(InputError):
        JUDGE.judge_one(np.zeros((32, 32, 3), np.int64), spec[0])
    assert JUDGE.judge(np.zeros((0, 32, 32, 3), np.uint8), []) == []


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), size=st.integers(32, 80),
       background=st.sampled_from([None, *vocab.BACKGROUNDS]))
def test_oracle_passes_at_any_size(seed: int, size: int, background: str | None) -> None:
    specs = [dataclasses.replace(s, background=background)
             for c in vocab.CATEGORIES for s in WORLD.sample_specs(c, "test", 1, seed=seed)]
    images = WORLD.render(WORLD.realize(specs, seed=seed, split="test"), size)
    verdicts = JUDGE.judge(images, specs)
    assert all(v.passed for v in verdicts), [v.reason for v in verdicts if not v.passed]
