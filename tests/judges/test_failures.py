"""Failure modes of the scene judge: each failed verdict names what went wrong."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.judges.failures import MODES
from genlab.judges.scene import SceneJudge
from genlab.worlds.shapes import render
from genlab.worlds.shapes.grammar import parse
from genlab.worlds.shapes.spec import Box, Scene, SceneObject

JUDGE = SceneJudge()


def o(shape: str, colour: str, x: float, y: float, size: float = 0.22) -> SceneObject:
    return SceneObject(shape, colour, x, y, size)


def failure(prompt: str, objects: list[SceneObject], background: str = "white",
            boxes: list[Box] | None = None) -> str | None:
    image = render.render([Scene(background, tuple(objects))], 64)[0]
    v = JUDGE.judge_one(image, parse(prompt, boxes))
    return None if v.passed else v.details["failure"]


@pytest.mark.parametrize(("prompt", "objects", "mode"), [
    ("a red square and a blue circle",
     [o("square", "blue", 0.25, 0.3), o("circle", "red", 0.7, 0.7)], "attribute swap"),
    ("three red circles", [o("circle", "red", 0.2, 0.2), o("circle", "red", 0.7, 0.7)],
     "wrong count"),
    ("a red square and a blue circle",
     [o("square", "red", 0.25, 0.3), o("circle", "green", 0.7, 0.7)], "wrong attribute"),
    ("a red circle to the left of a blue square",
     [o("circle", "red", 0.75, 0.5), o("square", "blue", 0.25, 0.5)], "wrong side"),
    ("two circles and no red objects",
     [o("circle", "red", 0.2, 0.2), o("circle", "blue", 0.7, 0.7)], "forbidden object"),
    ("a red circle on a black background", [o("circle", "red", 0.5, 0.5)], "wrong background"),
    ("a red circle", [o("circle", "red", 0.5, 0.5)], None),
])
def test_each_mode_is_named(prompt: str, objects: list[SceneObject], mode: str | None) -> None:
    assert failure(prompt, objects) == mode
    assert mode is None or mode in MODES


def test_a_misplaced_layout_object_is_a_wrong_box() -> None:
    boxes = [Box(0.05, 0.05, 0.35, 0.35)]
    assert failure("a red circle", [o("circle", "red", 0.7, 0.7, 0.3)], boxes=boxes) == "wrong box"


def test_touching_objects_are_merged() -> None:
    image = np.full((1, 64, 64, 3), 255, np.uint8)
    image[0, 20:36, 10:50] = (220, 40, 40)  # a 40x16 bar: no shape explains it
    v = JUDGE.judge(image, [parse("two red squares")])[0]
    assert not v.passed and v.details["failure"] == "merged objects"
