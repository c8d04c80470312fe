"""Shape templates: how well does each shape explain a component's coverage?

Part of the ``scene`` judge's detector (:mod:`genlab.judges.detect`). Given a
component's per-pixel coverage (alpha), each shape of the vocabulary is drawn
analytically with the component's own area and centroid — so the fit has no
free parameters — and compared pixel by pixel. This uses every pixel, where
hand-made features (fill ratio of the bounding box, aspect, vertical skew)
use a few summary numbers that anti-aliasing at 5 px and JPEG bend; on the
``shapes`` world it names every oracle object correctly under noise and blur
at 32 px (``validate.judge_check``).

Shapes are described by their signed distance function, as the renderer
draws them (circle inscribed in its box, square filling it, triangle apex-up
on the box's base); a template's edge is ``ndtr(-sdf / sigma)``, a Gaussian
edge of width ``sigma`` px: sharp ones match the renderer's anti-aliasing,
wider ones stand in for blur and compression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from genlab.worlds.shapes import vocab

# Side of the box of a shape of unit area, per shape.
SIDE_PER_SQRT_AREA: dict[str, float] = {
    "circle": 2.0 / float(np.sqrt(np.pi)), "square": 1.0, "triangle": float(np.sqrt(2.0)),
}
# A Gaussian edge of 0.4 px is the renderer's one-pixel anti-aliasing ramp;
# 0.5 fits it as well and tolerates JPEG a little better (measured).
SHARP_SIGMA = 0.5
# Tried only for a component no sharp template explains: they absorb blur and
# JPEG smear, but are too forgiving to choose the shape with (a blurred square
# is nearly a blurred circle).
BLUR_SIGMAS = (0.7, 0.95, 1.3)
_INV_SQRT5 = 1.0 / np.sqrt(5.0)


def signed_distance(shape: str, dx: np.ndarray, dy: np.ndarray, half: np.ndarray) -> np.ndarray:
    """Signed distance (px, negative inside) of ``shape`` at offsets ``dx, dy`` from its
    box centre, for box half-sides ``half``."""
    if shape == "circle":
        return np.sqrt(dx * dx + dy * dy) - half
    if shape == "square":
        return np.maximum(np.abs(dx), np.abs(dy)) - half
    # apex (0, -half), base corners (+-half, +half)
    return np.maximum(dy - half, (2.0 * np.abs(dx) - (dy + half)) * _INV_SQRT5)


def residuals(lab: np.ndarray, alpha: np.ndarray, dx: np.ndarray, dy: np.ndarray,
              area: np.ndarray, sigma: float) -> np.ndarray:
    """``(k, 3)`` sum of squared coverage differences (px^2) between each component and
    each shape of vocab.SHAPES with its area, centroid and edge width ``sigma``.

    lab, alpha, dx, dy: per pixel ``(m,)`` (label, coverage, offset from the
    component's centroid); area: ``(k,)``. A triangle's centroid sits a sixth
    of its side below its box centre.
    """
    k = area.size
    out = np.zeros((k, len(vocab.SHAPES)))
    root = np.sqrt(np.maximum(area, 0.0))
    for j, shape in enumerate(vocab.SHAPES):
        half = (SIDE_PER_SQRT_AREA[shape] / 2) * root
        shift = half / 3 if shape == "triangle" else np.zeros_like(half)
        sdf = signed_distance(shape, dx, dy + shift[lab], half[lab])
        cov = special.ndtr(sdf * (-1.0 / sigma))
        out[:, j] = np.bincount(lab, (alpha - cov) ** 2, minlength=k)
    return out


@dataclass(frozen=True)
class Fit:
    """Coverage-weighted moments and sharp-template residuals of k components.

    Attributes:
        alpha: ``(m,)`` coverage of each pixel (may leave [0, 1] under noise;
            never clipped, so noise averages out instead of biasing the area).
        area: ``(k,)`` px^2; mx, my: ``(k,)`` centroid in px.
        residual: ``(k, 3)`` :func:`residuals` at :data:`SHARP_SIGMA`.
    """

    alpha: np.ndarray
    area: np.ndarray
    mx: np.ndarray
    my: np.ndarray
    residual: np.ndarray

    @property
    def error(self) -> np.ndarray:
        """``(k,)`` residual per px^2 of area of the best sharp shape."""
        return self.residual.min(1) / np.maximum(self.area, 1e-6)


def fit(lab: np.ndarray, alpha: np.ndarray, x: np.ndarray, y: np.ndarray, k: int) -> Fit:
    """Area, centroid and sharp residuals of the k components of pixels ``lab``."""
    area = np.bincount(lab, alpha, minlength=k).astype(np.float64)
    safe = np.where(np.abs(area) > 1e-6, area, 1e-6)
    mx = np.bincount(lab, alpha * x, minlength=k) / safe
    my = np.bincount(lab, alpha * y, minlength=k) / safe
    res = residuals(lab, alpha, x - mx[lab], y - my[lab], area, SHARP_SIGMA)
    return Fit(alpha, area, mx, my, res)


def choose(use_a: np.ndarray, a: Fit, b: Fit, lab: np.ndarray) -> Fit:
    """Per component, ``a`` where ``use_a`` ``(k,)`` else ``b``; ``lab`` labels the pixels."""
    return Fit(np.where(use_a[lab], a.alpha, b.alpha), np.where(use_a, a.area, b.area),
               np.where(use_a, a.mx, b.mx), np.where(use_a, a.my, b.my),
               np.where(use_a[:, None], a.residual, b.residual))


def fit_error(f: Fit, lab: np.ndarray, x: np.ndarray, y: np.ndarray,
              tolerance: float) -> np.ndarray:
    """``(k,)`` residual per px^2 of the best shape at the best edge width.

    The blurred templates are only tried for components whose sharp error
    exceeds ``tolerance`` (the caller's threshold), which changes no decision
    and skips them for nearly every component of a clean image.
    """
    err = f.error
    retry = err > tolerance
    px = retry[lab]
    if not px.any():
        return err
    sub, a = lab[px], f.alpha[px]
    dx, dy = x[px] - f.mx[sub], y[px] - f.my[sub]
    for sigma in BLUR_SIGMAS:
        blurred = residuals(sub, a, dx, dy, f.area, sigma).min(1) / np.maximum(f.area, 1e-6)
        err = np.where(retry, np.minimum(err, blurred), err)
    return err
