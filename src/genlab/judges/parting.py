"""Parting a blob into the known bodies it is made of (judge ``tracking`` 1.2; 1.3:
every part must show itself).

The ``scene`` judge's detector segments the foreground from the background, so two
shapes that touch or overlap are one connected component, and no single shape
template explains it: a ``"blob"``. In a ``shapes`` image that never happens (objects
are placed apart); in a ``motion`` video it happens at every contact. The tracking
judge knows which bodies the scene holds (their shape, colour and size), so it can
ask of each blob the question analysis by synthesis asks (Yuille & Kersten, 2006,
"Vision as Bayesian inference: analysis by synthesis?"; the same idea as the
render-and-compare of :mod:`genlab.generators.video.perceive`): *is there a set of
two or three of the scene's bodies, at some positions, whose render is these
pixels?*

For every such set (pruned by the blob's colours and area) the bodies' positions are
fitted by nonlinear least squares of the ``shapes`` renderer's pixels against the
frame's, over a window around the blob (pixels of other objects left out), from
k-means starts on the blob's pixels of each colour (the :data:`MAX_TRIES` starts whose
renders match best first; in a video, the last frame's parting before them): sharp
renders first, and only if none fits, the closest sets again under a fitted Gaussian
blur (as the detector's templates allow a blurred edge). Residuals are measured as the
detector measures coverage (YCbCr, chroma down-weighted); each pixel's is charged to
the nearest part, less the frame's own noise (the median residual where the fit draws
background), and the worst part's share per px^2 of its area, in units of full
contrast, is the fit's error; a set with a part that shows under a fifth of its area
(hidden under another object, whose pixels the window leaves out, or under a body of
its colour) is no explanation (judge 1.3: at 1.2 such a hidden third body counted one
body twice). The best set is accepted only if that error is at most
:data:`TOLERANCE`: an exact render of touching bodies fits to ~0, noise or blur to
~0.01; a body of the wrong size or shape does not (>= 0.02), nor a colour the set
cannot make, and stays a blob (a failed frame, as before). ``bench/bench_parting.py``
measures both sides against the simulator's truth and against counterfeit blobs.

Sizes are the scene's, not fitted: a generator that draws a body at another size
gets no benefit of the doubt where it touches another one.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.optimize import least_squares

from genlab.contracts import check_image
from genlab.errors import InputError
from genlab.judges.detect import BLOB, UNKNOWN, DetectedObject, Detections, safe_box
from genlab.judges.measure import CHROMA_WEIGHT, YCBCR, palette_cosines
from genlab.judges.templates import SIDE_PER_SQRT_AREA
from genlab.worlds.shapes import vocab
from genlab.worlds.shapes.arrays import (
    BACKGROUND_CODE,
    COLOUR_CODE,
    OBJECT_DTYPE,
    SHAPE_CODE,
    SceneArrays,
)
from genlab.worlds.shapes.render import render_arrays

TOLERANCE = 0.015  # accepted residual per px^2 of a part's area, in units of full contrast
EXACT = 0.002      # a residual this small is the answer: no other set is tried
MAX_PARTS = 3      # the most bodies one blob is parted into
MARGIN_PX = 2      # the window reaches this far beyond the blob's pixels
AREA_SLACK = 0.3   # a set's summed area may differ from the blob's by this fraction
FOREGROUND = 40.0  # colour distance from the background of a blob pixel (uint8 units)
MIN_BACKGROUND_PX = 12  # window pixels of pure background needed to measure noise
MIN_COLOUR_PX = 2  # pure pixels a colour needs to count as present in a blob
DIFF_STEP_PX = 0.05  # finite-difference step of the fit (pixels)
MAX_FITS = 30        # least-squares iterations one start's fit may spend
MAX_TRIES = 4        # starts fitted sharp, the best-matching first
BLUR_TRIES = 2       # of those, the closest fitted again under a blur if none fits
BLUR_WORTH = 0.1     # a sharp fit this far off is not tried blurred
MAX_BLUR_PX = 1.0    # the most Gaussian blur (sigma, px) a fit may put on its render
MIN_SHOWN = 0.2      # the least share of a part's area its own pixels must show (1.3)
# Residuals are measured in YCbCr with chroma down-weighted, as the detector measures
# coverage (:data:`genlab.judges.measure.CHROMA_WEIGHT`): JPEG halves chroma's
# resolution and quantises it coarsely, and keeps luma sharp.
_METRIC = (YCBCR.T @ np.diag([1.0, np.sqrt(CHROMA_WEIGHT), np.sqrt(CHROMA_WEIGHT)]))
_COLOURS = list(vocab.COLOURS)
_RGB = np.array(list(vocab.COLOURS.values()), np.float64)


@dataclass(frozen=True)
class Part:
    """A body the scene holds: what a blob may be made of."""

    shape: str
    colour: str
    size: float  # box side, image fraction

    def area_px(self, image_size: int) -> float:
        return (self.size * image_size / SIDE_PER_SQRT_AREA[self.shape]) ** 2


@dataclass(frozen=True)
class Parting:
    """The best explanation of one blob: the parts at their fitted positions, and the
    fit's error (the worst part's residual per px^2 of its area, in units of full
    contrast: see the module docstring), and which of the scene's parts they are."""

    error: float
    objects: tuple[DetectedObject, ...]
    parts: tuple[Part, ...]

    def centres_px(self, size: int) -> np.ndarray:
        """``(n, 2)`` the parts' centres in pixels of a ``size`` px image."""
        return np.array([[o.cx, o.cy] for o in self.objects]) * size


def part_blobs(image: np.ndarray, detections: Detections, parts: Sequence[Part],
               tolerance: float = TOLERANCE, hints: Sequence[Parting] = ()
               ) -> tuple[Detections, tuple[Parting, ...]]:
    """``detections`` of ``image`` ``(H, H, 3) uint8`` with every blob (or object of no
    named colour) that two or three of ``parts`` explain to within ``tolerance``
    replaced by those parts, and the partings accepted (``hints``: as in
    :func:`explain`; pass a frame's accepted partings to the next frame's call)."""
    out: list[DetectedObject] = []
    accepted: list[Parting] = []
    for obj, best in zip(detections.objects, explain(image, detections, parts, hints),
                         strict=True):
        if best is not None and best.error <= tolerance:
            out.extend(best.objects)
            accepted.append(best)
        else:
            out.append(obj)
    return Detections(detections.background, tuple(out)), tuple(accepted)


def explain(image: np.ndarray, detections: Detections, parts: Sequence[Part],
            hints: Sequence[Parting] = ()) -> list[Parting | None]:
    """For each of ``detections``' objects, the best :class:`Parting` of it into two or
    three of ``parts`` if it is a blob (or of no named colour) and some set of the
    scene's bodies can make its colours and area; otherwise None. ``hints``: partings
    of the frame before, tried first from where they were (in a video, the same bodies
    touch over several frames, and move a pixel or less between them)."""
    check_image(image)
    if image.shape[0] != image.shape[1]:
        raise InputError(f"parting needs a square image (H, H, 3), got {image.shape}")
    objs = detections.objects
    if detections.background not in vocab.BACKGROUNDS or len(parts) < 2:
        return [None] * len(objs)
    return [_explain(image, o, objs[:i] + objs[i + 1:], detections.background, parts, hints)
            if o.shape == BLOB or o.colour == UNKNOWN else None
            for i, o in enumerate(objs)]


@dataclass(frozen=True)
class _Window:
    """The pixels a blob is fitted on: rows ``y0:y1``, columns ``x0:x1``, ``mask``
    (those not inside another object's box), and the frame's values there."""

    y0: int
    y1: int
    x0: int
    x1: int
    mask: np.ndarray
    pixels: np.ndarray  # (m, 3) float64, masked


def _window(image: np.ndarray, blob: DetectedObject, others: Sequence[DetectedObject]
            ) -> _Window:
    size = image.shape[0]
    b = blob.box
    x0, y0 = (max(0, int(np.floor(v * size)) - MARGIN_PX) for v in (b.x0, b.y0))
    x1, y1 = (min(size, int(np.ceil(v * size)) + MARGIN_PX) for v in (b.x1, b.y1))
    mask = np.ones((y1 - y0, x1 - x0), bool)
    for o in others:  # another object's pixels are not the blob's to explain
        ox0, oy0 = (int(np.floor(v * size)) - 1 - lo for v, lo in ((o.box.x0, x0), (o.box.y0, y0)))
        ox1, oy1 = (int(np.ceil(v * size)) + 1 - lo for v, lo in ((o.box.x1, x0), (o.box.y1, y0)))
        mask[max(oy0, 0):max(oy1, 0), max(ox0, 0):max(ox1, 0)] = False
    pixels = image[y0:y1, x0:x1][mask].astype(np.float64)
    return _Window(y0, y1, x0, x1, mask, pixels)


@dataclass(frozen=True)
class _Blob:
    """What a blob's window shows: its foreground pixels' centres ``xy`` (m, 2) and
    nearest palette colours ``colour`` (m,), the colours it shows pure, and its
    coverage-weighted area (px^2)."""

    xy: np.ndarray
    colour: np.ndarray
    present: frozenset[int]
    area: float


def _look(win: _Window, bg: np.ndarray) -> _Blob | None:
    """The window's blob, or None if it has under two foreground pixels."""
    diff = win.pixels - bg
    dist = np.sqrt((diff * diff).sum(1))
    fg = dist > FOREGROUND
    if fg.sum() < 2:
        return None
    ys, xs = np.nonzero(win.mask)
    xy = np.stack([xs + win.x0 + 0.5, ys + win.y0 + 0.5], 1)
    colour = palette_cosines(diff).argmax(1)  # each pixel's nearest hue
    # a colour is present where pixels show it pure (fully covered): where two colours
    # meet, anti-aliasing mixes them into a third hue (yellow and purple make red)
    pure = np.linalg.norm(win.pixels - _RGB[colour], axis=1) < FOREGROUND
    shown = colour[pure]
    present = frozenset(c for c in set(shown.tolist()) if (shown == c).sum() >= MIN_COLOUR_PX)
    axis = _RGB[colour] - bg  # each pixel's coverage along its nearest colour's line
    alpha = np.clip((diff * axis).sum(1) / np.maximum((axis * axis).sum(1), 1e-9), 0, 1)
    return _Blob(xy[fg], colour[fg], present, float(alpha[dist > FOREGROUND / 4].sum()))


def _explain(image: np.ndarray, blob: DetectedObject, others: Sequence[DetectedObject],
             background: str, parts: Sequence[Part], hints: Sequence[Parting]
             ) -> Parting | None:
    size = image.shape[0]
    win = _window(image, blob, others)
    seen = _look(win, np.array(vocab.BACKGROUNDS[background], np.float64))
    if seen is None:
        return None
    fits = {c: _Fit(c, win, background, size) for n in range(2, MAX_PARTS + 1)
            for c in _candidates(parts, n, seen.present, size, seen.area)}
    best: Parting | None = None
    # the last frame's partings of this blob first, from where they were
    for hint in hints:
        if hint.parts in fits and all(win.x0 <= o.cx * size <= win.x1 and
                                      win.y0 <= o.cy * size <= win.y1 for o in hint.objects):
            found = fits[hint.parts].solve(hint.centres_px(size), False)
            if best is None or found.error < best.error:
                best = found
            if best.error <= EXACT:
                return best
    # then every start of every set, ranked by how well its sharp render already matches
    clusters: dict[tuple[int, int], np.ndarray] = {}
    tries = sorted(((fit.cost(start), k, fit, start) for k, (fit, start) in enumerate(
        (fit, start) for fit in fits.values()
        for start in _starts(fit.chosen, seen.xy, seen.colour, clusters))),
        key=lambda t: t[:2])
    sharp: list[tuple[Parting, _Fit]] = []
    for _, _, fit, start in tries[:MAX_TRIES]:
        found = fit.solve(start, False)
        sharp.append((found, fit))
        if best is None or found.error < best.error:
            best = found
        if best.error <= EXACT:
            return best
    if best is None or best.error <= TOLERANCE or best.error > BLUR_WORTH:
        return best  # fits, or so far off that no blur would make it fit
    # none fits sharp: the closest sets again, under a fitted blur, from where they ended
    for ended, fit in sorted(sharp, key=lambda t: t[0].error)[:BLUR_TRIES]:
        found = fit.solve(ended.centres_px(size), True)
        if found.error < best.error:
            best = found
    return best


def _candidates(parts: Sequence[Part], n: int, present: frozenset[int], size: int, area: float
                ) -> list[tuple[Part, ...]]:
    """Distinct sets of ``n`` of ``parts`` that could make a blob of ``area`` px^2 showing
    the colours ``present`` (each colour of the set shows; no other colour shows much)."""
    seen, out = set(), []
    for chosen in itertools.combinations(parts, n):
        key = tuple(sorted((p.shape, p.colour, round(p.size, 6)) for p in chosen))
        if key in seen:
            continue
        seen.add(key)
        colours = {_COLOURS.index(p.colour) for p in chosen}
        total = sum(p.area_px(size) for p in chosen)
        if colours == present and abs(total - area) <= AREA_SLACK * max(area, total):
            out.append(chosen)
    return out


class _Fit:
    """Fitting one set of parts to a blob's window: the unknowns are the parts' pixel
    positions and, with ``blur``, the variance (px^2) of a Gaussian blur of the render."""

    def __init__(self, chosen: tuple[Part, ...], win: _Window, background: str,
                 size: int) -> None:
        self.chosen, self.win, self.size, self.n = chosen, win, size, len(chosen)
        self.objs = np.zeros(self.n, OBJECT_DTYPE)
        self.objs["shape"] = [SHAPE_CODE[p.shape] for p in chosen]
        self.objs["colour"] = [COLOUR_CODE[p.colour] for p in chosen]
        self.objs["size"] = [p.size for p in chosen]
        self.code = BACKGROUND_CODE[background]
        self.bg = np.array(vocab.BACKGROUNDS[background], np.float64)

    def _renders(self, thetas: np.ndarray, blur: bool) -> np.ndarray:
        """The window's masked pixels ``(k, m, 3)`` float under each of ``thetas`` (k, p),
        drawn in one call of the renderer."""
        k, n = len(thetas), self.n
        objs = np.tile(self.objs, k)
        objs["scene"] = np.repeat(np.arange(k), n)
        objs["x"] = thetas[:, 0:2 * n:2].ravel() / self.size
        objs["y"] = thetas[:, 1:2 * n:2].ravel() / self.size
        frames = render_arrays(SceneArrays(np.full(k, self.code, np.int8), objs), self.size)
        w = self.win
        out = frames[:, w.y0:w.y1, w.x0:w.x1].astype(np.float64)
        if blur:  # edges softened (the unknown is the variance, px^2)
            for i, var in enumerate(thetas[:, -1]):
                if var > 0.0:
                    sigma = np.sqrt(var)
                    out[i] = ndimage.gaussian_filter(out[i], (sigma, sigma, 0.0), truncate=3.0)
        return out[:, w.mask]

    def residuals(self, thetas: np.ndarray, blur: bool) -> np.ndarray:
        """``(k, m * 3)`` residuals (in the metric, full scale 1) under each of ``thetas``."""
        diff = (self._renders(thetas, blur) - self.win.pixels) @ _METRIC
        return diff.reshape(len(thetas), -1) / 255.0

    def cost(self, start: np.ndarray) -> float:
        """Half the sum of squared residuals of the sharp render at ``start`` ``(n, 2)``."""
        return 0.5 * float((self.residuals(start.reshape(1, -1), False) ** 2).sum())

    def solve(self, start: np.ndarray, blur: bool) -> Parting:
        """Least squares from ``start`` ``(n, 2)``; the fit as a :class:`Parting`."""
        n, win, size = self.n, self.win, self.size

        def residual(theta: np.ndarray) -> np.ndarray:
            return self.residuals(theta[None], blur)[0]

        def jacobian(theta: np.ndarray) -> np.ndarray:
            # forward differences over DIFF_STEP_PX, to see through the uint8 renders'
            # steps (scipy's own step is relative to the unknowns, pixel positions)
            steps = np.vstack([theta, theta + DIFF_STEP_PX * np.eye(len(theta))])
            res = self.residuals(steps, blur)
            return ((res[1:] - res[0]) / DIFF_STEP_PX).T

        # every body stays where its box can reach the window; the blur within MAX_BLUR_PX
        reach = np.repeat(self.objs["size"], 2) * size / 2
        lo = np.tile([win.x0, win.y0], n) - reach
        hi = np.tile([win.x1, win.y1], n) + reach
        theta = start.ravel()
        if blur:
            lo, hi, theta = np.append(lo, 0.0), np.append(hi, MAX_BLUR_PX ** 2), \
                np.append(theta, 0.05)
        # a thousandth of a pixel, or a millionth of the residual, is close enough
        x = least_squares(residual, np.clip(theta, lo, hi), jac=jacobian, bounds=(lo, hi),
                          xtol=1e-4 / size, ftol=1e-6, max_nfev=MAX_FITS).x
        return Parting(self._error(x, blur), tuple(self._objects(x)), self.chosen)

    def _shown(self, x: np.ndarray) -> np.ndarray:
        """``(n,)`` the share of each part's area that its own pixels show in the window:
        the window's pixels the sharp render changes when that part is taken away (a
        part hidden under another object's box, which the window leaves out, or wholly
        under a part of its colour shows nothing)."""
        n = self.n
        sharp = x[:2 * n]
        away = np.repeat(sharp[None], n, axis=0)
        for i in range(n):
            away[i, 2 * i:2 * i + 2] = -self.size  # far outside the view
        r = self._renders(np.vstack([sharp[None], away]), False)
        changed = (np.abs(r[1:] - r[0]).max(-1) > FOREGROUND / 4).sum(-1)
        return changed / np.array([p.area_px(self.size) for p in self.chosen])

    def _error(self, x: np.ndarray, blur: bool) -> float:
        """Each window pixel's squared residual is charged to the nearest part's edge,
        less the frame's own noise (the median where the fit draws only background: a
        misfit's pixels there are few, and leave it 0 on a clean frame); the worst
        part's share per px^2 of its area: a wrong shape among three bodies is not
        diluted by the two right ones. A part that shows under :data:`MIN_SHOWN` of its
        area has no pixels to answer for: the set is not these pixels (inf)."""
        win, n = self.win, self.n
        if self._shown(x).min() < MIN_SHOWN:
            return float("inf")
        centres = x[:2 * n].reshape(-1, 2)
        ys, xs = np.nonzero(win.mask)
        pix = np.stack([xs + win.x0 + 0.5, ys + win.y0 + 0.5], 1)
        half = self.objs["size"] * self.size / 2
        owner = (np.linalg.norm(pix[:, None] - centres[None], axis=-1) - half).argmin(1)
        sq = (self.residuals(x[None], blur)[0].reshape(-1, 3) ** 2).sum(1)
        sharp = np.append(x[:2 * n], 0.0)[None] if blur else x[None]
        empty = (self._renders(sharp, False)[0] == self.bg).all(1)
        floor = float(np.median(sq[empty])) if empty.sum() >= MIN_BACKGROUND_PX else 0.0
        return max(max(float(sq[owner == i].sum()) - floor * float((owner == i).sum()), 0.0)
                   / (_contrast2(p.colour, self.bg) * p.area_px(self.size))
                   for i, p in enumerate(self.chosen))

    def _objects(self, x: np.ndarray) -> list[DetectedObject]:
        out = []
        for p, (cx, cy) in zip(self.chosen, x[:2 * self.n].reshape(-1, 2) / self.size,
                               strict=True):
            h = p.size / 2
            out.append(DetectedObject(p.shape, p.colour,
                                      safe_box(cx - h, cy - h, cx + h, cy + h),
                                      float(cx), float(cy), p.area_px(self.size)))
        return out


def _contrast2(colour: str, bg: np.ndarray) -> float:
    """Squared distance (in the residual's metric, full scale 1) of a fully covered pixel
    of ``colour`` from the background."""
    return float((((np.array(vocab.COLOURS[colour]) - bg) @ _METRIC) ** 2).sum() / 255.0**2)


def _starts(chosen: tuple[Part, ...], xy: np.ndarray, colour: np.ndarray,
            clusters: dict[tuple[int, int], np.ndarray]) -> list[np.ndarray]:
    """``(n, 2)`` pixel positions to start from: per colour, k-means of its pixels into
    as many clusters as the set has bodies of that colour (Lloyd, 1982), seeded at the
    ends of the pixels' principal axis (kept in ``clusters`` by colour and count);
    bodies of one colour differ in size or shape, so every assignment of them to the
    clusters is a start. None if a colour has fewer pixels than bodies."""
    groups = []
    for c in dict.fromkeys(p.colour for p in chosen):
        rows = [i for i, p in enumerate(chosen) if p.colour == c]
        key = (_COLOURS.index(c), len(rows))
        if key not in clusters:
            pts = xy[colour == key[0]]
            if len(pts) < len(rows):
                return []
            clusters[key] = _kmeans(pts, len(rows))
        centres = clusters[key]
        groups.append([(rows, centres[list(order)])
                       for order in itertools.permutations(range(len(rows)))])
    out = []
    for combo in itertools.product(*groups):
        start = np.zeros((len(chosen), 2))
        for rows, cs in combo:
            start[rows] = cs
        out.append(start)
    return out


def _kmeans(pts: np.ndarray, k: int, iters: int = 10) -> np.ndarray:
    mean = pts.mean(0)
    if k == 1:
        return mean[None]
    axis = np.linalg.svd(pts - mean, full_matrices=False)[2][0]
    proj = (pts - mean) @ axis
    centres = mean + np.linspace(proj.min(), proj.max(), k + 2)[1:-1, None] * axis
    for _ in range(iters):
        label = np.linalg.norm(pts[:, None] - centres[None], axis=-1).argmin(1)
        centres = np.array([pts[label == j].mean(0) if (label == j).any() else centres[j]
                            for j in range(k)])
    return centres
