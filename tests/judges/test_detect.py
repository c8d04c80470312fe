"""The detector behind the ``scene`` judge: exact read-back and never a crash."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genlab.errors import InputError
from genlab.judges.detect import BLOB, UNKNOWN, DetectedObject, Detections, detect, detect_batch
from genlab.judges.scene import SceneJudge
from genlab.worlds.shapes import render, vocab
from genlab.worlds.shapes.spec import Scene, SceneObject
from genlab.worlds.shapes.world import ShapesWorld

WORLD = ShapesWorld()


def draw(scene: Scene, size: int = 32) -> np.ndarray:
    return render.render([scene], size)[0]


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("background", list(vocab.BACKGROUNDS))
def test_reads_back_every_shape_and_colour(size: int, background: str) -> None:
    objects = tuple(SceneObject(shape, colour, 0.2 + 0.3 * (i % 3), 0.2 + 0.3 * (i // 3), 0.17)
                    for i, (shape, colour) in enumerate(
                        zip([*vocab.SHAPES] * 3, list(vocab.COLOURS) * 2, strict=False)))
    det = detect(draw(Scene(background, objects), size))
    assert isinstance(det, Detections) and det.background == background
    assert len(det.objects) == len(objects)
    for o in objects:
        d = min(det.objects, key=lambda d: np.hypot(d.cx - o.x, d.cy - o.y))
        assert (d.shape, d.colour) == (o.shape, o.colour)
        assert np.hypot(d.cx - o.x, d.cy - o.y) * size < 0.5
        assert d.box.iou(o.box) > 0.8
        assert isinstance(d, DetectedObject) and d.area_px > 0


def test_batch_never_connects_images() -> None:
    # the same object in the same place in three images, and a blank one between
    scene = Scene("white", (SceneObject("square", "red", 0.5, 0.5, 0.4),))
    images = np.stack([draw(scene), np.full((32, 32, 3), 255, np.uint8), draw(scene),
                       draw(scene)])
    dets = detect_batch(images)
    assert [len(d.objects) for d in dets] == [1, 0, 1, 1]
    assert detect_batch(images, chunk_pixels=1) == dets  # one image per chunk


def test_odd_colours_and_shapes() -> None:
    image = np.full((32, 32, 3), 255, np.uint8)
    image[4:12, 4:12] = (120, 120, 120)  # achromatic: no vocabulary colour
    image[18:22, 2:30] = (220, 40, 40)   # a bar: no vocabulary shape
    det = detect(image)
    kinds = sorted((o.colour, o.shape) for o in det.objects)
    assert kinds == [("red", BLOB), (UNKNOWN, "square")]


def test_background_names() -> None:
    noise = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert detect(noise).background == UNKNOWN
    for name, rgb in vocab.BACKGROUNDS.items():
        assert detect(np.full((20, 30, 3), rgb, np.uint8)) == Detections(name, ())


def test_noise_specks_are_not_objects() -> None:
    scene = Scene("white", (SceneObject("circle", "blue", 0.5, 0.5, 0.3),))
    rng = np.random.default_rng(1)
    noisy = np.clip(draw(scene) + rng.normal(0, 8, (32, 32, 3)), 0, 255).astype(np.uint8)
    det = detect(noisy)
    assert [(o.colour, o.shape) for o in det.objects] == [("blue", "circle")]


def test_bad_input_is_loud() -> None:
    with pytest.raises(InputError):
        detect(np.zeros((32, 32), np.uint8))
    with pytest.raises(InputError):
        detect_batch(np.zeros((2, 32, 32, 3), np.uint16))
    with pytest.raises(InputError):
        detect(np.zeros((0, 5, 3), np.uint8))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(h=st.integers(1, 80), w=st.integers(1, 80), n=st.integers(1, 3),
       seed=st.integers(0, 2**32 - 1),
       kind=st.sampled_from(["uniform", "few", "blocks", "const"]))
def test_any_image_never_crashes(h: int, w: int, n: int, seed: int, kind: str) -> None:
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        images = rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8)
    elif kind == "few":  # a handful of values: large flat regions and hard edges
        palette = rng.integers(0, 256, (3, 3), dtype=np.uint8)
        images = palette[rng.integers(0, 3, (n, h, w))]
    elif kind == "blocks":
        images = np.kron(rng.integers(0, 256, (n, h // 4 + 1, w // 4 + 1, 3), dtype=np.uint8),
                         np.ones((1, 4, 4, 1), np.uint8))[:, :h, :w]
    else:
        images = np.full((n, h, w, 3), rng.integers(0, 256), np.uint8)
    dets = detect_batch(np.ascontiguousarray(images))
    assert len(dets) == n
    for d in dets:
        for o in d.objects:
            assert 0 <= o.box.x0 < o.box.x1 <= 1 and 0 <= o.box.y0 < o.box.y1 <= 1
            assert np.isfinite([o.cx, o.cy, o.area_px]).all()
    specs = [WORLD.sample_specs(c, "dev", 1, seed=seed % 100)[0]
             for c in (vocab.CATEGORIES * 3)[seed % 7:seed % 7 + n]]
    verdicts = SceneJudge().judge(np.ascontiguousarray(images), specs)
    assert all(isinstance(v.reason, str) and v.reason for v in verdicts)
