"""The zoo's defects do what their names say, exactly."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.metrics import defects
from genlab.worlds.shapes.render import render
from genlab.worlds.shapes.spec import Group, PromptSpec, Scene, SceneObject


def _scene() -> Scene:
    return Scene("white", (SceneObject("circle", "red", 0.25, 0.3, 0.2),
                           SceneObject("square", "blue", 0.7, 0.6, 0.2)))


def test_pixel_defects_keep_shape_and_dtype() -> None:
    images = render([_scene()] * 2, 32)
    rng = np.random.default_rng(0)
    for out in (defects.blur(images, 1.5), defects.noise(images, 20, rng),
                defects.colour_shift(images, 20)):
        assert out.shape == images.shape and out.dtype == np.uint8
        assert not np.array_equal(out, images)


def test_blur_grows_with_sigma() -> None:
    images = render([_scene()], 32).astype(float)
    edges = [np.abs(np.diff(defects.blur(images.astype(np.uint8), s).astype(float), axis=2)
                    ).sum() for s in (1.0, 2.0)]
    assert edges[0] > edges[1]


def test_colour_shift_leaves_greys() -> None:
    grey = np.full((1, 4, 4, 3), 128, np.uint8)
    assert np.array_equal(defects.colour_shift(grey, 45), grey)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_count_off_changes_the_count_by_k(k: int) -> None:
    crowded = Scene("white", tuple(SceneObject("circle", "red", 0.1 + 0.2 * (i % 4),
                                               0.15 + 0.25 * (i // 4), 0.1)
                                   for i in range(8)))
    grown, shrunk = defects.count_off([_scene(), crowded], k, np.random.default_rng(k))
    assert len(grown.objects) == 2 + k and len(shrunk.objects) == 8 - k
    kinds = {(o.shape, o.colour) for o in grown.objects}
    assert kinds <= {("circle", "red"), ("square", "blue")}
    boxes = [o.box for o in grown.objects]
    assert all(a.gap(b) > 0 for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_attribute_swap_trades_two_colours() -> None:
    out = defects.attribute_swap(_scene(), np.random.default_rng(0))
    assert [o.colour for o in out.objects] == ["blue", "red"]
    assert [o.shape for o in out.objects] == ["circle", "square"]


def test_position_flip_mirrors_along_the_relation() -> None:
    spec = PromptSpec("position", (Group(1, "circle", "red"), Group(1, "square", "blue")),
                      relation="above")
    out = defects.position_flip(_scene(), spec)
    assert [o.y for o in out.objects] == pytest.approx([0.7, 0.4])
    assert [o.x for o in out.objects] == [0.25, 0.7]


def test_merge_pulls_to_the_centroid() -> None:
    out = defects.merge(_scene(), 1.0)
    for o in out.objects:
        assert (o.x, o.y) == pytest.approx((0.475, 0.45))


def test_same_layout_takes_the_template_boxes() -> None:
    template = defects.position_flip(_scene(), PromptSpec("single", (Group(1, "circle",
                                                                           "red"),)))
    out = defects.same_layout(_scene(), template)
    assert [o.colour for o in out.objects] == ["red", "blue"]
    assert [o.x for o in out.objects] == pytest.approx([0.75, 0.3])
