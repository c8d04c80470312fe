"""Pixels + prompt -> the state of a ``motion`` scene: the perception stage of the
object-centric video generators (``video-physics``, ``video-objects``).

A video generator shown only the first frames (Phyworld's protocol) must estimate
where each body is and how it moves before it can continue the video. This module
does what PhysGen's perception stage does (Liu et al., 2024, "PhysGen: Rigid-Body
Physics-Grounded Image-to-Video Generation"): segment the objects, name their shape
and colour, and fit their motion, in three passes:

1. the ``scene`` judge's detector finds each frame's objects; the prompt says which
   physics the world has (gravity or none) and how many bodies of each kind to expect;
2. each body's start (position and velocity at the first frame) is a least-squares
   fit to its track under the prompt's gravity, with what the prompt's motion words
   fix (a drift has no velocity across it; a resting or sliding body is on the floor);
3. render-and-compare refines every start against the pixels of all context frames
   (:func:`render_and_compare`, then :func:`polish` on the exact pixel misfit), and
   bodies drifting toward each other on what can only be one line are put on it
   (:func:`snap_colinear`).

What any estimate can be is bounded by the frames: 4 frames of a 32 px video fix a
velocity to ~2e-4 image widths per second (median, after the polish;
``bench/bench_perception.py``), so a drifting body leaves its true path by a pixel
only after minutes, and much sooner after a collision, which amplifies every error.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares, linear_sum_assignment

from genlab.contracts import VideoRequest
from genlab.judges.detect import detect_batch
from genlab.worlds.motion import grammar
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import simulate
from genlab.worlds.motion.spec import MAX_SPEED, Body, MotionScene, Physics

COLINEAR_PX = 0.5
"""Heights (pixels) within which two bodies drifting toward each other share one line."""
COLINEAR_SLACK = 256.0
"""How much the co-linear prior may raise the context's pixel misfit (squared uint8
levels) and still be taken: a true pair's snap raised it by 0-44 on the ``longvideo``
track's 13 collision scenes (session 24); two bodies of a ``uniform`` scene whose
heights happen to lie 0.14 px apart, by 24,000."""
VERSION = "5"  # 5: a side wall met before the second frame (a mirrored candidate)
# 4: refined from the fits to every frame too, the best render kept
# 3: every prefix fit a candidate; the co-linear prior checked on the pixels (session 24)
# 2: the pattern-search polish after render-and-compare (session 18)


@dataclass(frozen=True)
class Perceived:
    """What the context shows: the scene at its first frame.

    Attributes:
        scene: the bodies found (positions and velocities at t = 0)
            under the prompt's physics; ``None`` when no body was found.
        expected: how many bodies the prompt names.
        motions: each found body's motion word, in the scene's order (what its prompt
            leaves free: :func:`polish`, :func:`render_and_compare`).
    """

    scene: MotionScene | None
    expected: int
    motions: tuple[str, ...] = ()

    @property
    def found(self) -> int:
        return 0 if self.scene is None else len(self.scene.bodies)


def _tracks(points: list[np.ndarray]) -> tuple[list[int], np.ndarray]:
    """The frames where the most bodies of one kind were seen, and each body's position
    in them ``(frames, bodies, 3)`` (x, y, size), linked backwards from the last such
    frame by minimum total distance."""
    most = max(len(p) for p in points)
    frames = [t for t, p in enumerate(points) if len(p) == most]
    linked = [points[frames[-1]]]
    for t in reversed(frames[:-1]):
        prev, cur = linked[0], points[t]
        cost = np.linalg.norm(prev[:, None, :2] - cur[None, :, :2], axis=-1)
        rows, cols = linear_sum_assignment(cost)
        order = np.empty(most, int)
        order[rows] = cols
        linked.insert(0, cur[order])
    return frames, np.stack(linked)


_FIXED_VELOCITY = {"resting": (True, True), "falling": (True, True),
                   "bouncing": (False, True), "sliding left": (False, True),
                   "sliding right": (False, True), "drifting left": (False, True),
                   "drifting right": (False, True), "drifting up": (True, False),
                   "drifting down": (True, False)}
"""Per motion word, which components (x, y) of the starting velocity the grammar fixes
at zero (``grammar._velocity``)."""
_ON_FLOOR = frozenset({"resting", "sliding left", "sliding right"})


def _fit(times: np.ndarray, pos: np.ndarray, accel: np.ndarray, fixed: tuple[bool, bool]
         ) -> tuple[np.ndarray, np.ndarray]:
    """Position and velocity at t = 0 of the track ``pos`` ``(frames, 2)`` seen at
    ``times``, under a known constant ``accel``, by least squares per axis (an axis in
    ``fixed`` has no starting velocity)."""
    target = pos - 0.5 * accel[None, :] * times[:, None] ** 2
    p0, v0 = np.zeros(2), np.zeros(2)
    for axis in range(2):
        if fixed[axis] or len(times) == 1:
            p0[axis] = target[:, axis].mean()
        else:
            design = np.stack([np.ones_like(times), times], axis=1)
            (p0[axis], v0[axis]), *_ = np.linalg.lstsq(design, target[:, axis], rcond=None)
    return p0, v0


def perceive(request: VideoRequest, *, refine: bool = True, polished: bool = True,
             colinear_px: float = COLINEAR_PX) -> Perceived:
    """The scene at t = 0 (the first context frame) read from ``request``'s pixels and
    prompt (a prompt outside the ``motion`` grammar is its ParseError or SpecError).

    The prompt's motion words are priors, as the grammar realises them: a body
    drifting, sliding or bouncing starts with no velocity across its motion, a
    falling or resting one with none at all, and a body resting or sliding sits on
    the floor. With ``refine``, the detector's estimate is refined by
    :func:`render_and_compare` and, with ``polished``, :func:`polish` (perception 2);
    bodies that drift toward each other at heights within ``colinear_px`` pixels are put
    on one line (:func:`snap_colinear`; 0 turns it off) unless that raises the pixel
    misfit by more than :data:`COLINEAR_SLACK`. Each body's start candidates are fits
    to every run of first frames (a contact during the context ends its free flight)
    and the fit to every frame but the first mirrored about either side wall (a wall met
    before the second frame: perception 5);
    the refinement starts from the best-matching candidates and, when they are others,
    from the fits to every frame too, and the reading whose render matches best is kept
    (perception 4)."""
    spec = grammar.parse(request.prompt)
    context = request.context
    size = context.shape[1]
    gravity = grammar.GRAVITY if spec.gravity else 0.0
    accel = np.array([0.0, gravity])
    times = np.arange(len(context)) / request.fps
    detections = detect_batch(context)
    candidates: list[list[Body]] = []
    motions: list[str] = []
    for group in spec.groups:
        points = [np.array([[o.cx, o.cy, o.box.x1 - o.box.x0] for o in d.objects
                            if (o.colour, o.shape) == (group.colour, group.shape)]
                           ).reshape(-1, 3)[:group.count] for d in detections]
        if not any(len(p) for p in points):
            continue
        frames, tracked = _tracks(points)
        fixed = _FIXED_VELOCITY[group.motion]
        template = Body(group.shape, group.colour, 0.5, 0.5, 0.1)
        floor = group.motion in _ON_FLOOR
        for b in range(tracked.shape[1]):
            # a body that met a wall, the floor or another body during the context is
            # in free motion only until then: fits to every shorter run of first frames
            # are the other candidates (a body tracked in one frame has that one only)
            starts = [_fit(times[frames[:m]], tracked[:m, b, :2], accel, fixed)
                      for m in sorted({len(frames), *range(2, len(frames))}, reverse=True)]
            body_size = float(tracked[:, b, 2].mean())
            if len(frames) > 2:
                # a side wall met before the second frame: the motion after it, mirrored
                # about that wall, is the motion before it
                p, v = _fit(times[frames[1:]], tracked[1:, b, :2], accel, fixed)
                for wall in (body_size / 2, 1.0 - body_size / 2):
                    starts.append((np.array([2 * wall - p[0], p[1]]),
                                   np.array([-v[0], v[1]])))
            candidates.append([body_with(template, {"x": p[0],
                                                    **({} if floor else {"y": p[1]}),
                                                    "vx": v[0], "vy": v[1],
                                                    "size": body_size})
                               for p, v in starts])
            motions.append(group.motion)
    expected = sum(g.count for g in spec.groups)
    if not candidates:
        return Perceived(None, expected)
    whole = MotionScene(spec.background, tuple(c[0] for c in candidates),
                        Physics(gravity=gravity))
    best = _best_starts(whole, candidates, context, request.fps)
    # the refinement is local: from the fits to every frame too, when the best-matching
    # candidates are others, keeping the reading whose render matches best
    readings = []  # (pixel misfit, scene) per refinement start
    for scene in (best,) if best == whole else (best, whole):
        if refine:
            scene = render_and_compare(scene, motions, context, request.fps)
            if polished:
                scene = polish(scene, motions, context, request.fps)
        cost = misfit(scene, context, request.fps)
        if colinear_px > 0:
            snapped = snap_colinear(scene, motions, colinear_px / size)
            snapped_cost = misfit(snapped, context, request.fps)
            if snapped_cost <= cost + COLINEAR_SLACK:
                scene, cost = snapped, snapped_cost
        readings.append((cost, scene))
    scene = min(readings, key=lambda r: r[0])[1]
    return Perceived(scene, expected, tuple(motions))


POLISH_STEPS_PX = (0.004, 0.002, 0.001, 0.0005, 0.00025)
POLISH_SWEEPS = 3  # sweeps over every move per step size, at most


def polish(scene: MotionScene, motions: list[str], context: np.ndarray, fps: int
           ) -> MotionScene:
    """``scene`` after a pattern search (Hooke & Jeeves, 1961) on the exact pixel misfit
    of its simulated, rendered context, over the free fields of every body, in steps
    shrinking from :data:`POLISH_STEPS_PX`'s first to its last.

    The least squares of :func:`render_and_compare` sees the renders' uint8 steps
    through finite differences over ~0.05 px, so it stops near, not at, the best start:
    on clean context frames the truth's misfit is exactly 0 and the fit's is mostly not
    (a median of 34-36 squared uint8 levels, up to 196, over the ``uniform`` and
    ``collision`` scenes of ``bench/bench_perception.py``; 2-6 after the search). The
    search moves one thing at a time by a step it keeps only if the misfit falls: a
    body's first-frame position with its last-frame position held (the valley where
    start and velocity trade off), its last-frame position alone, its size; it stops
    when the misfit is 0."""
    k = len(context)
    if k < 2:
        return scene
    span = (k - 1) / fps
    size = context.shape[1]
    best = misfit(scene, context, fps)
    for step_px in POLISH_STEPS_PX:
        d = step_px / size
        for _ in range(POLISH_SWEEPS):
            improved = False
            for i, motion in enumerate(motions):
                free = free_fields(motion)
                for move in pattern_moves(free, d, d / span):
                    for sign in (1.0, -1.0):
                        body = scene.bodies[i]
                        values = {n: getattr(body, n) + sign * move.get(n, 0.0)
                                  for n in free}
                        trial = dataclasses.replace(scene, bodies=(
                            *scene.bodies[:i], body_with(body, values),
                            *scene.bodies[i + 1:]))
                        cost = misfit(trial, context, fps)
                        if cost < best:
                            scene, best, improved = trial, cost, True
                            break
            if best == 0 or not improved:
                break
        if best == 0:
            break
    return scene


def pattern_moves(free: tuple[str, ...], d_pos: float, d_vel: float) -> list[dict[str, float]]:
    """The pattern search's moves for a body whose ``free`` fields are unknown."""
    out: list[dict[str, float]] = []
    for p, v in (("x", "vx"), ("y", "vy")):
        if p in free and v in free:
            out += [{p: d_pos, v: -d_vel}, {v: d_vel}]  # first frame, then last frame
        elif p in free:
            out.append({p: d_pos})
        elif v in free:
            out.append({v: d_vel})
    if "size" in free:
        out.append({"size": d_pos})
    return out


def facing_pairs(motions: list[str]) -> list[tuple[int, int]]:
    """The pairs of bodies (indices) drifting toward each other, one left and one right:
    what the ``collision`` scenario puts on one line."""
    return [(i, j) for i, j in itertools.combinations(range(len(motions)), 2)
            if {motions[i], motions[j]} == {"drifting left", "drifting right"}]


def snap_colinear(scene: MotionScene, motions: list[str], tolerance: float) -> MotionScene:
    """``scene`` with the bodies that drift toward each other along one horizontal line,
    to within ``tolerance`` (image fractions), put on exactly one line (their mean y).

    A prior, not a measurement: in the ``motion`` world's ``train`` split two bodies
    drifting left and right at heights this close nearly always share one line (the
    ``collision`` scenario puts them there; a crowded ``uniform`` scene can hold two by
    chance, which :func:`perceive` tells by the pixels), and a head-on collision is unstable: the
    small height offset that render-and-compare leaves tilts its normal, the bodies
    scatter off the line within seconds and out of the (ceilingless) view, where the
    real pair keeps bouncing on its line for ever (``bench/bench_perception.py``
    measures both ways)."""
    bodies = list(scene.bodies)
    ys = np.array([b.y for b in bodies])
    for i, j in facing_pairs(motions):
        if abs(ys[i] - ys[j]) < tolerance:
            y = float((ys[i] + ys[j]) / 2)
            bodies[i] = dataclasses.replace(bodies[i], y=y)
            bodies[j] = dataclasses.replace(bodies[j], y=y)
    return dataclasses.replace(scene, bodies=tuple(bodies))


def _residual(scene: MotionScene, context: np.ndarray, fps: int) -> np.ndarray:
    """Pixel differences between ``scene``'s simulated, rendered first frames and
    ``context``, flattened."""
    frames = render_frames(simulate(scene, len(context), fps), context.shape[1])
    return (frames.astype(np.float64) - context).ravel()


def misfit(scene: MotionScene, context: np.ndarray, fps: int) -> float:
    """Sum of squared pixel differences between ``scene``'s first frames and ``context``."""
    return float((_residual(scene, context, fps) ** 2).sum())


def _best_starts(scene: MotionScene, candidates: list[list[Body]], context: np.ndarray,
                 fps: int) -> MotionScene:
    """``scene`` with each body's start chosen, one body at a time, among its
    ``candidates`` by how well the simulated, rendered context matches."""
    best = misfit(scene, context, fps)
    for i, options in enumerate(candidates):
        for body in options[1:]:
            trial = dataclasses.replace(scene, bodies=(*scene.bodies[:i], body,
                                                       *scene.bodies[i + 1:]))
            cost = misfit(trial, context, fps)
            if cost < best:
                scene, best = trial, cost
    return scene


def free_fields(motion: str) -> tuple[str, ...]:
    """The fields of a body with ``motion`` that its prompt leaves to be measured."""
    fixed_x, fixed_y = _FIXED_VELOCITY[motion]
    return ("x", *(() if motion in _ON_FLOOR else ("y",)), *(() if fixed_x else ("vx",)),
            *(() if fixed_y else ("vy",)), "size")


def body_with(body: Body, values: dict[str, float]) -> Body:
    """``body`` with ``values`` replaced, kept valid (inside the walls, above the floor,
    speeds and sizes in range); a body whose ``y`` is not among them rests on the floor."""
    size = float(np.clip(values.get("size", body.size), 0.02, 0.5))
    r = size / 2
    y = float(np.clip(values["y"], -1.0, 1.0 - r)) if "y" in values else 1.0 - r
    vx, vy = (float(np.clip(values.get(n, getattr(body, n)), -MAX_SPEED, MAX_SPEED))
              for n in ("vx", "vy"))
    return Body(body.shape, body.colour, float(np.clip(values["x"], r, 1.0 - r)), y, size,
                vx, vy)


def render_and_compare(scene: MotionScene, motions: list[str], context: np.ndarray,
                       fps: int, max_renders: int = 400) -> MotionScene:
    """``scene`` refined so that its simulated, rendered first frames match ``context``
    (analysis by synthesis: Grenander's pattern theory, Yuille & Kersten, 2006, "Vision
    as Bayesian inference: analysis by synthesis?"). Nonlinear least squares over the
    pixels of every context frame, the free fields of every body (``motions`` says
    which are free) as unknowns, from the detector's estimate. The detector's centroids
    err by ~0.03 px (a triangle's by up to 0.15 px); the renders' anti-aliased edges
    place a body ~10x better, which decides whether two bodies on one line meet head
    on. Velocities are solved as displacements over the context, so that every
    unknown moves pixels on the same scale."""
    k = len(context)
    if k < 2:
        return scene
    span = (k - 1) / fps
    fields = [free_fields(m) for m in motions]
    scale = [np.array([span if n in ("vx", "vy") else 1.0 for n in f]) for f in fields]
    start = np.concatenate([np.array([getattr(b, n) for n in f]) * c
                            for b, f, c in zip(scene.bodies, fields, scale, strict=True)])
    def build(theta: np.ndarray) -> MotionScene:
        bodies, i = [], 0
        for b, f, c in zip(scene.bodies, fields, scale, strict=True):
            bodies.append(body_with(b, dict(zip(f, theta[i:i + len(f)] / c, strict=True))))
            i += len(f)
        return MotionScene(scene.background, tuple(bodies), scene.physics)

    # differences over 0.1 px steps see through the uint8 renders' steps; the tolerances
    # let it follow the long valley where a start and a velocity trade off
    fit = least_squares(lambda theta: _residual(build(theta), context, fps), start,
                        diff_step=3e-3, xtol=1e-12, ftol=1e-12, gtol=1e-12,
                        max_nfev=max_renders)
    best = fit.x if fit.cost <= 0.5 * misfit(build(start), context, fps) else start
    return build(best)
