"""Spec samplers, box placement and scene realisation of the ``shapes`` world."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.errors import SpecError
from genlab.worlds.shapes import grammar, vocab
from genlab.worlds.shapes.arrays import SceneArrays
from genlab.worlds.shapes.placement import RELATION_AXES, place_batch
from genlab.worlds.shapes.sampling import (
    BORDER,
    MARGIN,
    REL_GAP,
    place_boxes,
    random_scene,
    realize,
    realize_batch,
    sample_spec,
    sample_specs,
    size_range,
)
from genlab.worlds.shapes.spec import Box, PromptSpec, Scene
from genlab.worlds.shapes.splits import (
    HELDOUT_COLOUR_SHAPE,
    SPLITS,
    is_heldout,
    scene_is_heldout,
    shows_heldout,
)

EPS = 1e-9


def check_scene(spec: PromptSpec, scene: Scene) -> None:
    """Every guarantee a realisation of ``spec`` must keep."""
    objs = scene.objects
    assert scene.background == (spec.background or vocab.DEFAULT_BACKGROUND)
    assert len(objs) == spec.n_objects
    for i, a in enumerate(objs):
        box = a.box
        if spec.boxes is None:
            assert min(box.x0, box.y0) >= BORDER - EPS and max(box.x1, box.y1) <= 1 - BORDER + EPS
            lo, hi = size_range(spec.n_objects)
            assert lo - EPS <= a.size <= hi + EPS
        for b in objs[i + 1:]:
            assert box.gap(b.box) >= MARGIN - EPS if spec.boxes is None else box.gap(b.box) >= 0
    # objects are listed group by group, each of its group's kind
    k = 0
    for g in spec.groups:
        for o in objs[k:k + g.count]:
            assert g.matches(o.shape, o.colour)
        k += g.count
    if spec.negation is not None:
        assert not any(spec.negation.matches(o.shape, o.colour) for o in objs)
    if spec.relation is not None:
        axis, sign = RELATION_AXES[spec.relation]
        a, b = objs
        offset = (b.x - a.x, b.y - a.y)[axis] * sign
        assert offset >= REL_GAP - EPS
    if spec.boxes is not None:
        for o, box in zip(objs, spec.boxes, strict=True):
            assert (o.x, o.y) == ((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2)
            assert o.size == min(box.width, box.height)


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("category", vocab.CATEGORIES)
def test_samplers_give_valid_specs_and_scenes(category: str, split: str) -> None:
    rng = np.random.default_rng(7)
    specs = sample_specs([category] * 150, rng, split)
    assert all(s.category == category for s in specs)
    for s in specs:
        assert grammar.parse(grammar.prompt(s), s.boxes) == s
    scenes = realize_batch(specs, rng, split).to_scenes()
    for spec, scene in zip(specs, scenes, strict=True):
        check_scene(spec, scene)
    for spec in specs[:10]:  # the single-scene path keeps the same guarantees
        check_scene(spec, realize(spec, rng, split))


def test_train_never_contains_heldout_compositions() -> None:
    rng = np.random.default_rng(11)
    cats = [vocab.CATEGORIES[i % len(vocab.CATEGORIES)] for i in range(3500)]
    specs = sample_specs(cats, rng, "train")
    assert not any(shows_heldout(s) for s in specs)
    assert not any(is_heldout(s) for s in specs)
    for scene in realize_batch(specs, rng, "train").to_scenes():
        assert not scene_is_heldout(scene), scene
    # an open colour is filled without making a held-out pair in train either
    spec = grammar.parse("four circles and no red objects")
    for _ in range(50):
        scene = realize(spec, rng, "train")
        assert not any((o.colour, o.shape) in HELDOUT_COLOUR_SHAPE for o in scene.objects)


def test_shows_heldout_catches_unnamed_counts() -> None:
    spec = grammar.parse("a red triangle, a blue triangle and a green triangle", [
        Box(0.05, 0.05, 0.25, 0.25), Box(0.4, 0.4, 0.6, 0.6), Box(0.7, 0.7, 0.9, 0.9)])
    assert not is_heldout(spec) and shows_heldout(spec)
    assert is_heldout(grammar.parse("a yellow circle"))
    assert is_heldout(grammar.parse("five red circles"))
    assert not shows_heldout(grammar.parse("four red circles"))


@pytest.mark.parametrize("category", vocab.CATEGORIES)
def test_heldout_flag_is_obeyed(category: str) -> None:
    rng = np.random.default_rng(3)
    assert all(is_heldout(s) for s in sample_specs([category] * 40, rng, "test", True))
    assert not any(is_heldout(s) for s in sample_specs([category] * 40, rng, "test", False))
    flags = [True, False] * 10
    specs = sample_specs([category] * 20, rng, "dev", flags)
    assert [is_heldout(s) for s in specs] == flags
    with pytest.raises(SpecError, match="train"):
        sample_spec(category, rng, "train", heldout=True)


def test_sampling_is_deterministic() -> None:
    def draw(seed: int) -> tuple[list[PromptSpec], list[Scene]]:
        rng = np.random.default_rng(seed)
        specs = sample_specs(list(vocab.CATEGORIES) * 5, rng, "dev")
        return specs, realize_batch(specs, rng, "dev").to_scenes()

    assert draw(5) == draw(5)
    assert draw(5) != draw(6)
    spec = sample_spec("multi", np.random.default_rng(1), "test")
    assert spec == sample_spec("multi", np.random.default_rng(1), "test")
    assert realize(spec, np.random.default_rng(2)) == realize(spec, np.random.default_rng(2))


def test_bad_requests_are_loud() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(SpecError, match="accepted"):
        sample_spec("countng", rng)
    with pytest.raises(SpecError, match="accepted"):
        sample_spec("single", rng, "validation")
    with pytest.raises(SpecError, match="flags"):
        sample_specs(["single"] * 3, rng, "dev", [True])
    with pytest.raises(SpecError, match="split"):
        realize_batch([sample_spec("single", rng)], rng, "valid")


def test_place_boxes_keeps_margin_border_and_fixed_boxes() -> None:
    rng = np.random.default_rng(9)
    fixed = [Box(0.3, 0.3, 0.6, 0.6)]
    for n in range(1, vocab.MAX_COUNT + 1):
        boxes = place_boxes(rng, n)
        assert len(boxes) == n
        lo, hi = size_range(n)
        for i, a in enumerate(boxes):
            assert min(a.x0, a.y0) >= BORDER - EPS and max(a.x1, a.y1) <= 1 - BORDER + EPS
            assert lo <= a.width <= hi and abs(a.width - a.height) < EPS
            for b in boxes[i + 1:]:
                assert a.gap(b) >= MARGIN - EPS
    for a in place_boxes(rng, 3, sizes=[0.2, 0.2, 0.2], fixed=fixed):
        assert abs(a.width - 0.2) < EPS and a.gap(fixed[0]) >= MARGIN - EPS
    with pytest.raises(SpecError, match="cannot place"):
        place_boxes(rng, 2, sizes=[0.9, 0.9])


def test_place_batch_relations() -> None:
    rng = np.random.default_rng(4)
    rel = np.repeat(np.arange(4), 50)
    x0, y0, side = place_batch(rng, np.full(200, 2), rel)
    cx, cy = x0 + side / 2, y0 + side / 2
    for code, name in enumerate(vocab.RELATIONS):
        axis, sign = RELATION_AXES[name]
        c = (cx, cy)[axis][rel == code]
        assert ((c[:, 1] - c[:, 0]) * sign >= REL_GAP - EPS).all()


def test_scene_arrays_round_trip_exactly() -> None:
    rng = np.random.default_rng(2)
    specs = sample_specs(list(vocab.CATEGORIES) * 4, rng, "dev")
    arrays = realize_batch(specs, rng, "dev")
    scenes = arrays.to_scenes()
    again = SceneArrays.from_scenes(scenes)
    assert np.array_equal(again.objects, arrays.objects)
    assert np.array_equal(again.backgrounds, arrays.backgrounds)
    assert again.to_scenes() == scenes
    assert SceneArrays.from_scenes([]).to_scenes() == []


def test_random_scene_is_valid() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        scene = random_scene(rng)
        assert 1 <= len(scene.objects) <= vocab.MAX_COUNT
        for i, a in enumerate(scene.objects):
            for b in scene.objects[i + 1:]:
                assert a.box.gap(b.box) >= MARGIN - EPS


def test_box_sizes_are_exchangeable_across_objects() -> None:
    # boxes are placed largest first, then shuffled: the first object is not favoured
    rng = np.random.default_rng(6)
    layouts = [s for s in sample_specs(["layout"] * 1500, rng, "dev") if len(s.boxes or ()) > 1]
    first = np.mean([s.boxes[0].width == max(b.width for b in s.boxes) for s in layouts])
    chance = np.mean([1 / len(s.boxes) for s in layouts])
    assert abs(first - chance) < 0.06
    multi = sample_specs(["binding"] * 1500, rng, "dev")
    scenes = realize_batch(multi, rng, "dev").to_scenes()
    assert abs(np.mean([s.objects[0].size > s.objects[1].size for s in scenes]) - 0.5) < 0.06
