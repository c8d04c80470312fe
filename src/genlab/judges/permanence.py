"""Object permanence read from a video's own pixels: no body is lost, made or changed
except through an open side of the view (judge ``tracking`` 1.3, series
``permanence_ok``).

The ``tracking`` judge's ``count_ok`` compares every frame with the simulator's: a
video whose bodies have drifted a few pixels off their true paths fails it whenever
one of them is out through the open top while the truth's is in view (or the other
way round), although nothing was lost. That is consistency *with the truth*, and over
minutes of chaotic collisions no generator shown a few frames can keep it (results,
"Session 16"). This series asks the question a viewer asks of the video alone, the
object permanence of developmental psychology (Baillargeon, Spelke & Wasserman, 1985)
and of the physical-video benchmarks (IntPhys, Riochet et al., 2018: objects do not
vanish, appear from nothing or change their look): is every body of the scene, at
every frame, either in view or gone out through a side of the view that is open?

Which sides are open is the prompt's physics, not the truth's path: the top always
(the ``motion`` world has no ceiling), the left and right without walls, the bottom
without a floor. A body reflected by a wall or the floor stays wholly in view, so it
is never clipped there, and leaving through a closed side is a violation.

Per colour, objects are matched from one judged frame to the next (Hungarian matching
on centres, Kuhn, 1955, within the farthest a body of that colour can move in the
time between them: its speed is bounded by the scene's energy, which elastic walls,
floor and collisions conserve). The accounting, per colour ``c`` with ``N_c`` bodies
in the scene:

- an object of the last frame with no match has *left*: through an open side if it
  was within that reach of one (``out_c`` += 1, or ``extra_c`` -= 1 if the colour had
  one too many); else it vanished in view, which fails the frame, and it is *lost*
  (``lost_c`` += 1; or an extra one is gone, ``extra_c`` -= 1);
- an object with no match in the last frame has *come*: through an open side if it is
  within reach of one and a body of its colour is out (``out_c`` -= 1); else it
  appeared in view, which fails the frame, and it is a lost body back (``lost_c``
  -= 1), or one that was out (``out_c`` -= 1), or one too many (``extra_c`` += 1);
- under gravity, with walls, a body out through the top must fall back: thrown up at
  most at the colour's bound ``v``, it is back within ``2 v / g`` seconds, and one
  still out after that is lost (the frame fails);
- a frame passes when nothing failed in it, no body is lost or extra, and no kind
  (colour x shape) shows more whole objects than the scene has. So a body that
  vanishes fails every frame until it is back, and one that pops into view fails
  the frame it pops in.

The first judged frame sets the state: bodies of a colour not in view are out.
Objects cut by an open side are counted by colour only (a clipped shape is no shape),
and one of unknown colour there is ignored (a sliver; if it was a body, it left and
comes back through that side). A frame with a blob the parting left unparted away
from an open side is not judged (nan): how many bodies it holds is not in its pixels.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from genlab.judges.detect import BLOB, UNKNOWN, DetectedObject, Detections
from genlab.judges.matching import match
from genlab.worlds.motion.spec import MotionScene

SLACK_PX = 2.0  # added to every reach: a clipped object's centre is its visible part's


@dataclass(frozen=True)
class _Seen:
    colour: str
    kind: tuple[str, str] | None  # None when cut by an open side
    centre: np.ndarray            # (2,) image fractions
    margin: float                 # distance (image fractions) to the nearest open side
    top: bool                     # whether that side is the top


def speed_bound(scene: MotionScene) -> dict[str, float]:
    """Per colour, the fastest (image fractions per second) any body of it can move:
    all of the scene's energy (kinetic plus gravitational, masses ~ size squared, height
    from half a view below the floor so that every body in view has met it) in that
    body. Walls, floor and collisions are elastic (:mod:`genlab.worlds.motion.physics`)."""
    g = scene.physics.gravity
    mass = np.array([b.size ** 2 for b in scene.bodies])
    energy = sum(0.5 * m * (b.vx ** 2 + b.vy ** 2) + m * g * (1.5 - b.y)
                 for m, b in zip(mass, scene.bodies, strict=True))
    out: dict[str, float] = {}
    for m, b in zip(mass, scene.bodies, strict=True):
        out[b.colour] = max(out.get(b.colour, 0.0), float(np.sqrt(2 * max(energy, 0.0) / m)))
    return out


def _open_side(o: DetectedObject, scene: MotionScene) -> tuple[float, bool]:
    """The distance from ``o``'s box to the nearest open side of the view, and whether
    that side is the top."""
    b = o.box
    sides = [(b.y0, True)]                            # the top is always open
    if not scene.physics.walls:
        sides += [(b.x0, False), (1.0 - b.x1, False)]
    if not scene.physics.floor:
        sides.append((1.0 - b.y1, False))
    margin, top = min(sides)
    return max(0.0, margin), top


def _look(det: Detections, scene: MotionScene, size: int) -> list[_Seen] | None:
    """The frame's objects, or None when it holds a blob it cannot count."""
    seen = []
    for o in det.objects:
        margin, top = _open_side(o, scene)
        cut = margin < 1.0 / size
        if o.colour == UNKNOWN or o.shape == BLOB:
            if not cut:
                return None
            if o.colour == UNKNOWN:
                continue
        seen.append(_Seen(o.colour, None if cut else (o.colour, o.shape),
                          np.array([o.cx, o.cy]), margin, top))
    return seen


class _Ledger:
    """One colour's bodies that are out of view (each with the frame it must be back
    by; inf: never due), lost in view, or one too many."""

    def __init__(self, total: int, in_view: int) -> None:
        # the first judged frame: what is not seen is out, with no known due frame
        self.out = [math.inf] * max(0, total - in_view)
        self.lost = 0
        self.extra = max(0, in_view - total)

    def left(self, through_side: bool, due: float) -> bool:
        """An object is gone; False if it vanished in view."""
        if self.extra:
            self.extra -= 1
        elif through_side:
            self.out.append(due)
        else:
            self.lost += 1
        return through_side

    def came(self, through_side: bool) -> bool:
        """An object is new; False if it appeared in view. A body coming back is taken
        to be the one due soonest (the reading that leaves fewest overdue)."""
        if through_side and self.out:
            self.out.remove(min(self.out))
            return True
        if self.lost:
            self.lost -= 1
        elif self.out:
            self.out.remove(min(self.out))
        else:
            self.extra += 1
        return False

    def overdue(self, t: int) -> bool:
        """Bodies out past their due frame are lost; True if any became so now."""
        late = [d for d in self.out if d < t]
        for d in late:
            self.out.remove(d)
        self.lost += len(late)
        return bool(late)

    @property
    def broken(self) -> bool:
        return bool(self.lost or self.extra)


def permanence(detections: Sequence[Detections], scene: MotionScene, size: int,
               fps: int) -> np.ndarray:
    """``(frames,)`` 1 / 0 / nan: whether each frame keeps object permanence (see the
    module docstring). ``detections`` are the frames' parses with blobs parted
    (:func:`genlab.judges.tracking.parse`)."""
    total = Counter(b.colour for b in scene.bodies)
    kinds = Counter((b.colour, b.shape) for b in scene.bodies)
    speed = speed_bound(scene)
    g = scene.physics.gravity
    falls_back = g > 0 and scene.physics.walls  # what goes up through the top comes down
    out = np.full(len(detections), np.nan)
    ledgers: dict[str, _Ledger] = {}
    last: list[_Seen] = []
    last_t = -1
    for t, det in enumerate(detections):
        seen = _look(det, scene, size)
        if seen is None:
            continue
        ok = True
        for c in set(total) | {s.colour for s in seen} | set(ledgers):
            now = [s for s in seen if s.colour == c]
            if c not in ledgers:
                # the first judged frame, or a colour the scene does not have
                ledgers[c] = _Ledger(total[c], len(now) if last_t < 0 else 0)
                if last_t < 0:
                    continue
            v = speed.get(c, 0.0)
            reach = v * (t - last_t) / fps + SLACK_PX / size
            # thrown up at most at v, a body is back within 2 v / g seconds
            flight = 2 * v / g * fps if falls_back else math.inf
            left, came = _unmatched([s for s in last if s.colour == c], now, reach)
            for s in left:
                ok &= ledgers[c].left(s.margin <= reach,
                                      t + flight + 1 if s.top else math.inf)
            for s in came:
                ok &= ledgers[c].came(s.margin <= reach)
            ok &= not ledgers[c].overdue(t)
        whole = Counter(s.kind for s in seen if s.kind is not None)
        ok &= all(n <= kinds[k] for k, n in whole.items())
        ok &= not any(ledger.broken for ledger in ledgers.values())
        out[t] = float(ok)
        last, last_t = seen, t
    return out


def _unmatched(before: list[_Seen], now: list[_Seen], reach: float
               ) -> tuple[list[_Seen], list[_Seen]]:
    """The objects of ``before`` and of ``now`` that no match within ``reach`` pairs."""
    pairs = match(np.array([s.centre for s in before]).reshape(-1, 2),
                  np.array([s.centre for s in now]).reshape(-1, 2), reach)
    paired_a, paired_b = {i for i, _, _ in pairs}, {j for _, j, _ in pairs}
    return ([s for i, s in enumerate(before) if i not in paired_a],
            [s for j, s in enumerate(now) if j not in paired_b])
