"""Judge validation: degradations, scene-exact records and failure examples."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.errors import InputError
from genlab.judges.detect import DetectedObject, Detections
from genlab.judges.validate import (
    CONDITIONS,
    degrade,
    draw,
    failures,
    judge_check,
    scene_mismatch,
)
from genlab.worlds.shapes.spec import Box, Scene, SceneObject


def test_judge_check_records() -> None:
    seen = []
    records = judge_check(21, sizes=(32,), seed=1, progress=seen.append)
    assert records == seen
    assert [(r["size"], r["condition"]) for r in records] == [(32, c) for c in CONDITIONS]
    for r in records:
        assert r["n"] == 21 and 0.0 <= r["scene_exact"] <= 1.0
    assert records[0]["scene_exact"] == 1.0  # clean oracle renders are read back exactly


def test_judge_check_backgrounds() -> None:
    records = judge_check(14, sizes=(64,), conditions=("clean",),
                          backgrounds=("gray", "black"))
    assert records == [{"size": 64, "condition": "clean", "n": 14, "scene_exact": 1.0}]


def test_draw_covers_categories_splits_and_backgrounds() -> None:
    specs, scenes = draw(28, seed=0, backgrounds=("white", "gray", "black"))
    assert len(specs) == len(scenes) == 28
    assert {s.category for s in specs} == {"single", "counting", "multi", "position",
                                           "binding", "negation", "layout"}
    assert {s.background for s in specs} == {"white", "gray", "black"}
    assert all(sc.background == sp.background for sp, sc in zip(specs, scenes, strict=True))
    assert draw(7, seed=0)[0] == draw(7, seed=0)[0]


def test_degrade() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    assert degrade(images, "clean", rng) is images
    for c in ("noise", "blur", "jpeg"):
        out = degrade(images, c, rng)
        assert out.shape == images.shape and out.dtype == np.uint8
        assert not np.array_equal(out, images)
    flat = np.zeros((1, 8, 8, 3), np.uint8)
    flat[..., 0] = 200  # blur never mixes channels
    assert np.array_equal(degrade(flat, "blur", rng), flat)
    with pytest.raises(InputError, match="unknown condition 'snow'"):
        degrade(images, "snow", rng)


def test_scene_mismatch() -> None:
    scene = Scene("white", (SceneObject("square", "red", 0.5, 0.5, 0.25),))
    exact = DetectedObject("square", "red", Box(0.375, 0.375, 0.625, 0.625), 0.5, 0.5, 64.0)
    assert scene_mismatch(Detections("white", (exact,)), scene, 32) is None
    assert "background" in str(scene_mismatch(Detections("gray", (exact,)), scene, 32))
    off = DetectedObject("square", "red", Box(0.425, 0.375, 0.675, 0.625), 0.55, 0.5, 64.0)
    assert "centre off by 1.60 px" in str(scene_mismatch(Detections("white", (off,)), scene, 32))
    assert "found []" in str(scene_mismatch(Detections("white", ()), scene, 32))


def test_failures_and_bad_arguments() -> None:
    found = failures(14, size=32, condition="clean", limit=3)
    assert found == []  # the oracle is read back exactly
    with pytest.raises(InputError):
        judge_check(0)
    with pytest.raises(InputError):
        judge_check(5, conditions=("fog",))
    with pytest.raises(InputError):
        judge_check(5, backgrounds=("pink",))
    with pytest.raises(InputError):
        judge_check(5, sizes=(8,))
