"""Judge ``tracking``: a video of the ``motion`` world against the simulator's truth.

Every frame is parsed exactly as a ``shapes`` image is (:func:`genlab.judges.detect.
detect_batch`: colour, shape and box of each object), and every blob (bodies that
touch or overlap, one connected component to the detector) that two or three of the
scene's bodies explain pixel for pixel is parted into them
(:func:`genlab.judges.parting.part_blobs`, judge 1.2; 1.3: each part showing its own
pixels). Each frame is then compared with
the reference rollout (the simulator's states for the same initial scene, frame rate
and length, :class:`genlab.worlds.motion.physics.Trajectory`):

- ``count_ok``: for every kind (colour x shape) the frame shows as many objects as the
  reference has bodies of that kind in view (this and the next two are nan on frames
  the exact parse cannot judge even for the simulator's own render: a body partly out
  of view, or more than three bodies touching in one group, :func:`judgeable`);
- ``colour_ok``: every object in the frame is a kind of the scene (no colour drift,
  no unknown colour, no blob left unparted);
- ``position_error_px``: the mean distance, in pixels, between each reference body in
  view and the object matched to it (Hungarian matching on distance within a kind,
  Kuhn, 1955, at any distance; a body with no object of its kind left is counted by
  ``count_ok`` instead; nan where nothing is matched, e.g. an empty view);
- ``identity_ok``: objects are tracked from frame to frame on their own (matching
  within a kind to the track's last position, as SORT does, Bewley et al., 2016; an
  object missing from a frame keeps its track, and the nearest unclaimed object of its
  kind takes it up again). A frame is identity-consistent when every track is matched
  to the same reference body as when the track began. Tracks begin afresh after every
  frame that cannot be judged, and a kind's tracks after every frame where two bodies
  of that kind touch, in the reference or in the video: two bodies of one kind that
  meet (equal discs that bounce apart make the pixels of discs that pass through each
  other) or that leave and come back are indistinguishable to a pixel parser, so which
  is which across such a frame is not scored (it is ambiguous, not wrong);
- ``permanence_ok``: object permanence read from the video alone, no truth path used
  (:mod:`genlab.judges.permanence`): every body of the scene is in view or gone out
  through an open side of the view, and none is made or changed (nan on a frame with a
  blob it cannot count);
- ``flicker``: the mean absolute change, in [0, 1], between consecutive frames over
  the pixels that are background in both reference frames (0 for a still background).

Drift curves are window means of these per-frame series (:meth:`TrackingResult.curve`).
The judge never sees a generator; a test checks that the simulator's own frames score
perfectly.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import connected_components

from genlab.contracts import check_images
from genlab.errors import InputError
from genlab.judges.detect import BLOB, UNKNOWN, DetectedObject, Detections, detect_batch
from genlab.judges.matching import match
from genlab.judges.parting import MAX_PARTS, Part, Parting, part_blobs
from genlab.judges.permanence import permanence
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import Trajectory
from genlab.worlds.motion.spec import Body
from genlab.worlds.shapes import vocab

NAME, VERSION = "tracking", "1.3"
# 1.1: box gaps in judgeable(), ungated position error
# 1.2: blobs parted into the scene's bodies (parting.py); touching bodies are judged,
#      and identities of a kind re-anchor after two bodies of that kind touch
# 1.3: permanence_ok, object permanence from the video's own pixels (permanence.py);
#      a parted blob's every part must show its own pixels (parting.MIN_SHOWN)
GATE = 0.25  # the farthest (image fraction) a match may be to anchor or keep an identity
SERIES = ("count_ok", "colour_ok", "identity_ok", "position_error_px", "flicker",
          "permanence_ok")


@dataclass(frozen=True)
class TrackingResult:
    """Per-frame series ``(frames,)`` of a judged video (see the module docstring); the
    ``*_ok`` series are 1 / 0 / nan (not judgeable)."""

    fps: int
    count_ok: np.ndarray
    colour_ok: np.ndarray
    identity_ok: np.ndarray
    position_error_px: np.ndarray
    flicker: np.ndarray
    permanence_ok: np.ndarray

    def __len__(self) -> int:
        return len(self.count_ok)

    def series(self, name: str) -> np.ndarray:
        if name not in SERIES:
            raise InputError(f"unknown tracking series {name!r}; accepted: {', '.join(SERIES)}")
        return np.asarray(getattr(self, name), np.float64)

    def mean(self, name: str, lo: int = 0, hi: int | None = None) -> float:
        """The series' mean over frames ``lo:hi`` (nan frames left out)."""
        part = self.series(name)[lo:hi]
        return float(np.nanmean(part)) if np.isfinite(part).any() else float("nan")

    def curve(self, name: str, window_s: float) -> tuple[np.ndarray, np.ndarray]:
        """``(window start seconds, window mean)`` of a series over windows of
        ``window_s`` seconds: the drift curve."""
        step = max(1, int(round(window_s * self.fps)))
        starts = np.arange(0, len(self), step)
        means = [self.mean(name, int(lo), int(lo) + step) for lo in starts]
        return starts / self.fps, np.array(means)


def _kind(o: DetectedObject) -> tuple[str, str]:
    return o.colour, o.shape


class _Tracks:
    """Frame-to-frame tracks of one kind, with object permanence (lost tracks wait)."""

    def __init__(self) -> None:
        self.last: list[np.ndarray] = []   # each track's last position
        self.body: list[int] = []          # the reference body it was first matched to
        self.seen: list[bool] = []         # whether it was matched in the last frame

    def step(self, points: np.ndarray) -> list[int]:
        """The track of each point (new tracks are made for unclaimed points)."""
        owner = [-1] * len(points)
        live = [k for k, s in enumerate(self.seen) if s]
        for i, j, _ in match(points, np.array([self.last[k] for k in live]).reshape(-1, 2),
                             GATE):
            owner[i] = live[j]
        lost = [k for k, s in enumerate(self.seen) if not s]
        for i in range(len(points)):
            if owner[i] < 0:
                if lost:  # permanence: a returning object is the one that left nearest
                    k = min(lost, key=lambda q: float(np.linalg.norm(self.last[q] - points[i])))
                    lost.remove(k)
                    owner[i] = k
                else:
                    self.last.append(points[i])
                    self.body.append(-1)
                    self.seen.append(True)
                    owner[i] = len(self.last) - 1
        for k in range(len(self.seen)):
            self.seen[k] = k in owner
        for i, k in enumerate(owner):
            self.last[k] = points[i]
        return owner


def track(frames: np.ndarray, reference: Trajectory) -> TrackingResult:
    """Judge ``frames`` ``(T, H, W, 3) uint8`` against the reference rollout ``reference``
    (the simulator's states of the same scene, at the same fps, ``T`` frames)."""
    check_images(frames, what="frames")
    if frames.shape[1] != frames.shape[2]:
        raise InputError(f"frames must be square (T, H, H, 3), got {frames.shape}")
    if len(frames) != len(reference):
        raise InputError(f"{len(frames)} frames against a reference of {len(reference)}; a "
                         "video is judged against the rollout of its own length and fps")
    size = frames.shape[1]
    bodies = reference.scene.bodies
    kinds = [(b.colour, b.shape) for b in bodies]
    visible = reference.visible()
    tracks = {k: _Tracks() for k in set(kinds)}
    n = len(frames)
    judged = judgeable(reference, size)
    touch = touching(reference, size)
    count_ok, colour_ok, identity_ok = (np.full(n, np.nan) for _ in range(3))
    error = np.full(n, np.nan)
    mixed: set[tuple[str, str]] = set()  # kinds whose bodies touched in the last frame
    parsed = parse(frames, bodies)
    for t, det in enumerate(parsed):
        if t and not judged[t - 1]:  # identities re-anchor after an ambiguous frame
            tracks = {k: _Tracks() for k in tracks}
        for k in mixed:  # and a kind's after two of its bodies touched (see docstring)
            tracks[k] = _Tracks()
        objs = list(det.objects)
        mixed = {kinds[i] for i, j in np.argwhere(touch[t]) if kinds[i] == kinds[j]}
        mixed |= _touching_kinds(objs, size)
        colour = all(_kind(o) in tracks for o in objs)
        count = all(sum(_kind(o) == k for o in objs)
                    == sum(kinds[b] == k and visible[t, b] for b in range(len(bodies)))
                    for k in tracks)
        dists, consistent = [], True
        for k, tr in tracks.items():
            points = np.array([[o.cx, o.cy] for o in objs if _kind(o) == k]).reshape(-1, 2)
            refs = [b for b in range(len(bodies)) if kinds[b] == k and visible[t, b]]
            owner = tr.step(points)
            truth = reference.pos[t, refs].reshape(-1, 2)
            # the error has no gate (an object far from its body is far, not unmatched);
            # identities are anchored only on matches within the gate
            dists += [d for _, _, d in match(points, truth, np.inf)]
            for i, j, _ in match(points, truth, GATE):
                body = refs[j]
                if tr.body[owner[i]] < 0:
                    tr.body[owner[i]] = body
                consistent &= tr.body[owner[i]] == body
        if judged[t]:
            count_ok[t], colour_ok[t], identity_ok[t] = count, colour, consistent
        if dists:
            error[t] = float(np.mean(dists)) * size
    return TrackingResult(reference.fps, count_ok, colour_ok, identity_ok, error,
                          _flicker(frames, reference),
                          permanence(parsed, reference.scene, size, reference.fps))


def _touching_kinds(objs: Sequence[DetectedObject], size: int, gap_px: float = 2.0
                    ) -> set[tuple[str, str]]:
    """Kinds of which two objects in a frame are closer than ``gap_px`` pixels (as
    :func:`touching` measures bodies: discs for two circles, boxes otherwise)."""
    out = set()
    for a, b in itertools.combinations(objs, 2):
        if _kind(a) != _kind(b) or a.shape == BLOB:
            continue
        half = (a.box.x1 - a.box.x0 + b.box.x1 - b.box.x0) / 2
        if _gap(np.array([a.cx - b.cx, a.cy - b.cy]), half, a.shape == "circle") < gap_px / size:
            out.add(_kind(a))
    return out


def parse(frames: np.ndarray, bodies: Sequence[Body]) -> list[Detections]:
    """Each frame's detections, with blobs parted into the scene's bodies (each frame's
    partings are the next frame's first guesses; a frame the same as the one before,
    as in a frozen video, is parted once)."""
    parts = [Part(b.shape, b.colour, b.size) for b in bodies]
    out: list[Detections] = []
    last: tuple[bytes, Detections] | None = None
    hints: tuple[Parting, ...] = ()
    for frame, det in zip(frames, detect_batch(frames), strict=True):
        if any(o.shape == BLOB or o.colour == UNKNOWN for o in det.objects):
            key = frame.tobytes()
            if last is None or last[0] != key:
                parted, hints = part_blobs(frame, det, parts, hints=hints)
                last = key, parted
            det = last[1]
        else:
            hints = ()
        out.append(det)
    return out


def judgeable(reference: Trajectory, size: int, gap_px: float = 2.0) -> np.ndarray:
    """``(frames,) bool``: frames whose exact parse is defined: every body in view lies
    wholly inside it (a clipped shape is no shape), and no group of more than
    :data:`~genlab.judges.parting.MAX_PARTS` bodies touches (:func:`touching`: one
    connected blob to a pixel parser, which :func:`~genlab.judges.parting.part_blobs`
    parts into at most that many)."""
    bodies = reference.scene.bodies
    r = np.array([b.radius for b in bodies])
    x, y = reference.pos[..., 0], reference.pos[..., 1]
    inside = (x - r >= 0) & (x + r <= 1) & (y - r >= 0) & (y + r <= 1)
    ok = (inside | ~reference.visible()).all(axis=1)
    touch = touching(reference, size, gap_px)
    for t in np.flatnonzero(touch.any(axis=2).sum(axis=1) > MAX_PARTS):
        groups = connected_components(touch[t], directed=False)[1]
        ok[t] &= np.bincount(groups).max() <= MAX_PARTS
    return ok


def touching(reference: Trajectory, size: int, gap_px: float = 2.0) -> np.ndarray:
    """``(frames, n, n) bool``: pairs of bodies in view closer than ``gap_px`` pixels
    (judge 1.1 left every frame with such a pair unjudged). Two circles are as close as
    their discs; any other pair as their boxes (bodies collide as discs, so two squares
    meeting corner to corner overlap on screen while their discs are apart)."""
    bodies = reference.scene.bodies
    r = np.array([b.radius for b in bodies])
    visible = reference.visible()
    delta = reference.pos[:, :, None] - reference.pos[:, None, :]          # (T, n, n, 2)
    circles = np.array([b.shape == "circle" for b in bodies])
    gap = _gap(delta, r[:, None] + r[None, :], circles[:, None] & circles[None, :])
    both = visible[:, :, None] & visible[:, None, :]
    np.einsum("tii->ti", both)[:] = False  # a body and itself
    return (gap < gap_px / size) & both


def _gap(delta: np.ndarray, half_sum: np.ndarray | float, round_: np.ndarray | bool
         ) -> np.ndarray:
    """The gap between two bodies whose centres are ``delta`` ``(..., 2)`` apart and
    whose half-sides sum to ``half_sum``: as discs where both are circles (``round_``),
    as boxes otherwise."""
    d = np.where(round_, np.linalg.norm(delta, axis=-1), np.abs(delta).max(axis=-1))
    return d - half_sum


def _flicker(frames: np.ndarray, reference: Trajectory) -> np.ndarray:
    """Per frame (0 for the first): mean |change| over pixels background in both
    reference frames."""
    out = np.zeros(len(frames))
    if len(frames) < 2:
        return out
    truth = render_frames(reference, frames.shape[1])
    colour = np.array(vocab.BACKGROUNDS[reference.scene.background], np.uint8)
    background = (truth == colour).all(-1)                               # (T, H, W)
    both = background[1:] & background[:-1]
    change = np.abs(frames[1:].astype(np.int16) - frames[:-1]).mean(-1) / 255.0
    total = (change * both).sum(axis=(1, 2))
    out[1:] = total / np.maximum(both.sum(axis=(1, 2)), 1)
    return out
