"""Refining a reading of a ``motion`` scene against the pixels of its context frames.

Perception (:mod:`~genlab.generators.video.perceive`) first reads each body's start
from detections; this module moves those starts until the scene's simulated, rendered
context matches the frames it was read from (analysis by synthesis: Grenander's
pattern theory; Yuille & Kersten, 2006, "Vision as Bayesian inference: analysis by
synthesis?"). Only what the prompt's motion words leave free moves
(:func:`free_fields`), every body stays valid (:func:`body_with`), and bodies put on
one line stay on it (:func:`tied_pairs`). Three searches, coarse to fine:

- :func:`render_and_compare`: least squares on the uint8 pixels, from the detector's
  estimate (~0.03 px) to within a few hundredths of a pixel;
- :func:`polish`: a pattern search on the exact pixel misfit;
- :func:`settle`: least squares on the renderer's expected pixels, near the middle of
  the starts that render the context (perception 6);
- :func:`centre`: the mean of a random walk over those starts, their middle
  (perception 6).

A body seen alone gets its middle from the exact constraints its pixels put on its
start instead (:mod:`~genlab.generators.video.inscribe`, perception 7).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable

import numpy as np
from scipy.optimize import least_squares

from genlab.worlds.motion.frames import expected_frames, render_frames
from genlab.worlds.motion.physics import simulate
from genlab.worlds.motion.spec import MAX_SPEED, Body, MotionScene

FIXED_VELOCITY = {"resting": (True, True), "falling": (True, True),
                  "bouncing": (False, True), "sliding left": (False, True),
                  "sliding right": (False, True), "drifting left": (False, True),
                  "drifting right": (False, True), "drifting up": (True, False),
                  "drifting down": (True, False)}
"""Per motion word, which components (x, y) of the starting velocity the grammar fixes
at zero (``grammar._velocity``)."""
ON_FLOOR = frozenset({"resting", "sliding left", "sliding right"})
"""The motion words of a body that rests on the floor."""
POLISH_STEPS_PX = (0.004, 0.002, 0.001, 0.0005, 0.00025)
POLISH_SWEEPS = 3  # sweeps over every move per step size, at most
SETTLE_STEP = 1e-7
""":func:`settle`'s finite-difference step (image fractions: ~3e-6 px at 32 px; the
expected pixels are smooth, so it need not cross the renders' 1/255 px steps)."""
CENTRE_CHORDS = 16  # hit-and-run steps per body
CENTRE_REACH_PX = 0.02
"""The longest chord :func:`centre` looks along (pixels; the set of starts that render a
context is ~1e-3 px wide, ``video-twin``'s moves)."""
CENTRE_BISECTIONS = 12  # per chord end: 0.02 px / 2**12 = 5e-6 px
SETTLE_REACH_PX = 0.5
"""How far :func:`settle` may move each unknown (a first- or last-frame position or a
size, pixels): far enough to mend a reading the searches on uint8 pixels left in the
wrong valley (a blob in the context: 0.05 px was too little on ``4s/uniform/s09`` of
scene seed 5), near enough that a body whose pixels hardly move cannot wander off."""


def free_fields(motion: str) -> tuple[str, ...]:
    """The fields of a body with ``motion`` that its prompt leaves to be measured."""
    fixed_x, fixed_y = FIXED_VELOCITY[motion]
    return ("x", *(() if motion in ON_FLOOR else ("y",)), *(() if fixed_x else ("vx",)),
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


def tied_pairs(scene: MotionScene, motions: list[str]) -> list[tuple[int, int]]:
    """The bodies drifting toward each other at exactly one height: the ``collision``
    scenario's pairs (or :func:`snap_colinear`'s), which every refinement keeps on
    their line."""
    return [(i, j) for i, j in facing_pairs(motions)
            if scene.bodies[i].y == scene.bodies[j].y]


def _tie(bodies: list[Body], ties: list[tuple[int, int]], moved: set[int]) -> None:
    """Put each pair of ``ties`` that has a body in ``moved`` back on one line (their
    mean height), in place."""
    for a, b in ties:
        if a in moved or b in moved:
            y = (bodies[a].y + bodies[b].y) / 2
            bodies[a] = dataclasses.replace(bodies[a], y=y)
            bodies[b] = dataclasses.replace(bodies[b], y=y)


def moved(scene: MotionScene, motions: list[str], ties: list[tuple[int, int]], i: int,
          move: dict[str, float], t: float) -> MotionScene:
    """``scene`` with body ``i``'s fields changed by ``t`` times ``move`` (a
    :func:`pattern_moves` move), kept valid (a body on the floor stays on it as its size
    changes), each pair of ``ties`` put back on one line."""
    bodies = list(scene.bodies)
    body = bodies[i]
    bodies[i] = body_with(body, {n: getattr(body, n) + t * move.get(n, 0.0)
                                 for n in free_fields(motions[i])})
    _tie(bodies, ties, {i})
    return dataclasses.replace(scene, bodies=tuple(bodies))


def _residual(scene: MotionScene, context: np.ndarray, fps: int) -> np.ndarray:
    """Pixel differences between ``scene``'s simulated, rendered first frames and
    ``context``, flattened."""
    frames = render_frames(simulate(scene, len(context), fps), context.shape[1])
    return (frames.astype(np.float64) - context).ravel()


def misfit(scene: MotionScene, context: np.ndarray, fps: int) -> float:
    """Sum of squared pixel differences between ``scene``'s first frames and ``context``."""
    return float((_residual(scene, context, fps) ** 2).sum())


def _expected_residual(scene: MotionScene, context: np.ndarray, fps: int) -> np.ndarray:
    """Differences between ``scene``'s expected first frames (the renderer's pixels
    before its 8-bit steps) and ``context``, flattened."""
    frames = expected_frames(simulate(scene, len(context), fps), context.shape[1])
    return (frames - context).ravel()


def unknowns(scene: MotionScene, motions: list[str], span: float
             ) -> tuple[np.ndarray, Callable[[np.ndarray], MotionScene]]:
    """The free fields of every body as one vector (velocities as displacements over
    the context's ``span`` seconds, so every unknown moves pixels on one scale), and the
    scene a vector stands for (ties kept: :func:`tied_pairs`)."""
    fields = [free_fields(m) for m in motions]
    scale = [np.array([span if n in ("vx", "vy") else 1.0 for n in f]) for f in fields]
    ties = tied_pairs(scene, motions)
    start = np.concatenate([np.array([getattr(b, n) for n in f]) * c
                            for b, f, c in zip(scene.bodies, fields, scale, strict=True)])

    def build(theta: np.ndarray) -> MotionScene:
        bodies, i = [], 0
        for b, f, c in zip(scene.bodies, fields, scale, strict=True):
            bodies.append(body_with(b, dict(zip(f, theta[i:i + len(f)] / c, strict=True))))
            i += len(f)
        _tie(bodies, ties, set(range(len(bodies))))
        return MotionScene(scene.background, tuple(bodies), scene.physics)

    return start, build


def render_and_compare(scene: MotionScene, motions: list[str], context: np.ndarray,
                       fps: int, max_renders: int = 400) -> MotionScene:
    """``scene`` refined so that its simulated, rendered first frames match ``context``:
    nonlinear least squares over the pixels of every context frame, the free fields of
    every body as unknowns, from the detector's estimate. The detector's centroids
    err by ~0.03 px (a triangle's by up to 0.15 px); the renders' anti-aliased edges
    place a body ~10x better, which decides whether two bodies on one line meet head
    on."""
    k = len(context)
    if k < 2:
        return scene
    start, build = unknowns(scene, motions, (k - 1) / fps)
    # differences over 0.1 px steps see through the uint8 renders' steps; the tolerances
    # let it follow the long valley where a start and a velocity trade off
    fit = least_squares(lambda theta: _residual(build(theta), context, fps), start,
                        diff_step=3e-3, xtol=1e-12, ftol=1e-12, gtol=1e-12,
                        max_nfev=max_renders)
    best = fit.x if fit.cost <= 0.5 * misfit(build(start), context, fps) else start
    return build(best)


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
    start and velocity trade off), its last-frame position alone, its size; a pair on
    one line (:func:`tied_pairs`) stays on it; it stops when the misfit is 0."""
    k = len(context)
    if k < 2:
        return scene
    span = (k - 1) / fps
    size = context.shape[1]
    ties = tied_pairs(scene, motions)
    best = misfit(scene, context, fps)
    for step_px in POLISH_STEPS_PX:
        d = step_px / size
        for _ in range(POLISH_SWEEPS):
            improved = False
            for i, motion in enumerate(motions):
                for move in pattern_moves(free_fields(motion), d, d / span):
                    for sign in (1.0, -1.0):
                        trial = moved(scene, motions, ties, i, move, sign)
                        cost = misfit(trial, context, fps)
                        if cost < best:
                            scene, best, improved = trial, cost, True
                            break
            if best == 0 or not improved:
                break
        if best == 0:
            break
    return scene


def snap_colinear(scene: MotionScene, motions: list[str], tolerance: float) -> MotionScene:
    """``scene`` with the bodies that drift toward each other along one horizontal line,
    to within ``tolerance`` (image fractions), put on exactly one line (their mean y).

    A prior, not a measurement: in the ``motion`` world's ``train`` split two bodies
    drifting left and right at heights this close nearly always share one line (the
    ``collision`` scenario puts them there; a crowded ``uniform`` scene can hold two by
    chance, which ``perceive`` tells by the pixels), and a head-on collision is
    unstable: the small height offset that render-and-compare leaves tilts its normal,
    the bodies scatter off the line within seconds and out of the (ceilingless) view,
    where the real pair keeps bouncing on its line for ever (``bench/bench_perception.py``
    measures both ways)."""
    bodies = list(scene.bodies)
    ys = np.array([b.y for b in bodies])
    for i, j in facing_pairs(motions):
        if abs(ys[i] - ys[j]) < tolerance:
            y = float((ys[i] + ys[j]) / 2)
            bodies[i] = dataclasses.replace(bodies[i], y=y)
            bodies[j] = dataclasses.replace(bodies[j], y=y)
    return dataclasses.replace(scene, bodies=tuple(bodies))


def settle(scene: MotionScene, motions: list[str], context: np.ndarray, fps: int,
           max_renders: int = 200) -> MotionScene:
    """``scene`` moved to the least-squares fit of the renderer's expected pixels
    (:mod:`genlab.worlds.shapes.soft`) to ``context`` within :data:`SETTLE_REACH_PX`,
    then :func:`polish`-ed on the exact misfit; pairs on one line stay on it; ``scene``
    itself if that matches the context's pixels worse.

    The uint8 context allows a set of starts (every one renders it exactly); the
    searches on the uint8 pixels stop wherever they first enter it, often at its edge,
    and a start at the edge of the set errs by as much as the set is wide. The
    expected pixels are smooth, so their fit converges, and treating each pixel as the
    middle of its 8-bit step puts the fit near the middle of the set (Widrow & Kollár,
    2008, "Quantization Noise"), though not exactly: the steps of one straight edge's
    pixels fall alike, so their errors do not average out. With :func:`centre` after
    it, on 60 ``test`` scenes (``bench/bench_perception.py``, session 25): the 95th
    percentile of velocity errors 10-40% lower than the pattern search's and the misfit
    it leaves lower, the medians about the same; rollouts stay on the truth's path
    longer over a minute, not over ten (``bench/bench_twin.py --stages``)."""
    k = len(context)
    if k < 2:
        return scene
    start, build = unknowns(scene, motions, (k - 1) / fps)
    reach = SETTLE_REACH_PX / context.shape[1]
    fit = least_squares(lambda theta: _expected_residual(build(theta), context, fps), start,
                        bounds=(start - reach, start + reach), diff_step=SETTLE_STEP,
                        xtol=1e-14, ftol=1e-14, gtol=1e-14, max_nfev=max_renders)
    settled = polish(build(fit.x), motions, context, fps)
    return settled if misfit(settled, context, fps) <= misfit(scene, context, fps) else scene


def centre(scene: MotionScene, motions: list[str], context: np.ndarray, fps: int,
           seed: int = 0, skip: frozenset[int] = frozenset()) -> MotionScene:
    """``scene``, when it renders ``context`` exactly, moved to the middle of the starts
    that do: per body (the others held), the mean of :data:`CENTRE_CHORDS` steps of a
    hit-and-run walk over that set (Smith, 1984, "Efficient Monte Carlo procedures for
    generating points uniformly distributed over bounded regions"): from where it is,
    along a random direction of the body's pattern moves, to a uniform point of the
    chord whose ends :data:`CENTRE_BISECTIONS` bisections find. The mean of a uniform
    sample of the set estimates its centroid: under a flat prior on what the context
    allows, the reading with the least expected squared error, where
    a reading at the set's edge (the searches' and ``video-twin``'s) errs by up to its
    width. A move that leaves the set (it need not be convex) is not taken; pairs on one
    line stay on it; the bodies in ``skip`` stay where they are. Deterministic in
    ``seed``."""
    k, size = len(context), context.shape[1]
    if k < 2 or misfit(scene, context, fps) != 0.0:
        return scene
    rng = np.random.default_rng(seed)
    span = (k - 1) / fps
    ties = tied_pairs(scene, motions)

    def exact(trial: MotionScene) -> bool:
        return misfit(trial, context, fps) == 0.0

    for i, motion in enumerate(motions):
        if i in skip:
            continue
        free = free_fields(motion)
        moves = pattern_moves(free, 1.0 / size, 1.0 / (size * span))
        walk, seen = scene, []
        for _ in range(CENTRE_CHORDS):
            u = rng.standard_normal(len(moves))
            u /= np.linalg.norm(u)
            move = {n: sum(w * m.get(n, 0.0) for w, m in zip(u, moves, strict=True))
                    for n in free}
            ends = []
            for sign in (1.0, -1.0):
                lo, hi = 0.0, CENTRE_REACH_PX
                if exact(moved(walk, motions, ties, i, move, sign * hi)):
                    lo = hi
                for _ in range(CENTRE_BISECTIONS if lo < hi else 0):
                    mid = (lo + hi) / 2
                    lo, hi = (mid, hi) if exact(moved(walk, motions, ties, i, move,
                                                      sign * mid)) else (lo, mid)
                ends.append(sign * lo)
            walk = moved(walk, motions, ties, i, move, float(rng.uniform(ends[1], ends[0])))
            seen.append(walk.bodies[i])
        bodies = list(scene.bodies)
        bodies[i] = body_with(bodies[i], {n: float(np.mean([getattr(b, n) for b in seen]))
                                          for n in free})
        _tie(bodies, ties, {i})
        trial = dataclasses.replace(scene, bodies=tuple(bodies))
        if exact(trial):
            scene = trial
    return scene
