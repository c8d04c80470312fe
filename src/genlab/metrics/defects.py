"""The defects of the zoo: what each does to a scene or to an image, and how hard.

Every defect family has four severities (index 1..4; severity 0 is the clean
oracle). Pixel defects act on the rendered images; scene defects edit the
realised scene before rendering, so the exact judge can tell exactly what went
wrong. ``rate`` families apply one fixed edit to a growing share of the images
(25/50/75/100%), drawn by a seeded coin per image; the others grow the edit
itself. Families and severities are the issue's list: blur, noise, colour shift,
count off by k, attribute swap, position flip, prompt ignored, mode collapse,
memorisation (copies of ``train`` renders), objects merged, low diversity.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from matplotlib.colors import hsv_to_rgb, rgb_to_hsv
from scipy.ndimage import gaussian_filter

from genlab.worlds.shapes import vocab
from genlab.worlds.shapes.placement import place_batch
from genlab.worlds.shapes.spec import PromptSpec, Scene, SceneObject

SEVERITIES = (1, 2, 3, 4)
RATES = (0.25, 0.5, 0.75, 1.0)
COLOURS = tuple(vocab.COLOURS)


@dataclass(frozen=True)
class Family:
    """One defect family.

    Attributes:
        name: registry name (``blur``, ``count``...).
        kind: ``pixel`` (acts on images), ``scene`` (edits one scene), or ``set``
            (chooses which scene each image shows: mode collapse, memorisation,
            prompt ignored, low diversity).
        levels: the parameter at severities 1..4 (sigma in px, noise std, hue degrees,
            k objects, or the share of images touched).
        unit: what ``levels`` mean, for tables.
        harms_correctness: whether the exact judge should see it (mode collapse and
            low diversity keep every image correct: a metric that punishes them
            measures diversity, not truth).
    """

    name: str
    kind: str
    levels: tuple[float, ...]
    unit: str
    harms_correctness: bool = True

    @property
    def rated(self) -> bool:
        """Whether its levels are the share of images (or prompts) it touches."""
        return self.levels == RATES


# Pixel levels span the exact judge's range from all right to mostly wrong (measured
# on 560 test images: blur 1.0 -> 0.995 .. 2.5 -> 0.195; noise 16 -> 1.0 .. 28 ->
# 0.18; hue 15 -> 1.0 .. 28 -> 0.06). Noise stops at 28 because the judge's pass rate
# is not monotone beyond it (0.17 at 32, 0.82 at 48, 0.00 at 96).
FAMILIES: tuple[Family, ...] = (
    Family("blur", "pixel", (1.0, 1.5, 2.0, 2.5), "Gaussian sigma (px)"),
    Family("noise", "pixel", (16.0, 20.0, 24.0, 28.0), "Gaussian std (of 255)"),
    Family("colour-shift", "pixel", (15.0, 20.0, 24.0, 28.0), "hue rotation (degrees)"),
    Family("count", "scene", (1, 2, 3, 4), "objects added or removed"),
    Family("attribute-swap", "scene", RATES, "share of images"),
    Family("position-flip", "scene", RATES, "share of images"),
    Family("merge", "scene", (0.25, 0.5, 0.75, 1.0), "pull to the centroid"),
    Family("prompt-ignored", "set", RATES, "share of images"),
    Family("memorisation", "set", RATES, "share of images"),
    Family("mode-collapse", "set", RATES, "share of prompts", harms_correctness=False),
    Family("low-diversity", "set", RATES, "share of images", harms_correctness=False),
)
FAMILY = {f.name: f for f in FAMILIES}


# ---------------------------------------------------------------- pixel defects


def blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of ``(n, H, W, 3) uint8`` images, per channel, edges reflected."""
    out = gaussian_filter(images.astype(np.float32), sigma=(0, sigma, sigma, 0), mode="nearest")
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def noise(images: np.ndarray, std: float, rng: np.random.Generator) -> np.ndarray:
    """Additive Gaussian noise of ``std`` (in 0..255 units), clipped."""
    out = images.astype(np.float32) + rng.normal(0.0, std, images.shape).astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def colour_shift(images: np.ndarray, degrees: float) -> np.ndarray:
    """Every pixel's hue rotated by ``degrees`` (greys, having no hue, stay)."""
    hsv = rgb_to_hsv(images.astype(np.float32) / 255.0)
    hsv[..., 0] = (hsv[..., 0] + degrees / 360.0) % 1.0
    return np.clip(np.rint(hsv_to_rgb(hsv) * 255.0), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- scene defects


def count_off(scenes: list[Scene], k: int, rng: np.random.Generator) -> list[Scene]:
    """Each scene with ``k`` more objects (copies of kinds already there) when they fit,
    else ``k`` fewer (as many as there are).

    A grown scene is laid out anew, all its boxes in one vectorised call of the
    world's own placement (:func:`~genlab.worlds.shapes.placement.place_batch`):
    squeezing extra boxes between the old ones jams crowded scenes, and a count
    defect need not keep the old positions."""
    grow = [i for i, s in enumerate(scenes)
            if s.objects and len(s.objects) + k <= vocab.MAX_COUNT]
    out = list(scenes)
    if grow:
        kinds = [list(scenes[i].objects) + [scenes[i].objects[int(j)] for j in
                                            rng.integers(len(scenes[i].objects), size=k)]
                 for i in grow]
        x0, y0, side = place_batch(rng, np.array([len(o) for o in kinds]))
        for r, (i, objs) in enumerate(zip(grow, kinds, strict=True)):
            out[i] = dataclasses.replace(scenes[i], objects=tuple(
                SceneObject(o.shape, o.colour, float(x0[r, j] + side[r, j] / 2),
                            float(y0[r, j] + side[r, j] / 2), float(side[r, j]))
                for j, o in enumerate(objs)))
    for i in sorted(set(range(len(scenes))) - set(grow)):
        objs = list(scenes[i].objects)
        drop = set(rng.choice(len(objs), size=min(k, len(objs)), replace=False).tolist())
        out[i] = dataclasses.replace(scenes[i], objects=tuple(
            o for j, o in enumerate(objs) if j not in drop))
    return out


def attribute_swap(scene: Scene, rng: np.random.Generator) -> Scene:
    """Two colours of the scene trade places (the binding failure); a one-colour scene
    takes another colour."""
    present = sorted({o.colour for o in scene.objects})
    if len(present) >= 2:
        a, b = (present[int(i)] for i in rng.choice(len(present), 2, replace=False))
        swap = {a: b, b: a}
    elif present:
        others = [c for c in COLOURS if c != present[0]]
        swap = {present[0]: others[int(rng.integers(len(others)))]}
    else:
        return scene
    return dataclasses.replace(scene, objects=tuple(
        dataclasses.replace(o, colour=swap.get(o.colour, o.colour)) for o in scene.objects))


def position_flip(scene: Scene, spec: PromptSpec) -> Scene:
    """The scene mirrored along its relation's axis (left-right when it has none), so
    "left of" becomes "right of"; shapes are symmetric under it, layout boxes are not."""
    vertical = spec.relation in ("above", "below")
    return dataclasses.replace(scene, objects=tuple(
        dataclasses.replace(o, y=1.0 - o.y) if vertical else dataclasses.replace(o, x=1.0 - o.x)
        for o in scene.objects))


def merge(scene: Scene, pull: float) -> Scene:
    """Every object pulled ``pull`` of the way to the scene's centroid: at 1 they all
    sit on one spot."""
    if len(scene.objects) < 2:
        return scene
    cx = float(np.mean([o.x for o in scene.objects]))
    cy = float(np.mean([o.y for o in scene.objects]))
    return dataclasses.replace(scene, objects=tuple(
        dataclasses.replace(o, x=o.x + pull * (cx - o.x), y=o.y + pull * (cy - o.y))
        for o in scene.objects))


def same_layout(scene: Scene, template: Scene) -> Scene:
    """``scene``'s objects in ``template``'s boxes (two realisations of one spec have
    the same number of objects, in group order, so every assignment stays valid)."""
    if len(scene.objects) != len(template.objects):
        return scene
    return dataclasses.replace(scene, objects=tuple(
        dataclasses.replace(o, x=t.x, y=t.y, size=t.size)
        for o, t in zip(scene.objects, template.objects, strict=True)))


SceneEdit = Callable[[Scene, PromptSpec, float, np.random.Generator], Scene]

SCENE_EDITS: dict[str, SceneEdit] = {
    "attribute-swap": lambda s, spec, level, rng: attribute_swap(s, rng),
    "position-flip": lambda s, spec, level, rng: position_flip(s, spec),
    "merge": lambda s, spec, level, rng: merge(s, level),
}
