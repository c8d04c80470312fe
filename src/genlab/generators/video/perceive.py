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
   (:mod:`~genlab.generators.video.refine`: least squares on the pixels, a pattern
   search on the exact misfit), bodies drifting toward each other on what can only be
   one line are put on it, and the reading is settled in the middle of the starts
   that render the context (least squares on the renderer's expected pixels), each
   body seen alone moved to the centroid of the starts its pixels allow
   (:mod:`~genlab.generators.video.inscribe`: the pixels of one body are exact
   constraints on its start), the others to the mean of a walk over the starts that
   render the context.

What any estimate can be is bounded by the frames: 4 frames of a 32 px video fix a
velocity to ~2e-4 image widths per second (median, after the polish;
``bench/bench_perception.py``), so a drifting body leaves its true path by a pixel
only after minutes, and much sooner after a collision, which amplifies every error.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy.cluster.vq import kmeans2
from scipy.optimize import linear_sum_assignment

from genlab.contracts import VideoRequest
from genlab.generators.video.inscribe import inscribe
from genlab.generators.video.refine import (
    FIXED_VELOCITY,
    ON_FLOOR,
    body_with,
    centre,
    misfit,
    polish,
    render_and_compare,
    settle,
    snap_colinear,
)
from genlab.judges.detect import BLOB, Detections, detect_batch
from genlab.judges.templates import SIDE_PER_SQRT_AREA
from genlab.worlds.motion import grammar
from genlab.worlds.motion.spec import Body, MotionScene, Physics
from genlab.worlds.shapes import vocab

COLINEAR_PX = 0.5
"""Heights (pixels) within which two bodies drifting toward each other share one line."""
COLINEAR_SLACK = 256.0
"""How much the co-linear prior may raise the context's pixel misfit (squared uint8
levels) and still be taken: a true pair's snap raised it by 0-44 on the ``longvideo``
track's 13 collision scenes (session 24); two bodies of a ``uniform`` scene whose
heights happen to lie 0.14 px apart, by 24,000."""
SWEEP_SPEED = 1.5
"""The reach (image widths per second) of the velocity sweep of a body seen apart in
only some context frames: the ``motion`` world's fastest held-out speeds are 1.2."""
SWEEP_STEPS = 61  # velocities per sweep: 0.05 widths/s apart, 0.16 px over 4 frames
HIDDEN_COLOUR = 40.0
"""RGB distance within which a pixel is of a body's colour (the vocabulary's colours
lie >= 100 apart), when bodies hidden in a blob are read from its pixels."""
HIDDEN_MIN_PX = 4  # pixels a hidden body must show in a frame to be read there
VERSION = "7"  # 7: bodies seen alone at the centroid of their pixels' exact constraints
# 6: settled on the expected pixels; the floor met before the second frame
# 5: a side wall met before the second frame (a mirrored candidate)
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
             settled: bool = True, inscribed: bool = True, centred: bool = True,
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
    before the second frame: perception 5) or bounced off the floor (perception 6);
    the refinement starts from the best-matching candidates and, when they are others,
    from the fits to every frame too, and the reading whose render matches best is kept
    (perception 4). With ``settled`` too, that reading is :func:`settle`-d on the
    renderer's expected pixels (perception 6); with ``inscribed``, each body alone in
    two or more context frames goes to the centroid of the starts those frames' pixels
    allow (:func:`inscribe`; perception 7), and with ``centred`` every other body to the
    middle of the starts that render the context exactly (:func:`centre`)."""
    spec = grammar.parse(request.prompt)
    context = request.context
    size = context.shape[1]
    gravity = grammar.GRAVITY if spec.gravity else 0.0
    candidates, motions, hidden = _candidates(spec, context, request.fps, gravity)
    expected = sum(g.count for g in spec.groups)
    if not candidates:
        return Perceived(None, expected)
    whole = MotionScene(spec.background, tuple(c[0] for c in candidates),
                        Physics(gravity=gravity))
    best, best_cost = _best_starts(whole, candidates, context, request.fps)
    if hidden:  # bodies read from a blob's pixels stay only if they explain pixels
        keep = [i for i in range(len(candidates)) if i not in hidden]
        seen = dataclasses.replace(best, bodies=tuple(best.bodies[i] for i in keep))
        if misfit(seen, context, request.fps) <= best_cost:
            candidates, motions = [candidates[i] for i in keep], [motions[i] for i in keep]
            if not candidates:
                return Perceived(None, expected)
            whole = dataclasses.replace(whole, bodies=tuple(c[0] for c in candidates))
            best = seen
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
    if refine and polished and settled:
        scene = settle(scene, motions, context, request.fps)
        done: frozenset[int] = frozenset()
        if inscribed:
            scene, done = inscribe(scene, motions, context, request.fps)
        if centred:
            scene = centre(scene, motions, context, request.fps, skip=done)
    return Perceived(scene, expected, tuple(motions))


def _candidates(spec: grammar.MotionPrompt, context: np.ndarray, fps: int, gravity: float
                ) -> tuple[list[list[Body]], list[str], list[int]]:
    """Each body's start candidates (:func:`_starts`, the fit to every frame first), in
    the prompt's group order, its motion word, and which bodies were read from a blob's
    pixels (:func:`_hidden_points`) rather than from the detector's shapes."""
    times = np.arange(len(context)) / fps
    detections = detect_batch(context)
    candidates: list[list[Body]] = []
    motions: list[str] = []
    hidden: list[int] = []
    for group in spec.groups:
        points = [np.array([[o.cx, o.cy, o.box.x1 - o.box.x0] for o in d.objects
                            if (o.colour, o.shape) == (group.colour, group.shape)]
                           ).reshape(-1, 3)[:group.count] for d in detections]
        tracks = [_tracks(points)] if any(len(p) for p in points) else []
        missing = group.count - (tracks[0][1].shape[1] if tracks else 0)
        if missing:  # bodies that touch another in every context frame: one blob
            found = _hidden_points(context, detections, group.colour, group.shape, missing)
            if any(len(p) for p in found):
                tracks.append(_tracks(found))
        template = Body(group.shape, group.colour, 0.5, 0.5, 0.1)
        floor = group.motion in ON_FLOOR
        for t, (frames, tracked) in enumerate(tracks):
            for b in range(tracked.shape[1]):
                body_size = float(tracked[:, b, 2].mean())
                starts = _starts(times[frames], tracked[:, b, :2], body_size, group.motion,
                                 gravity, len(context))
                candidates.append([body_with(template, {"x": p[0],
                                                        **({} if floor else {"y": p[1]}),
                                                        "vx": v[0], "vy": v[1],
                                                        "size": body_size})
                                   for p, v in starts])
                motions.append(group.motion)
                if t:
                    hidden.append(len(candidates) - 1)
    return candidates, motions, hidden


def _starts(times: np.ndarray, track: np.ndarray, body_size: float, motion: str,
            gravity: float, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Start candidates (position, velocity at t = 0) of a body seen at ``times`` at
    positions ``track`` ``(frames, 2)``, in a context of ``k`` frames, the fit to every
    frame first.

    A body that met a wall, the floor or another body during the context is in free
    motion only until then: fits to every shorter run of first frames are candidates
    (a body tracked in one frame has that one fit), and so is the fit to every frame but
    the first mirrored about either side wall or bounced off the floor (one met before
    the second frame). A body seen apart in fewer than ``k`` frames (a blob in the
    others) also gets a sweep of its one free velocity component (:data:`SWEEP_SPEED`),
    which the pixels of every frame decide among (``_best_starts``)."""
    fixed = FIXED_VELOCITY[motion]
    accel = np.array([0.0, gravity])
    starts = [_fit(times[:m], track[:m], accel, fixed)
              for m in sorted({len(times), *range(2, len(times))}, reverse=True)]
    if len(times) > 2:
        p, v = _fit(times[1:], track[1:], accel, fixed)
        for wall in (body_size / 2, 1.0 - body_size / 2):
            starts.append((np.array([2 * wall - p[0], p[1]]), np.array([-v[0], v[1]])))
        if not (motion in ON_FLOOR or fixed[1]):
            before = _before_floor(p, v, gravity, 1.0 - body_size / 2, times[1])
            starts += [] if before is None else [before]
    free = [axis for axis in (0, 1) if not fixed[axis]]
    if len(times) < k and free:
        axis, (p, _) = free[0], starts[0]
        for speed in np.linspace(-SWEEP_SPEED, SWEEP_SPEED, SWEEP_STEPS):
            q, v = p.copy(), np.zeros(2)
            v[axis] = speed
            q[axis] = float(np.mean(track[:, axis] - speed * times
                                    - accel[axis] * times ** 2 / 2))
            starts.append((q, v))
    return starts


def _hidden_points(context: np.ndarray, detections: list[Detections], colour: str,
                   shape: str, missing: int) -> list[np.ndarray]:
    """Per context frame, ``missing`` bodies of ``colour`` and ``shape`` read from the
    pixels of that colour that no shape the detector named covers (bodies that touch
    another in every frame, so the detector saw a blob): ``(n, 3)`` x, y and side (image
    fractions), by k-means on the pixels; none in a frame where too few pixels are left."""
    size = context.shape[1]
    rgb = np.array(vocab.COLOURS[colour], np.float64)
    near = np.linalg.norm(context.astype(np.float64) - rgb, axis=-1) < HIDDEN_COLOUR
    out = []
    for f, d in enumerate(detections):
        free = near[f].copy()
        for o in d.objects:
            if o.shape != BLOB:  # a named shape claims its box, grown by a pixel
                x0, y0 = (max(0, int(np.floor(v * size)) - 1) for v in (o.box.x0, o.box.y0))
                x1, y1 = (int(np.ceil(v * size)) + 1 for v in (o.box.x1, o.box.y1))
                free[y0:y1, x0:x1] = False
        ys, xs = np.nonzero(free)
        if len(xs) < HIDDEN_MIN_PX * missing:
            out.append(np.zeros((0, 3)))
            continue
        pixels = np.stack([xs, ys], axis=1) + 0.5
        if missing == 1:
            centres, labels = pixels.mean(0, keepdims=True), np.zeros(len(pixels), int)
        else:
            centres, labels = kmeans2(pixels, missing, minit="++", seed=0)
        counts = np.bincount(labels, minlength=missing)
        sides = np.clip(SIDE_PER_SQRT_AREA[shape] * np.sqrt(counts) / size, *grammar.SIZES)
        out.append(np.column_stack([centres / size, sides])[counts > 0])
    return out


def _before_floor(p: np.ndarray, v: np.ndarray, gravity: float, floor: float,
                  until: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The start (position, velocity at t = 0) of a body whose free flight ``p``, ``v``
    (extrapolated to t = 0) left the floor ``floor`` (the centre's height at contact)
    going up between t = 0 and ``until``: the flight before that elastic bounce, or
    ``None`` if the flight met no floor then."""
    # p_y + v_y t + g t^2 / 2 = floor, rising (v_y + g t < 0), for t in (0, until)
    roots = np.roots([gravity / 2, v[1], p[1] - floor]) if gravity else \
        np.array([(floor - p[1]) / v[1]]) if v[1] else np.array([])
    hits = [float(t.real) for t in np.atleast_1d(roots)
            if abs(t.imag) < 1e-12 and 0 < t.real < until and v[1] + gravity * t.real < 0]
    if not hits:
        return None
    t = min(hits)
    down = -(v[1] + gravity * t)  # the velocity just before the bounce
    y0 = floor - down * t + gravity * t * t / 2
    return (np.array([p[0], y0]), np.array([v[0], down - gravity * t]))


def _best_starts(scene: MotionScene, candidates: list[list[Body]], context: np.ndarray,
                 fps: int) -> tuple[MotionScene, float]:
    """``scene`` with each body's start chosen, one body at a time, among its
    ``candidates`` by how well the simulated, rendered context matches (twice over: two
    bodies that meet in the context are judged with each other's choice), and its pixel
    misfit."""
    best = misfit(scene, context, fps)
    for i, options in [*enumerate(candidates)] * 2:
        for body in options:
            trial = dataclasses.replace(scene, bodies=(*scene.bodies[:i], body,
                                                       *scene.bodies[i + 1:]))
            cost = misfit(trial, context, fps)
            if cost < best:
                scene, best = trial, cost
    return scene, best


