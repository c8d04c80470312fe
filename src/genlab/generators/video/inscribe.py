"""The middle of the exact pixel constraints of bodies seen alone (perception 7).

A pixel that one body alone covers is one row of the renderer's look-up table
(:func:`genlab.worlds.shapes.render.coverage_pixels`): its value gives the 8-bit
coverage up to a run of values that render alike, and the coverage gives the body's
signed distance from the pixel's centre to within 1/255 px (the renderer stores
``floor(128 - 255 * sdf)``, clipped). So every context frame in which a body is alone
says, pixel by pixel, ``lo < sdf(pixel; start) <= hi``: together, exactly the starts
that render those pixels, a thin polytope (a few thousandths of a pixel across in each
first- and last-frame position) that the searches on the uint8 misfit enter at its
edge, or not at all (a pattern search stalls at a misfit of 1-6 levels on some lone
drifting bodies, session 25).

:func:`inscribe` first finds the start of greatest depth, the largest ``s`` with
``lo + s <= sdf <= hi - s`` at every such pixel: the Chebyshev centre of the
constraints (Boyd & Vandenberghe, 2004, "Convex Optimization", §8.5.1), by linear
programs on the constraints linearised at the reading, re-linearised a few times
(sequential linear programming; a square's and a triangle's distance is piecewise
linear in the start, a circle's smooth); outside the set the same programs find the
start that violates the constraints least. From inside, a hit-and-run walk (Smith,
1984) over the linearised set gives its centroid: the truth lies in the set like a
uniform point of it, so the centroid is the reading of least expected squared error.
Over 24 ten-minute rollouts of eight scene sets it keeps a rollout on the truth's path
for 0.287 of its length against 0.242 for perception 6 (``bench/bench_twin.py
--stages``; docs/results.md, session 26).

:func:`members` draws starts from the same sets (a longer walk, rounded, each draw
checked against the exact constraints): what a reader who knows the set but not the
truth would read, the yardstick of ``bench/bench_members.py`` (session 27).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from genlab.errors import InputError
from genlab.generators.video.refine import free_fields, misfit, tied_pairs, unknowns
from genlab.worlds.motion.physics import simulate
from genlab.worlds.motion.spec import MotionScene
from genlab.worlds.shapes.render import coverage_pixels
from genlab.worlds.shapes.soft import signed_distance

BAND_PX = 1.5
"""Pixels whose signed distance at the reading lies within this of the edge give
constraints (those farther in or out stay full or empty for any move :data:`REACH_PX`
allows)."""
REACH_PX = 0.05
"""How far one linear program may move each unknown (pixels; a first- or last-frame
position, or a size)."""
ROUNDS = 4  # linear programs per body (each re-linearised at the last one's start)
FD_STEP = 1e-7  # image fractions (~3e-6 px at 32 px): the distances are piecewise linear
CENTROID_BURN, CENTROID_STEPS = 200, 2000  # hit-and-run steps over the linearised set
MEMBER_THIN = 50  # hit-and-run steps between two members drawn (members())
MEMBER_TRIES = 20  # members() walks at most this many times n * thin steps per body
CLEAR_PX = 0.5 + 1e-3
"""A pixel is clear of a body whose signed distance there is at least this (its coverage,
``clip(0.5 - sdf)``, is 0; the slack covers the renderer's float32 distances)."""


@dataclass(frozen=True, eq=False)  # arrays: compared by identity
class Constraints:
    """The pixel constraints on body ``j`` from the context frames it is alone in: per
    pixel its frame, its centre (pixels, ``(n, 2)``) and the bounds ``lo < sdf <= hi``
    of its signed distance from the body (``-inf``/``inf`` where the coverage is full
    or empty); ``size`` is the frames' side and ``shape`` the body's."""

    j: int
    size: int
    shape: str
    frames: np.ndarray
    centres: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def read(cls, scene: MotionScene, j: int, context: np.ndarray, fps: int) -> Constraints:
        """Body ``j``'s constraints from ``context``, the frames and pixels chosen at the
        reading ``scene``: the pixels within :data:`BAND_PX` of its edge, in each frame
        where no other body's coverage reaches them and every one is a value this body
        alone renders."""
        size = context.shape[1]
        body = scene.bodies[j]
        pos = simulate(scene, len(context), fps).pos * size
        values = coverage_pixels(body.colour, scene.background)
        frames, centres, lo, hi = [], [], [], []
        grid = np.arange(size) + 0.5
        for f in range(len(context)):
            d = signed_distance(body.shape, grid[None, :] - pos[f, j, 0],
                                grid[:, None] - pos[f, j, 1], body.size * size / 2)
            ys, xs = np.nonzero(np.abs(d) <= BAND_PX)
            if not len(xs) or not all(  # another body's coverage reaches the band
                    signed_distance(o.shape, xs + 0.5 - pos[f, m, 0], ys + 0.5 - pos[f, m, 1],
                                    o.size * size / 2).min() >= CLEAR_PX
                    for m, o in enumerate(scene.bodies) if m != j):
                continue
            seen = context[f, ys, xs]  # (pixels, 3)
            match = (values[None, :, :] == seen[:, None, :]).all(axis=-1)
            if not match.any(axis=1).all():  # a pixel this body alone cannot render
                continue
            a_lo = match.argmax(axis=1)
            a_hi = 255 - match[:, ::-1].argmax(axis=1)
            # coverage a <=> a <= 128 - 255 sdf < a + 1 (clipped at 0 and 255)
            hi.append(np.where(a_lo > 0, (128.0 - a_lo) / 255, np.inf))
            lo.append(np.where(a_hi < 255, (127.0 - a_hi) / 255, -np.inf))
            frames.append(np.full(len(xs), f))
            centres.append(np.stack([xs, ys], axis=1) + 0.5)
        if not frames:
            return cls(j, size, body.shape, np.zeros(0, int), np.zeros((0, 2)), np.zeros(0),
                       np.zeros(0))
        return cls(j, size, body.shape, np.concatenate(frames), np.concatenate(centres),
                   np.concatenate(lo), np.concatenate(hi))

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def seen_in(self) -> int:
        """How many context frames the constraints come from."""
        return len(np.unique(self.frames))

    def distances(self, scene: MotionScene, pos: np.ndarray) -> np.ndarray:
        """The constrained pixels' signed distances from body ``j`` of ``scene``, whose
        simulated positions (image fractions, ``(frames, bodies, 2)``) are ``pos``."""
        at = pos[self.frames, self.j] * self.size
        return signed_distance(self.shape, self.centres[:, 0] - at[:, 0],
                               self.centres[:, 1] - at[:, 1],
                               scene.bodies[self.j].size * self.size / 2)

    def depth(self, sdf: np.ndarray) -> float:
        """How deep inside its bounds the least-inside pixel lies (pixels; < 0 outside)."""
        return _depth(sdf, self.lo, self.hi)


def _depth(sdf: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """How deep inside ``lo < sdf <= hi`` the least-inside pixel lies (< 0 outside)."""
    return float(np.minimum(sdf - lo, hi - sdf).min())


def _groups(scene: MotionScene, motions: list[str]) -> list[list[int]]:
    """The bodies that move together: each pair on one line, every other body alone."""
    ties = tied_pairs(scene, motions)
    paired = {i for t in ties for i in t}
    return [list(t) for t in ties] + [[i] for i in range(len(motions)) if i not in paired]


def inscribe(scene: MotionScene, motions: list[str], context: np.ndarray, fps: int,
             seed: int = 0) -> tuple[MotionScene, frozenset[int]]:
    """``scene`` with each body (a pair on one line together, the others held) that is
    alone in at least two context frames moved to the centroid of the starts those
    frames' pixels allow (the module's docstring): from the deepest start the linear
    programs find, the mean of a hit-and-run walk (Smith, 1984) over the constraints
    linearised there; if that start renders the whole context worse than the reading,
    the deepest start (outside the set: the start that violates it least); if that
    too, the reading. Also the bodies moved to a centroid of constraints from every
    context frame (alone in all of them): :func:`~genlab.generators.video.refine.centre`
    need not walk them. Deterministic in ``seed``."""
    k, size = len(context), context.shape[1]
    if k < 2:
        return scene, frozenset()
    rng = np.random.default_rng(seed)
    theta, build = unknowns(scene, motions, (k - 1) / fps)
    cuts = np.cumsum([0, *(len(free_fields(m)) for m in motions)])
    reach = REACH_PX / size
    cost = misfit(scene, context, fps)
    inside: set[int] = set()
    for group in _groups(scene, motions):
        found = _group_set(group, build(theta), context, fps, theta, build, cuts, reach)
        if found is None:
            continue
        constraints, idx, deep, depth = found
        trials = [deep]
        if depth > 0:
            middle = deep.copy()
            middle[idx] += _centroid(*_polytope(deep, idx, build, constraints, fps), reach, rng)
            trials.insert(0, middle)
        for n, trial in enumerate(trials):
            trial_cost = misfit(build(trial), context, fps)
            if trial_cost <= cost:
                theta, cost = trial, trial_cost
                if n == 0 and depth > 0:  # the centroid, of constraints in every frame
                    inside.update(c.j for c in constraints if c.seen_in == k)
                break
    return build(theta), frozenset(inside)


def members(scene: MotionScene, motions: list[str], context: np.ndarray, fps: int, n: int,
            seed: int = 0, thin: int = MEMBER_THIN) -> tuple[list[MotionScene], frozenset[int]]:
    """``n`` starts drawn about uniformly from the set of starts whose pixels render the
    context, near the reading ``scene`` (perception's). Each body alone in at least two
    context frames (a pair on one line together) takes every ``thin``-th point of a
    hit-and-run walk over its constraints linearised at their deepest point, each kept
    only if it meets the exact constraints; the walk's directions are shaped by the
    covariance of a first walk (rounding, Lovász & Vempala, 2006: the sets are far
    longer in velocity than in position, and an isotropic walk crosses them slowly). A
    body whose walk keeps fewer than ``n`` points in ``n * MEMBER_TRIES`` keeps the
    reading in every member, as do the other bodies. Also the bodies drawn.

    Where the truth lies in the set like a uniform point of it (the module's docstring),
    a member is what a reader who knows the set but not the truth would read:
    ``bench/bench_members.py`` compares their paths with the truth's. Deterministic in
    ``seed``."""
    k, size = len(context), context.shape[1]
    if n < 1 or thin < 1:
        raise InputError(f"members needs n >= 1 and thin >= 1, got n={n}, thin={thin}")
    if k < 2:  # one frame pins no velocity: nothing to draw
        return [scene] * n, frozenset()
    rng = np.random.default_rng(seed)
    theta, build = unknowns(scene, motions, (k - 1) / fps)
    cuts = np.cumsum([0, *(len(free_fields(m)) for m in motions)])
    reach = REACH_PX / size
    draws = np.repeat(theta[None], n, axis=0)
    drawn: set[int] = set()
    for group in _groups(scene, motions):
        found = _group_set(group, scene, context, fps, theta, build, cuts, reach)
        if found is None:
            continue
        constraints, idx, deep, depth = found
        if depth <= 0:  # no start inside the linearised set
            continue
        a, b = _polytope(deep, idx, build, constraints, fps)
        lo, hi = _bounds(constraints)
        pilot = np.array(list(itertools.islice(_walk(a, b, reach, rng), CENTROID_BURN,
                                               CENTROID_BURN + CENTROID_STEPS)))
        shape = np.linalg.cholesky(np.cov(pilot.T) + 1e-12 * reach ** 2 * np.eye(len(idx)))
        kept = []
        for d in itertools.islice(_walk(a, b, reach, rng, shape), thin - 1,
                                  n * MEMBER_TRIES * thin, thin):
            trial = deep.copy()
            trial[idx] += d
            if _depth(_distances(trial, build, constraints, fps), lo, hi) > 0:
                kept.append(trial[idx])
                if len(kept) == n:
                    break
        if len(kept) == n:
            draws[:, idx] = kept
            drawn.update(c.j for c in constraints)
    return [build(t) for t in draws], frozenset(drawn)


def _group_set(group: list[int], reading: MotionScene, context: np.ndarray, fps: int,
               theta: np.ndarray, build: Callable[[np.ndarray], MotionScene],
               cuts: np.ndarray, reach: float
               ) -> tuple[list[Constraints], np.ndarray, np.ndarray, float] | None:
    """The constraints on ``group``'s bodies from the context frames each is alone in
    (at least two, read at ``reading``), the entries of ``theta`` they bind, the deepest
    start :func:`_deepest` finds and its depth; None where no body of the group has any."""
    constraints = [c for c in (Constraints.read(reading, j, context, fps) for j in group)
                   if c.seen_in >= 2]
    if not constraints:
        return None
    idx = np.concatenate([np.arange(cuts[j], cuts[j + 1]) for j in group])
    deep, depth = _deepest(theta, idx, build, constraints, fps, reach)
    return constraints, idx, deep, depth


def _distances(theta: np.ndarray, build: Callable[[np.ndarray], MotionScene],
               constraints: list[Constraints], fps: int) -> np.ndarray:
    """Every constrained pixel's signed distance from its body in the scene ``theta``
    (simulated once for every body's constraints)."""
    scene = build(theta)
    pos = simulate(scene, max(int(c.frames.max()) for c in constraints) + 1, fps).pos
    return np.concatenate([c.distances(scene, pos) for c in constraints])


def _linearised(theta: np.ndarray, idx: np.ndarray, build: Callable[[np.ndarray], MotionScene],
                constraints: list[Constraints], fps: int) -> tuple[np.ndarray, np.ndarray]:
    """The constrained pixels' signed distances at ``theta`` and their Jacobian in the
    entries ``idx`` (forward differences)."""
    sdf = _distances(theta, build, constraints, fps)
    jac = np.empty((len(sdf), len(idx)))
    for col, i in enumerate(idx):
        step = theta.copy()
        step[i] += FD_STEP
        jac[:, col] = (_distances(step, build, constraints, fps) - sdf) / FD_STEP
    return sdf, jac


def _deepest(theta: np.ndarray, idx: np.ndarray, build: Callable[[np.ndarray], MotionScene],
             constraints: list[Constraints], fps: int, reach: float
             ) -> tuple[np.ndarray, float]:
    """``theta`` with its entries ``idx`` moved to the deepest point of ``constraints``
    that :data:`ROUNDS` linear programs find, and its depth (pixels)."""
    lo, hi = _bounds(constraints)
    best, best_depth = theta, -np.inf
    for _ in range(ROUNDS):
        sdf, jac = _linearised(theta, idx, build, constraints, fps)
        depth = _depth(sdf, lo, hi)
        if depth > best_depth:
            best, best_depth = theta, depth
        # maximise s: lo + s <= sdf + J d <= hi - s, |d| <= reach
        a, b = _halfspaces(sdf, jac, lo, hi)
        fit = linprog(np.r_[np.zeros(len(idx)), -1.0],
                      A_ub=np.hstack([a, np.ones((len(a), 1))]), b_ub=b,
                      bounds=[(-reach, reach)] * len(idx) + [(None, None)], method="highs")
        if fit.status != 0:
            break
        theta = theta.copy()
        theta[idx] += fit.x[:-1]
    depth = _depth(_distances(theta, build, constraints, fps), lo, hi)
    return (theta, depth) if depth > best_depth else (best, best_depth)


def _bounds(constraints: list[Constraints]) -> tuple[np.ndarray, np.ndarray]:
    """Every constrained pixel's bounds on its signed distance, ``lo`` and ``hi``."""
    return (np.concatenate([c.lo for c in constraints]),
            np.concatenate([c.hi for c in constraints]))


def _polytope(theta: np.ndarray, idx: np.ndarray, build: Callable[[np.ndarray], MotionScene],
              constraints: list[Constraints], fps: int) -> tuple[np.ndarray, np.ndarray]:
    """``constraints`` linearised at ``theta`` in its entries ``idx``, as ``a d <= b``
    (the moves ``d`` of those entries that keep every pixel inside its bounds)."""
    return _halfspaces(*_linearised(theta, idx, build, constraints, fps), *_bounds(constraints))


def _halfspaces(sdf: np.ndarray, jac: np.ndarray, lo: np.ndarray, hi: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """``lo <= sdf + jac d <= hi`` as ``a d <= b`` (the infinite bounds left out)."""
    below, above = np.isfinite(lo), np.isfinite(hi)
    return (np.vstack([-jac[below], jac[above]]),
            np.concatenate([(sdf - lo)[below], (hi - sdf)[above]]))


def _walk(a: np.ndarray, b: np.ndarray, reach: float, rng: np.random.Generator,
          shape: np.ndarray | None = None) -> Iterator[np.ndarray]:
    """The points of a hit-and-run walk (Smith, 1984) over ``{d: a d <= b, |d| <= reach}``
    from ``d = 0`` (inside), one per step, without end; it tends to the uniform
    distribution over the polytope. Its directions are isotropic, or ``shape @ u`` for
    an isotropic ``u`` (any centrally symmetric law of directions keeps the uniform
    distribution: the walk in the coordinates ``shape^-1 d``)."""
    n = a.shape[1]
    a = np.vstack([a, np.eye(n), -np.eye(n)])
    b = np.concatenate([b, np.full(2 * n, reach)])
    d = np.zeros(n)
    while True:
        u = np.asarray(rng.standard_normal(n))
        if shape is not None:
            u = shape @ u
        au, slack = a @ u, b - a @ d
        with np.errstate(divide="ignore"):
            ends = slack / au
        t_hi = max(ends[au > 0].min(initial=np.inf), 0.0)  # the box bounds every chord
        t_lo = min(ends[au < 0].max(initial=-np.inf), 0.0)
        d = d + rng.uniform(t_lo, t_hi) * u
        yield d


def _centroid(a: np.ndarray, b: np.ndarray, reach: float, rng: np.random.Generator
              ) -> np.ndarray:
    """The mean of a hit-and-run walk over ``{d: a d <= b, |d| <= reach}`` from ``d = 0``
    (inside): the polytope's centroid, the reading of least expected squared error under
    a flat prior on the starts the pixels allow."""
    steps = itertools.islice(_walk(a, b, reach, rng), CENTROID_BURN + CENTROID_STEPS)
    total = np.zeros(a.shape[1])
    for step, d in enumerate(steps):
        if step >= CENTROID_BURN:
            total += d
    return total / CENTROID_STEPS
