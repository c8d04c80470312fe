"""Vectorised placement of non-overlapping square boxes for ``shapes`` scenes.

Random sequential adsorption (Widom, 1966; Feder, 1980): objects are placed
one after another, each uniformly among the positions the earlier ones leave
free, and a scene that jams is restarted. The rejection step is vectorised:
every object of every scene in a batch proposes ``K`` candidate positions at
once (more when few scenes are left) and takes the first one that keeps the
guarantees,

* a Chebyshev gap of at least :data:`MARGIN` between any two boxes,
* at least :data:`BORDER` between a box and the image edge,
* sizes drawn from :func:`size_range` of the scene's object count,
* for a position relation, a centre offset of at least :data:`REL_GAP` along
  the relation's axis.

Taking the first valid candidate of ``K`` i.i.d. proposals is exactly
rejection sampling of one position, so each object is uniform over its free
region; only the loop over objects stays in Python (at most ``MAX_COUNT``
steps per batch, not per scene).
"""

from __future__ import annotations

import numpy as np

from genlab.errors import SpecError
from genlab.worlds.shapes import vocab
from genlab.worlds.shapes.spec import Box

# Geometry, as image fractions. At 32 px the smallest object is 5.4 px and
# the smallest gap 2.2 px: enough for the judge to separate and name them.
MARGIN = 0.07          # minimum Chebyshev gap between two objects' boxes
BORDER = 0.03          # minimum gap between a box and the image edge
MIN_SIZE = 0.17
REL_GAP = 0.15         # minimum centre offset along a position relation's axis

# relation name -> (axis: 0 = x, 1 = y; sign): groups[0] is `relation` of groups[1]
# when sign * (centre[1] - centre[0]) along the axis is at least REL_GAP.
RELATION_AXES: dict[str, tuple[int, float]] = {
    "left": (0, 1.0), "right": (0, -1.0), "above": (1, 1.0), "below": (1, -1.0),
}
RELATION_CODES: dict[str, int] = {r: i for i, r in enumerate(vocab.RELATIONS)}
NO_RELATION = -1

# Proposals per object and try (K): about CANDIDATE_BUDGET (candidate, obstacle)
# pairs per step, within [MIN_CANDIDATES, MAX_CANDIDATES]. So K grows for the few
# scenes still placing their late objects, where free space is scarce and a
# small K fails before the scene is truly jammed.
MIN_CANDIDATES = 16
MAX_CANDIDATES = 256
CANDIDATE_BUDGET = 2**13
MAX_TRIES = 200        # restarts of a jammed scene before giving up


def size_range(n: int) -> tuple[float, float]:
    """(min, max) side of each box in a scene of ``n`` objects."""
    if n <= 1:
        return (0.24, 0.42)
    if n <= 3:
        return (0.2, 0.3)
    if n <= 5:
        return (0.18, 0.24)
    return (MIN_SIZE, 0.2)


_SIZE_LO = np.array([size_range(n)[0] for n in range(vocab.MAX_COUNT + 1)])
_SIZE_HI = np.array([size_range(n)[1] for n in range(vocab.MAX_COUNT + 1)])
_REL_AXIS = np.array([RELATION_AXES[r][0] for r in vocab.RELATIONS])
_REL_SIGN = np.array([RELATION_AXES[r][1] for r in vocab.RELATIONS])


def _draw_sizes(rng: np.random.Generator, counts: np.ndarray, relation: np.ndarray,
                m: int) -> np.ndarray:
    """(b, m) i.i.d. sides; largest first (packs better; callers shuffle objects over
    boxes), except in relation scenes, whose box order is their objects' order."""
    if counts.max(initial=0) > vocab.MAX_COUNT:
        raise SpecError(f"cannot place {int(counts.max())} objects; at most {vocab.MAX_COUNT}")
    lo, hi = _SIZE_LO[counts], _SIZE_HI[counts]
    sizes = lo[:, None] + (hi - lo)[:, None] * rng.random((len(counts), m))
    sizes = np.where(np.arange(m) < counts[:, None], sizes, 0.0)  # padding sorts last
    free = relation == NO_RELATION
    sizes[free] = -np.sort(-sizes[free], axis=1)
    return sizes


def _try_place(rng: np.random.Generator, counts: np.ndarray, relation: np.ndarray,
               sizes: np.ndarray, fixed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One attempt for every scene: (x0, y0) of shape (b, m) and a (b,) success mask.

    ``fixed`` is (b, f, 4) obstacles (x0, y0, x1, y1) that new boxes must also clear.
    """
    b, m = sizes.shape
    f = fixed.shape[1]
    # obstacles: (b, f + m) columns of x0, y0, x1, y1; new boxes are appended as placed
    obs = np.zeros((4, b, f + m))
    obs[:, :, :f] = fixed.transpose(2, 0, 1)
    alive = np.ones(b, bool)
    for i in range(m):
        act = np.flatnonzero(alive & (counts > i))
        if act.size == 0:
            break
        s = sizes[act, i][:, None]                                  # (a, 1)
        span = 1.0 - 2 * BORDER - s
        k = f + i  # obstacles so far
        k_cand = 1 if k == 0 else min(MAX_CANDIDATES,
                                      max(MIN_CANDIDATES, CANDIDATE_BUDGET // (act.size * k)))
        cx0 = BORDER + span * rng.random((act.size, k_cand))        # (a, K)
        cy0 = BORDER + span * rng.random((act.size, k_cand))
        valid = np.ones(cx0.shape, bool)
        if k:
            ox0, oy0, ox1, oy1 = (o[act, None, :k] for o in obs)      # (a, 1, k)
            gx = np.maximum(cx0[..., None] - ox1, ox0 - (cx0 + s)[..., None])
            gy = np.maximum(cy0[..., None] - oy1, oy0 - (cy0 + s)[..., None])
            valid = (np.maximum(gx, gy) >= MARGIN).all(axis=2)
        if i == 1:
            valid &= _relation_ok(relation[act], obs[:, act, f], cx0 + s / 2, cy0 + s / 2)
        first = valid.argmax(axis=1)
        rows = np.arange(act.size)
        found = valid[rows, first]
        x0, y0 = cx0[rows, first], cy0[rows, first]
        obs[:, act, k] = x0, y0, x0 + s[:, 0], y0 + s[:, 0]
        alive[act[~found]] = False
    return obs[0, :, f:], obs[1, :, f:], alive


def _relation_ok(rel: np.ndarray, first: np.ndarray, cx: np.ndarray,
                 cy: np.ndarray) -> np.ndarray:
    """(a, K) mask: candidate centres (cx, cy) satisfy each scene's relation to box 0."""
    ok = np.ones(cx.shape, bool)
    has = rel != NO_RELATION
    if not has.any():
        return ok
    r = rel[has]
    ax = (first[0, has] + first[2, has]) / 2
    ay = (first[1, has] + first[3, has]) / 2
    off = np.where(_REL_AXIS[r][:, None] == 0, cx[has] - ax[:, None], cy[has] - ay[:, None])
    ok[has] = _REL_SIGN[r][:, None] * off >= REL_GAP
    return ok


def place_batch(rng: np.random.Generator, counts: np.ndarray,
                relation: np.ndarray | None = None, sizes: np.ndarray | None = None,
                fixed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes for a batch of scenes -> ``(x0, y0, side)``, each ``(b, max(counts))`` float64.

    Drawn sizes are placed largest first (it packs better) and the boxes of a
    scene are then returned in random order, so which object gets which box is
    exchangeable; given ``sizes`` keep their order, and so do relation pairs.

    Args:
        counts: ``(b,)`` objects per scene (entries past a scene's count are 0).
        relation: ``(b,)`` codes of :data:`RELATION_CODES` (``NO_RELATION`` for none);
            box 0 must be that relation of box 1.
        sizes: ``(b, m)`` sides to use instead of drawing them from :func:`size_range`.
        fixed: ``(b, f, 4)`` boxes ``(x0, y0, x1, y1)`` already in the scene.
    """
    counts = np.asarray(counts, np.int64)
    b = len(counts)
    m = int(counts.max(initial=0))
    rel = np.full(b, NO_RELATION) if relation is None else np.asarray(relation)
    obstacles = np.zeros((b, 0, 4)) if fixed is None else np.asarray(fixed, np.float64)
    x0, y0, side = np.zeros((b, m)), np.zeros((b, m)), np.zeros((b, m))
    todo = np.arange(b)
    for _ in range(MAX_TRIES):
        if todo.size == 0 or m == 0:
            break
        if sizes is None:
            s = _draw_sizes(rng, counts[todo], rel[todo], m)
        else:
            s = np.asarray(sizes, np.float64)[todo]
        tx, ty, ok = _try_place(rng, counts[todo], rel[todo], s, obstacles[todo])
        done = todo[ok]
        x0[done], y0[done], side[done] = tx[ok], ty[ok], s[ok]
        todo = todo[~ok]
    else:
        if todo.size and m:
            raise SpecError(f"cannot place {int(counts[todo[0]])} objects without overlap "
                            f"(gap {MARGIN}, border {BORDER}) after {MAX_TRIES} tries")
    pad = np.arange(m)[None, :] >= counts[:, None]
    keys = rng.random((b, m)) + pad  # shuffle each scene's boxes; padding sorts last
    if sizes is not None:
        keys[:] = np.arange(m)
    keys[rel != NO_RELATION] = np.arange(m)
    perm, rows = np.argsort(keys, axis=1), np.arange(b)[:, None]
    keep = ~pad
    return x0[rows, perm] * keep, y0[rows, perm] * keep, side[rows, perm] * keep


def place_boxes(rng: np.random.Generator, n: int, sizes: list[float] | None = None,
                fixed: list[Box] | None = None) -> list[Box]:
    """``n`` square boxes with at least MARGIN between any two (and any ``fixed`` box)
    and BORDER to the edge."""
    fx = None if not fixed else np.array([[[b.x0, b.y0, b.x1, b.y1] for b in fixed]])
    sz = None if sizes is None else np.array([sizes[:n]], np.float64)
    x0, y0, side = place_batch(rng, np.array([n]), sizes=sz, fixed=fx)
    return [Box(float(x), float(y), float(x + s), float(y + s))
            for x, y, s in zip(x0[0], y0[0], side[0], strict=True)]
