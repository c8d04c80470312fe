"""Pixels -> objects: the detector behind the exact ``scene`` judge.

GenEval (Ghosh et al., 2023) judges a generated image at the object level:
detect the objects, then check counts, colours, positions and co-occurrence
against the prompt. In the ``shapes`` world the objects are flat, anti-aliased
squares, circles and apex-up triangles on an achromatic background, so the
detector is exact image analysis rather than a learned model:

1. :func:`genlab.judges.measure.measure` estimates each background, segments
   and labels the whole batch at once, names each component's colour from the
   hue of its core pixels, and measures its coverage-weighted area and
   centroid.
2. Each component is then explained by each shape
   (:mod:`genlab.judges.templates`): the shape with the same area and
   centroid is drawn analytically over the component's pixels and compared
   with its coverage. The best fit names the shape, unless no shape fits even
   with a blurred edge (two touching objects, a bar, a smear): then it is a
   ``"blob"``. Its box follows from the shape, the area and the centroid.

Everything is vectorised over the components of the batch; the only Python
loop builds the output records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from genlab.contracts import check_image, check_images
from genlab.judges.measure import Components, measure
from genlab.judges.templates import SIDE_PER_SQRT_AREA
from genlab.worlds.shapes import vocab
from genlab.worlds.shapes.sampling import MIN_SIZE
from genlab.worlds.shapes.spec import Box

BLOB = "blob"
UNKNOWN = "unknown"

# A component is an object only if its coverage-weighted area is at least
# SPECK_FRACTION of the smallest object the world draws (a MIN_SIZE triangle)
# -- UNNAMED_FRACTION if its colour has no name -- and it reaches MIN_PEAK
# colour distance from the background somewhere. Smaller or fainter ones are
# sensor noise or compression ghosts: JPEG's chroma ringing leaves unnamed
# halos of up to 0.75 of the smallest object at 32 px, while oracle objects
# under JPEG keep >= 0.77 of it.
SPECK_FRACTION = 0.4
UNNAMED_FRACTION = 1.0
MIN_PEAK = 45.0
# A component is named by the shape template (sharp edge, same area and
# centroid) that fits its coverage best, but only if some template -- at some
# edge blur -- explains it to within this mean squared residual per px^2 of
# area; otherwise it is a blob. Oracle renders stay below ~0.06 under noise,
# blur and JPEG at 32 px; two touching objects score ~0.2-0.5.
MAX_RESIDUAL = 0.1

_SHAPES = np.array(vocab.SHAPES)
_COLOURS = np.array([*vocab.COLOURS, UNKNOWN])
_BACKGROUND_NAMES = [*vocab.BACKGROUNDS, UNKNOWN]
_SIDE = np.array([SIDE_PER_SQRT_AREA[s] for s in vocab.SHAPES])


@dataclass(frozen=True)
class DetectedObject:
    """One object read back from pixels.

    Attributes:
        shape: one of vocab.SHAPES, or "blob" (merged or unrecognisable).
        colour: one of vocab.COLOURS, or "unknown".
        box: the object's square box (image fractions), the same convention
            as :attr:`SceneObject.box`; for a blob, its pixel extent.
        cx, cy: the centre of ``box`` (image fractions); for a blob, its
            coverage-weighted centroid.
        area_px: coverage-weighted area in pixels (anti-aliased edges count
            fractionally).
    """

    shape: str
    colour: str
    box: Box
    cx: float
    cy: float
    area_px: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (rounded: 4 decimals of a fraction is 0.01 px at 256 px)."""
        b = self.box
        return {"shape": self.shape, "colour": self.colour,
                "box": [round(v, 4) for v in (b.x0, b.y0, b.x1, b.y1)],
                "cx": round(self.cx, 4), "cy": round(self.cy, 4),
                "area_px": round(self.area_px, 2)}


@dataclass(frozen=True)
class Detections:
    """Everything read from one image: its background name (or "unknown") and objects."""

    background: str
    objects: tuple[DetectedObject, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"background": self.background, "objects": [o.to_dict() for o in self.objects]}


def detect(image: np.ndarray) -> Detections:
    """Objects in one ``(H, W, 3) uint8`` image."""
    check_image(image)
    return detect_batch(image[None])[0]


def detect_batch(images: np.ndarray, chunk_pixels: int = 1 << 22) -> list[Detections]:
    """Objects in each of ``(n, H, W, 3) uint8`` images (processed in chunks of
    about ``chunk_pixels`` pixels, to bound memory)."""
    check_images(images)
    n, h, w, _ = images.shape
    if n == 0 or h == 0 or w == 0:
        return [Detections(UNKNOWN, ()) for _ in range(n)]
    per = max(1, chunk_pixels // (h * w))
    out: list[Detections] = []
    for start in range(0, n, per):
        out.extend(_detect_chunk(images[start:start + per]))
    return out


def _detect_chunk(images: np.ndarray) -> list[Detections]:
    n, h, w, _ = images.shape
    bgs, comps = measure(images, MAX_RESIDUAL)
    keep = np.flatnonzero(is_object(comps.area, comps.peak, comps.colour_index, h, w))
    shape_index = classify_shapes(comps, keep)
    boxes = _boxes(comps, keep, shape_index, h, w)
    per_image: list[list[DetectedObject]] = [[] for _ in range(n)]
    shapes = np.where(shape_index >= 0, _SHAPES[np.maximum(shape_index, 0)], BLOB)
    colours = _COLOURS[comps.colour_index[keep]]
    for j, k in enumerate(keep):
        x0, y0, x1, y1, cx, cy = (float(v) for v in boxes[j])
        per_image[comps.image[k]].append(DetectedObject(
            str(shapes[j]), str(colours[j]), safe_box(x0, y0, x1, y1), cx, cy,
            float(comps.area[k])))
    return [Detections(_BACKGROUND_NAMES[bgs.name_index[i]], tuple(objs))
            for i, objs in enumerate(per_image)]


def is_object(area: np.ndarray, peak: np.ndarray, colour_index: np.ndarray,
              h: int, w: int) -> np.ndarray:
    """Which components of an ``(h, w)`` image are objects, not specks (see SPECK_FRACTION)."""
    fraction = np.where(colour_index >= 0, SPECK_FRACTION, UNNAMED_FRACTION)
    smallest = MIN_SIZE * MIN_SIZE / 2 * h * w
    return (area >= np.maximum(0.5, fraction * smallest)) & (peak >= MIN_PEAK)


def classify_shapes(comps: Components, keep: np.ndarray) -> np.ndarray:
    """Index into vocab.SHAPES of each kept component, or -1 for a blob."""
    best = comps.residual[keep].argmin(1)
    return np.where(comps.fit_error[keep] <= MAX_RESIDUAL, best, -1)


def _boxes(comps: Components, keep: np.ndarray, shape_index: np.ndarray,
           h: int, w: int) -> np.ndarray:
    """``(m, 6)`` x0, y0, x1, y1, cx, cy (image fractions) of each kept component."""
    area = np.maximum(comps.area[keep], 0.0)
    side = np.sqrt(area) * _SIDE[np.maximum(shape_index, 0)]
    cx = comps.mx[keep]
    # a triangle's centroid sits a sixth of its height below its box centre
    cy = comps.my[keep] - np.where(shape_index == vocab.SHAPES.index("triangle"), side / 6, 0.0)
    model = np.stack([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2, cx, cy], 1)
    ext = comps.extent[keep]
    blob = np.concatenate([ext, comps.mx[keep, None], comps.my[keep, None]], 1)
    out = np.where((shape_index >= 0)[:, None], model, blob)
    return out / np.array([w, h, w, h, w, h], np.float64)


def safe_box(x0: float, y0: float, x1: float, y1: float) -> Box:
    """A valid Box however odd the estimate: clipped to the image, never empty."""
    eps = 1e-6
    x0, x1 = min(max(x0, 0.0), 1.0 - eps), min(max(x1, 0.0), 1.0)
    y0, y1 = min(max(y0, 0.0), 1.0 - eps), min(max(y1, 0.0), 1.0)
    return Box(x0, y0, max(x1, x0 + eps), max(y1, y0 + eps))
