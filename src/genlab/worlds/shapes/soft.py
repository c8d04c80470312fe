"""The ``shapes`` renderer's expected pixels: its image before the 8-bit steps.

:mod:`~genlab.worlds.shapes.render` stores each pixel's coverage as 8-bit alpha,
``floor(255 * (0.5 - sdf) + 0.5)``, and rounds the composite to uint8. A fit of a
scene to rendered pixels through those steps sees a staircase: a move of an edge by
less than ~1/255 px changes nothing, and finite differences need steps wide enough to
cross a stair (``perceive.render_and_compare`` takes 0.1 px), so the fit stops near,
not at, its best. Treating each quantised value as the middle of its step
(dequantisation: the quantisation error of a value spread over many steps is uniform
on one step, Widrow & Kollár, 2008, "Quantization Noise", ch. 4) gives a smooth model
of the same pixels: the expected 8-bit alpha is ``255 * (0.5 - sdf)``, clipped to
0..255, composited "over" in the scene's order in float64 with no rounding. Its
least-squares fit to a uint8 image lands in the middle of the starts that render that
image (``perceive.settle``), not on the edge a staircase search stops at.

The signed distances are the renderer's (circle, square, triangle with its apex up);
``tests/worlds/test_soft_render.py`` holds every pixel within 1.5 levels of the
renderer's.
"""

from __future__ import annotations

import math

import numpy as np

from genlab.errors import InputError
from genlab.worlds.shapes import vocab

_SQRT5 = math.sqrt(5.0)
_COLOUR = {k: np.array(v, np.float64) for k, v in vocab.COLOURS.items()}
_BACKGROUND = {k: np.array(v, np.float64) for k, v in vocab.BACKGROUNDS.items()}


def signed_distance(shape: str, dx: np.ndarray, dy: np.ndarray, half: float | np.ndarray
                    ) -> np.ndarray:
    """Signed distance (pixels, negative inside) of a ``shape`` of half-side ``half``
    from the offsets ``dx``, ``dy`` of pixel centres from its centre (broadcast)."""
    if shape == "circle":
        return np.sqrt(dx * dx + dy * dy) - half
    if shape == "square":
        return np.maximum(np.abs(dx), np.abs(dy)) - half
    if shape == "triangle":  # apex (0, -h), base (+-h, +h): the base and the two slants
        return np.maximum(dy - half, (2 * np.abs(dx) - dy - half) / _SQRT5)
    raise InputError(f"shape {shape!r} is not one of {', '.join(vocab.SHAPES)}")


def expected_images(shapes: list[str], colours: list[str], centres: np.ndarray,
                    sizes: np.ndarray, background: str, size: int) -> np.ndarray:
    """``(frames, size, size, 3) float64``: the expected pixels of ``frames`` images of
    the same objects (``shapes``, ``colours``, ``sizes`` as image fractions, in the
    painter's order) at ``centres`` ``(frames, objects, 2)`` (x, y image fractions),
    over ``background``. An object wholly out of view adds nothing."""
    centres = np.asarray(centres, np.float64)
    frames, n = centres.shape[:2]
    if not len(shapes) == len(colours) == len(sizes) == n:
        raise InputError(f"{len(shapes)} shapes, {len(colours)} colours and {len(sizes)} "
                         f"sizes for {n} objects; give one of each per object")
    grid = np.arange(size, dtype=np.float64) + 0.5
    out = np.empty((frames, size, size, 3))
    out[:] = _BACKGROUND[background]
    for j in range(n):
        cx, cy = centres[:, j, 0] * size, centres[:, j, 1] * size
        dx = grid[None, None, :] - cx[:, None, None]
        dy = grid[None, :, None] - cy[:, None, None]
        sdf = signed_distance(shapes[j], dx, dy, float(sizes[j]) * size / 2)
        alpha = np.clip(0.5 - sdf, 0.0, 1.0)[..., None]
        out += alpha * (_COLOUR[colours[j]] - out)
    return out
