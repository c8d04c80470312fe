"""The anti-aliased SDF renderer of the ``shapes`` world."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genlab.errors import InputError
from genlab.worlds.shapes import vocab
from genlab.worlds.shapes.arrays import SceneArrays
from genlab.worlds.shapes.render import render, render_arrays
from genlab.worlds.shapes.sampling import realize_batch, sample_specs
from genlab.worlds.shapes.spec import Scene, SceneObject


def reference(scene: Scene, size: int) -> np.ndarray:
    """Slow, obvious renderer: per object, the SDF over the whole image, "over" in order."""
    img = np.empty((size, size, 3), np.float64)
    img[:] = vocab.BACKGROUNDS[scene.background]
    py, px = np.mgrid[0:size, 0:size] + 0.5
    for o in scene.objects:
        dx, dy, h = px - o.x * size, py - o.y * size, o.size * size / 2
        if o.shape == "circle":
            sdf = np.hypot(dx, dy) - h
        elif o.shape == "square":
            sdf = np.maximum(abs(dx), abs(dy)) - h
        else:
            sdf = np.maximum(dy - h, (2 * abs(dx) - dy - h) / math.sqrt(5))
        a = np.clip(0.5 - sdf, 0, 1)[..., None]
        img = img + a * (np.array(vocab.COLOURS[o.colour]) - img)
    return np.rint(img).astype(np.uint8)


def scenes(n: int, seed: int = 0) -> list[Scene]:
    rng = np.random.default_rng(seed)
    specs = sample_specs([vocab.CATEGORIES[i % 7] for i in range(n)], rng, "dev")
    out = realize_batch(specs, rng, "dev").to_scenes()
    bgs = list(vocab.BACKGROUNDS)
    return [Scene(bgs[i % len(bgs)], s.objects) for i, s in enumerate(out)]


@pytest.mark.parametrize("size", [32, 47, 64, 100, 256])
def test_matches_the_reference_renderer(size: int) -> None:
    batch = scenes(24 if size < 200 else 6)
    got = render(batch, size)
    assert got.shape == (len(batch), size, size, 3) and got.dtype == np.uint8
    for img, scene in zip(got, batch, strict=True):
        diff = np.abs(img.astype(int) - reference(scene, size))
        assert diff.max() <= 2  # 8-bit alpha, rounding
        assert (diff > 0).mean() < 0.05


@pytest.mark.parametrize("size", [31, 257, 0, -32, 64.0, True, "64", None])
def test_bad_sizes_are_rejected(size: object) -> None:
    with pytest.raises(InputError, match="32 to 256"):
        render(scenes(1), size)  # type: ignore[arg-type]


def _sdf(o: SceneObject, size: int) -> np.ndarray:
    py, px = np.mgrid[0:size, 0:size] + 0.5
    dx, dy, h = px - o.x * size, py - o.y * size, o.size * size / 2
    if o.shape == "circle":
        return np.hypot(dx, dy) - h
    if o.shape == "square":
        return np.maximum(abs(dx), abs(dy)) - h
    return np.maximum(dy - h, (2 * abs(dx) - dy - h) / math.sqrt(5))


@pytest.mark.parametrize("size", [32, 64, 256])
def test_interiors_and_background_are_exact(size: int) -> None:
    batch = scenes(21, seed=3)
    images = render(batch, size)
    for img, scene in zip(images, batch, strict=True):
        touched = np.zeros((size, size), bool)
        for o in scene.objects:
            sdf = _sdf(o, size)
            inside = sdf <= -0.5 - 1e-3
            assert inside.any()
            assert (img[inside] == vocab.COLOURS[o.colour]).all()
            touched |= sdf < 0.5 + 1e-3
        assert (img[~touched] == vocab.BACKGROUNDS[scene.background]).all()


def test_edges_are_anti_aliased() -> None:
    for shape in vocab.SHAPES:
        scene = Scene("white", (SceneObject(shape, "blue", 0.5, 0.5, 0.4),))
        for size in (32, 64):
            img = render([scene], size)[0].astype(int)
            bg, col = np.array(vocab.BACKGROUNDS["white"]), np.array(vocab.COLOURS["blue"])
            lo, hi = np.minimum(bg, col), np.maximum(bg, col)
            between = ((img > lo) & (img < hi)).all(axis=-1)
            assert between.sum() >= size // 4, (shape, size)
            # an edge pixel is the linear blend of colour and background
            a = (img[between] - bg) / (col - bg)
            assert np.allclose(a, a[:, :1], atol=2 / 100)


def test_render_is_deterministic_and_batch_independent() -> None:
    batch = scenes(30, seed=5)
    a = render(batch, 48)
    assert np.array_equal(a, render(batch, 48))
    assert np.array_equal(a[7:12], render(batch[7:12], 48))
    assert np.array_equal(a, render_arrays(SceneArrays.from_scenes(batch), 48))
    assert np.array_equal(a, render(SceneArrays.from_scenes(batch), 48))


def test_huge_batches_are_drawn_in_chunks_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    from genlab.worlds.shapes import render as render_module

    monkeypatch.setenv("GENLAB_RENDER", "numpy")  # the chunking lives in the numpy path
    batch = SceneArrays.from_scenes(scenes(40, seed=8))
    whole = render_arrays(batch, 96)
    monkeypatch.setattr(render_module, "_WINDOW_BUDGET", 3000)
    assert np.array_equal(whole, render_arrays(batch, 96))


def test_empty_inputs() -> None:
    assert render([], 32).shape == (0, 32, 32, 3)
    img = render([Scene("gray")], 40)
    assert (img == 128).all()


def test_overlapping_objects_paint_in_order() -> None:
    # Scenes from the samplers never overlap, but a hand-made one may: the later
    # object is on top, and the result matches the reference "over" compositing.
    scene = Scene("black", (SceneObject("square", "red", 0.45, 0.45, 0.5),
                            SceneObject("circle", "green", 0.55, 0.55, 0.4)))
    for size in (32, 64):
        img = render([scene, Scene("white")], size)
        assert tuple(img[0, int(0.55 * size), int(0.55 * size)]) == vocab.COLOURS["green"]
        assert np.abs(img[0].astype(int) - reference(scene, size)).max() <= 2
        assert (img[1] == 255).all()


def test_objects_touching_the_edge_stay_in_the_image() -> None:
    for shape in vocab.SHAPES:
        for x, y in ((0.5, 0.5), (0.1, 0.9), (0.95, 0.02)):
            scene = Scene("white", (SceneObject(shape, "red", x, y, 1.0),))
            img = render([scene], 32)[0]
            assert np.abs(img.astype(int) - reference(scene, 32)).max() <= 2
