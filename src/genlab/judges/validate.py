"""How exact is the exact judge? Oracle renders, degraded, read back and compared.

A judge without a learned model can still be wrong, so its error is measured
the way GenEval (Ghosh et al., 2023) validates its detector against human
labels — except that here the labels are exact: every image is an oracle
render of a known :class:`Scene`. An image is **scene-exact** when the
detections reproduce that scene — same background, same multiset of
(shape, colour), matched one-to-one with every centre within
:data:`MAX_CENTRE_PX` pixels and every box IoU >= :data:`MIN_BOX_IOU` — and
the judge's verdict on the prompt passes.

Conditions model what a generator's output or a pipeline does to pixels:
``clean``; ``noise`` (Gaussian, sigma 8 in uint8 units, clipped); ``blur``
(Gaussian, sigma 0.5 px, per channel); ``jpeg`` (PIL, quality 75, default
4:2:0 chroma subsampling).
"""

from __future__ import annotations

import dataclasses
import io
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage
from scipy.optimize import linear_sum_assignment

from genlab.errors import InputError
from genlab.judges.detect import Detections, detect_batch
from genlab.judges.scene import judge_detections
from genlab.worlds.shapes import grammar, render, vocab
from genlab.worlds.shapes.spec import PromptSpec, Scene
from genlab.worlds.shapes.world import ShapesWorld

CONDITIONS: tuple[str, ...] = ("clean", "noise", "blur", "jpeg")
MAX_CENTRE_PX = 1.0
MIN_BOX_IOU = 0.7
CHUNK = 2000  # scenes drawn, rendered and judged at once


def degrade(images: np.ndarray, condition: str, rng: np.random.Generator) -> np.ndarray:
    """``(n, H, W, 3) uint8`` images under ``condition`` (one of :data:`CONDITIONS`)."""
    if condition == "clean":
        return images
    if condition == "noise":
        noisy = images + rng.normal(0.0, 8.0, images.shape)
        return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
    if condition == "blur":  # sigma 0 on the batch and channel axes: never across them
        blurred = ndimage.gaussian_filter(images.astype(np.float32), (0, 0.5, 0.5, 0))
        return np.clip(np.rint(blurred), 0, 255).astype(np.uint8)
    if condition == "jpeg":
        out = np.empty_like(images)
        for i, img in enumerate(images):
            buf = io.BytesIO()
            Image.fromarray(img).save(buf, format="JPEG", quality=75)
            out[i] = np.asarray(Image.open(buf).convert("RGB"))
        return out
    raise InputError(f"unknown condition {condition!r}; accepted: {', '.join(CONDITIONS)}")


def draw(n: int, seed: int, backgrounds: Sequence[str] | None = None
         ) -> tuple[list[PromptSpec], list[Scene]]:
    """``n`` specs, round-robin over the categories and alternating dev/test, and one
    oracle scene each, from :class:`ShapesWorld`. Dev/test specs leave the
    background to the default (white); ``backgrounds`` (names) instead assigns
    them round-robin, so every background is exercised."""
    world = ShapesWorld()
    cats, splits = vocab.CATEGORIES, ("dev", "test")
    slots = [(cats[i % len(cats)], splits[(i // len(cats)) % 2]) for i in range(n)]
    specs: list[PromptSpec | None] = [None] * n
    scenes: list[Scene | None] = [None] * n
    for j, (cat, split) in enumerate(itertools.product(cats, splits)):
        idx = [i for i, slot in enumerate(slots) if slot == (cat, split)]
        if not idx:
            continue
        got = world.sample_specs(cat, split, len(idx), seed=seed * 64 + j)
        if backgrounds:
            got = [dataclasses.replace(sp, background=backgrounds[i % len(backgrounds)])
                   for sp, i in zip(got, idx, strict=True)]
        for i, sp, sc in zip(idx, got, world.realize(got, seed * 64 + j, split), strict=True):
            specs[i], scenes[i] = sp, sc
    return specs, scenes  # type: ignore[return-value]


def scene_mismatch(det: Detections, scene: Scene, size: int) -> str | None:
    """Why ``det`` does not reproduce ``scene`` rendered at ``size`` px, or None."""
    if det.background != scene.background:
        return f"background {det.background}, truth {scene.background}"
    truth = [(o.colour, o.shape) for o in scene.objects]
    found = [(o.colour, o.shape) for o in det.objects]
    if sorted(truth) != sorted(found):
        return f"found {sorted(found)}, truth {sorted(truth)}"
    if not truth:
        return None
    # centre distance in px between same-kind pairs; other pairs are impossible
    dist = np.array([[np.hypot(d.cx - o.x, d.cy - o.y) * size if k == (o.colour, o.shape)
                      else 1e9 for d, k in zip(det.objects, found, strict=True)]
                     for o in scene.objects])
    rows, cols = linear_sum_assignment(dist)
    for r, c in zip(rows, cols, strict=True):
        o, d = scene.objects[r], det.objects[c]
        if dist[r, c] > MAX_CENTRE_PX:
            return f"{o.colour} {o.shape} centre off by {dist[r, c]:.2f} px"
        iou = d.box.iou(o.box)
        if iou < MIN_BOX_IOU:
            return f"{o.colour} {o.shape} box IoU {iou:.2f}"
    return None


Failure = Callable[[dict[str, Any]], None]


def _evaluate(n: int, sizes: Sequence[int], conditions: Sequence[str], seed: int,
              backgrounds: Sequence[str] | None = None, on_failure: Failure | None = None,
              progress: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Scene-exact records per (size, condition) over the same ``n`` scenes; calls
    ``on_failure`` with each failure and ``progress`` with each record."""
    chunks = [draw(min(CHUNK, n - start), seed * 1_000_003 + start, backgrounds)
              for start in range(0, n, CHUNK)]
    records = []
    for size in sizes:
        for condition in conditions:
            exact = 0
            for c, (specs, scenes) in enumerate(chunks):
                rng = np.random.default_rng([seed, size, CONDITIONS.index(condition), c])
                images = degrade(render.render(scenes, size), condition, rng)
                exact += _score(images, specs, scenes, c * CHUNK, on_failure,
                                {"size": size, "condition": condition})
            rec = {"size": size, "condition": condition, "n": n, "scene_exact": exact / n}
            records.append(rec)
            if progress is not None:
                progress(rec)
    return records


def _score(images: np.ndarray, specs: Sequence[PromptSpec], scenes: Sequence[Scene],
           start: int, on_failure: Failure | None, tags: dict[str, Any]) -> int:
    exact = 0
    size = images.shape[1]
    for i, (det, spec, scene) in enumerate(
            zip(detect_batch(images), specs, scenes, strict=True)):
        verdict = judge_detections(det, spec)
        why = scene_mismatch(det, scene, size) or (None if verdict.passed else verdict.reason)
        if why is None:
            exact += 1
        elif on_failure is not None:
            on_failure({**tags, "index": start + i, "prompt": grammar.prompt(spec),
                        "spec": spec, "scene": scene, "image": images[i], "detections": det,
                        "why": why, "verdict": verdict.reason})
    return exact


def judge_check(n: int, sizes: Sequence[int] = (32, 64),
                conditions: Sequence[str] = CONDITIONS, seed: int = 0,
                progress: Callable[[dict[str, Any]], None] | None = None,
                backgrounds: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Scene-exact rate of the judge on ``n`` oracle renders per (size, condition).

    Returns records ``{size, condition, n, scene_exact}``, ``scene_exact`` a
    fraction; ``progress`` (if given) is called with each record as it is made.
    The same scenes are used for every size and condition; ``backgrounds`` as
    in :func:`draw`.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"n must be a positive int, got {n!r}")
    for c in conditions:
        if c not in CONDITIONS:
            raise InputError(f"unknown condition {c!r}; accepted: {', '.join(CONDITIONS)}")
    for b in backgrounds or ():
        if b not in vocab.BACKGROUNDS:
            raise InputError(f"unknown background {b!r}; accepted: {', '.join(vocab.BACKGROUNDS)}")
    sizes = [render.check_size(s) for s in sizes]
    return _evaluate(int(n), sizes, conditions, seed, backgrounds, progress=progress)


def failures(n: int, size: int = 32, condition: str = "clean", seed: int = 0,
             limit: int = 20, backgrounds: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Up to ``limit`` failures among ``n`` renders, for debugging: each a dict with the
    prompt, spec, scene, image ``(H, W, 3) uint8``, detections, why it is not
    scene-exact and the verdict's reason."""
    found: list[dict[str, Any]] = []

    def keep(f: dict[str, Any]) -> None:
        if len(found) < limit:
            found.append(f)

    _evaluate(n, [render.check_size(size)], [condition], seed, backgrounds, keep)
    return found
